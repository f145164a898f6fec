#pragma once
// Prior r(z) = prod_x N(z(x); 0, 1), drawn from keyed random streams
// (random/RandomStreams.hpp): each configuration (or batch) gets its own
// generator seeded by its key, so what is drawn never depends on which rank
// draws it.
#include <torch/torch.h>

#include <cstdint>
#include <vector>

#include "lattice/Lattice.hpp"
#include "random/RandomStreams.hpp"

namespace flowlat {

class GaussianPrior {
 public:
  explicit GaussianPrior(Lattice lattice) : lattice_(std::move(lattice)) {}

  // One configuration per key, stacked: [keys.size(), L1, ..., Ld] with the
  // given dtype/device (drawn on the CPU). Local.
  torch::Tensor draw(const std::vector<uint64_t>& keys, const torch::TensorOptions& options) const;
  // `count` configurations from one stream `key`. Local.
  torch::Tensor draw_block(uint64_t key, int64_t count, const torch::TensorOptions& options) const;
  // log r(z), reduced in float64: [B]. Local.
  torch::Tensor log_prob(const torch::Tensor& z) const;

  const Lattice& lattice() const { return lattice_; }

 private:
  Lattice lattice_;
};

}  // namespace flowlat
