#pragma once
// Log lines: every line a job prints as it goes (progress, resumption,
// results) starts with the UTC time, so a batch job's log shows when each
// thing happened. The run header's configuration echo and result tables are
// printed without it.
#include <cstdio>
#include <string>

#include "provenance/UtcTime.hpp"

namespace flowlat {

// printf-formats `format` and writes it to `out` with the timestamp before
// every non-empty line, then flushes. Local (callers print on rank 0).
void log_to(std::FILE* out, const char* format, ...) __attribute__((format(printf, 2, 3)));

// The same on stdout. Local.
void log_line(const char* format, ...) __attribute__((format(printf, 1, 2)));

}  // namespace flowlat
