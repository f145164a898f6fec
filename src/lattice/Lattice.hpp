#pragma once
// Periodic hypercubic lattice (d = 1, 2 or 3, every extent even) and its
// checkerboard masks. Configurations are tensors [batch, L1, ..., Ld].
#include <torch/torch.h>

#include <cstdint>
#include <vector>

namespace flowlat {

class Lattice {
 public:
  explicit Lattice(std::vector<int64_t> shape);

  const std::vector<int64_t>& shape() const { return shape_; }
  int64_t dim() const { return static_cast<int64_t>(shape_.size()); }
  int64_t volume() const { return volume_; }
  // [batch, L1, ..., Ld]
  std::vector<int64_t> batch_shape(int64_t batch) const;

  // 1 where (sum of coordinates + parity) is even, else 0: the tutorial's
  // make_checker_mask(shape, parity) in any dimension. Local.
  torch::Tensor checkerboard(int parity, const torch::TensorOptions& options = {}) const;

 private:
  std::vector<int64_t> shape_;
  int64_t volume_;
};

}  // namespace flowlat
