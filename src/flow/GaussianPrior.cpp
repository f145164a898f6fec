#include "flow/GaussianPrior.hpp"

#include <ATen/CPUGeneratorImpl.h>

#include <cmath>

namespace flowlat {

torch::Tensor GaussianPrior::draw_block(uint64_t key, int64_t count, const torch::TensorOptions& options) const {
  auto generator = at::make_generator<at::CPUGeneratorImpl>(key);
  const auto cpu = options.device(torch::kCPU);
  return torch::randn(lattice_.batch_shape(count), generator, cpu).to(options.device());
}

torch::Tensor GaussianPrior::draw(const std::vector<uint64_t>& keys, const torch::TensorOptions& options) const {
  std::vector<torch::Tensor> configs;
  configs.reserve(keys.size());
  const auto cpu = options.device(torch::kCPU);
  for (uint64_t key : keys) {
    auto generator = at::make_generator<at::CPUGeneratorImpl>(key);
    configs.push_back(torch::randn(lattice_.shape(), generator, cpu));
  }
  if (configs.empty()) return torch::empty(lattice_.batch_shape(0), options);
  return torch::stack(configs).to(options.device());
}

torch::Tensor GaussianPrior::log_prob(const torch::Tensor& z) const {
  const torch::Tensor z64 = z.to(torch::kFloat64);
  const double normalisation = 0.5 * std::log(2.0 * M_PI) * static_cast<double>(lattice_.volume());
  return -0.5 * (z64 * z64).flatten(1).sum(1) - normalisation;
}

}  // namespace flowlat
