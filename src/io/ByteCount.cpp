#include "io/ByteCount.hpp"

#include <cstdio>

namespace flowlat {

std::string byte_count_text(double bytes) {
  char text[32];
  if (bytes >= 1e12) {
    std::snprintf(text, sizeof text, "%.1f TB", bytes / 1e12);
  } else if (bytes >= 1e9) {
    std::snprintf(text, sizeof text, "%.1f GB", bytes / 1e9);
  } else {
    std::snprintf(text, sizeof text, "%.1f MB", bytes / 1e6);
  }
  return text;
}

}  // namespace flowlat
