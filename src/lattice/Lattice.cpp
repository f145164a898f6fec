#include "lattice/Lattice.hpp"

#include <stdexcept>
#include <string>

namespace flowlat {

Lattice::Lattice(std::vector<int64_t> shape) : shape_(std::move(shape)), volume_(1) {
  if (shape_.empty() || shape_.size() > 3) {
    throw std::invalid_argument("Lattice: dimension must be 1, 2 or 3, got " + std::to_string(shape_.size()));
  }
  for (int64_t extent : shape_) {
    if (extent < 2 || extent % 2 != 0) {
      throw std::invalid_argument("Lattice: extents must be even and >= 2, got " + std::to_string(extent));
    }
    volume_ *= extent;
  }
}

std::vector<int64_t> Lattice::batch_shape(int64_t batch) const {
  std::vector<int64_t> result{batch};
  result.insert(result.end(), shape_.begin(), shape_.end());
  return result;
}

torch::Tensor Lattice::checkerboard(int parity, const torch::TensorOptions& options) const {
  // Sum of coordinates, built one axis at a time by broadcasting.
  torch::Tensor coordinate_sum = torch::zeros(shape_, torch::kInt64);
  for (int64_t axis = 0; axis < dim(); ++axis) {
    std::vector<int64_t> view(shape_.size(), 1);
    view[axis] = shape_[axis];
    coordinate_sum = coordinate_sum + torch::arange(shape_[axis], torch::kInt64).view(view);
  }
  // Tutorial: sites with even coordinate sum carry `parity`, odd ones 1 - parity.
  torch::Tensor even = (coordinate_sum % 2 == 0);
  torch::Tensor mask = parity == 0 ? even.logical_not() : even;
  return mask.to(options.dtype_opt().has_value() ? options : options.dtype(torch::kFloat32));
}

}  // namespace flowlat
