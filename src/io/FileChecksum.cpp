#include "io/FileChecksum.hpp"

#include <cstdint>
#include <cstdio>
#include <fstream>
#include <stdexcept>
#include <vector>

namespace flowlat {

namespace {
constexpr uint64_t kFnvOffset = 1469598103934665603ULL;

uint64_t fnv1a64(const char* data, size_t n, uint64_t hash) {
  for (size_t i = 0; i < n; ++i) {
    hash ^= static_cast<unsigned char>(data[i]);
    hash *= 1099511628211ULL;
  }
  return hash;
}

std::string format_checksum(uint64_t hash) {
  char text[32];
  std::snprintf(text, sizeof text, "%016llx", static_cast<unsigned long long>(hash));
  return std::string("fnv1a64:") + text;
}
}  // namespace

std::string file_checksum(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error(path + ": cannot read for checksum");
  uint64_t hash = kFnvOffset;
  std::vector<char> buffer(1 << 16);
  while (in.read(buffer.data(), static_cast<std::streamsize>(buffer.size())) || in.gcount() > 0) {
    hash = fnv1a64(buffer.data(), static_cast<size_t>(in.gcount()), hash);
  }
  return format_checksum(hash);
}

std::string bytes_checksum(const std::string& bytes) {
  return format_checksum(fnv1a64(bytes.data(), bytes.size(), kFnvOffset));
}

}  // namespace flowlat
