#pragma once
// Whole-file writes that a reader never sees half done.
#include <string>

namespace flowlat {

// Writes `text` to `path` via a temporary file and rename. Local.
void write_file_atomically(const std::string& path, const std::string& text);

}  // namespace flowlat
