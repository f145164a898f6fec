#include "random/RandomStreams.hpp"

namespace flowlat {
namespace {
uint64_t splitmix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ULL;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
  return x ^ (x >> 31);
}
}  // namespace

uint64_t stream_key(uint64_t seed, StreamPurpose purpose, uint64_t a, uint64_t b) {
  uint64_t key = splitmix64(seed);
  key = splitmix64(key ^ static_cast<uint64_t>(purpose));
  key = splitmix64(key ^ a);
  return splitmix64(key ^ b);
}

}  // namespace flowlat
