#pragma once
// Sizes of memory and files as people read them, in decimal units.
#include <string>

namespace flowlat {

// "512.0 MB", "3.2 GB", "1.5 TB". Local.
std::string byte_count_text(double bytes);

}  // namespace flowlat
