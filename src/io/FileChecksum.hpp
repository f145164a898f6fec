#pragma once
// Content checksum of a file, recorded in outputs that depend on it
// (ensembles record their model's). Local.
#include <string>

namespace flowlat {

// "fnv1a64:<16 hex digits>" of the file's bytes; throws if unreadable. Local.
std::string file_checksum(const std::string& path);
// The same for bytes in memory. Local.
std::string bytes_checksum(const std::string& bytes);

}  // namespace flowlat
