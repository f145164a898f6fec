#pragma once
// The one format of a time in flowlat's outputs: log lines, the `created`
// attribute of ensembles.
#include <string>

namespace flowlat {

// "2026-11-30T19:58:03Z": now, UTC, to the second (thread-safe). Local.
std::string utc_timestamp();

}  // namespace flowlat
