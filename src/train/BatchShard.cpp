#include "train/BatchShard.hpp"

#include <algorithm>

namespace flowlat {

BatchShard BatchShard::of(int64_t global_batch, int rank, int size) {
  const int64_t base = global_batch / size;
  const int64_t extra = global_batch % size;
  const int64_t begin = rank * base + std::min<int64_t>(rank, extra);
  return {begin, base + (rank < extra ? 1 : 0)};
}

}  // namespace flowlat
