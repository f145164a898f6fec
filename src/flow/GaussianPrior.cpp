#include "flow/GaussianPrior.hpp"

#include <ATen/CPUGeneratorImpl.h>
#include <ATen/Parallel.h>

#include <cmath>

namespace flowlat {

torch::Tensor GaussianPrior::draw_block(uint64_t key, int64_t count, const torch::TensorOptions& options) const {
  auto generator = at::make_generator<at::CPUGeneratorImpl>(key);
  const auto cpu = options.device(torch::kCPU);
  return torch::randn(lattice_.batch_shape(count), generator, cpu).to(options.device());
}

torch::Tensor GaussianPrior::draw(const std::vector<uint64_t>& keys, const torch::TensorOptions& options) const {
  // Each configuration from its own keyed generator (so a configuration
  // does not depend on the batch or the rank count), written in place into
  // one host batch by the rank's threads; for a GPU the batch is pinned and
  // copied asynchronously. normal_ on a row is what randn does on a fresh
  // tensor: the same numbers.
  const int64_t count = static_cast<int64_t>(keys.size());
  const bool device = !options.device().is_cpu();
  torch::Tensor host = torch::empty(lattice_.batch_shape(count),
                                    options.device(torch::kCPU).pinned_memory(options.device().is_cuda()));
  at::parallel_for(0, count, 8, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      auto generator = at::make_generator<at::CPUGeneratorImpl>(keys[static_cast<size_t>(i)]);
      host[i].normal_(0.0, 1.0, generator);
    }
  });
  return device ? host.to(options.device(), /*non_blocking=*/true) : host;
}

torch::Tensor GaussianPrior::log_prob(const torch::Tensor& z) const {
  const torch::Tensor z64 = z.to(torch::kFloat64);
  const double normalisation = 0.5 * std::log(2.0 * M_PI) * static_cast<double>(lattice_.volume());
  return -0.5 * (z64 * z64).flatten(1).sum(1) - normalisation;
}

}  // namespace flowlat
