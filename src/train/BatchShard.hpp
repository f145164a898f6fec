#pragma once
// Which slice of a global batch a rank owns: the first (B mod N) ranks get
// one sample more. The loss is weighted by 1/B (global), so summing
// gradients over ranks gives the global-batch gradient for any split.
#include <cstdint>

namespace flowlat {

struct BatchShard {
  int64_t begin;  // first global index owned by this rank
  int64_t count;  // number owned
  static BatchShard of(int64_t global_batch, int rank, int size);
};

}  // namespace flowlat
