#include "train/EffectiveSampleSize.hpp"

#include <cmath>
#include <limits>

namespace flowlat {

double effective_sample_size(const torch::Tensor& log_w) {
  // Shift by the max: sums of exp(<= 0) cannot overflow, and equal weights
  // give exactly N and N, so ESS = 1 without rounding.
  const torch::Tensor shifted = log_w.to(torch::kFloat64).flatten();
  const torch::Tensor w = (shifted - shifted.max()).exp();
  const double sum_w = w.sum().item<double>();
  const double sum_w2 = (w * w).sum().item<double>();
  return sum_w * sum_w / (static_cast<double>(w.numel()) * sum_w2);
}

double WeightSums::log_mean_w() const { return shift + std::log(sum_w) - std::log(count); }

WeightSums global_weight_sums(const torch::Tensor& log_w, const Communicator& comm, std::vector<double>* extra) {
  const torch::Tensor lw = log_w.detach().to(torch::kCPU, torch::kFloat64).flatten();
  const double local_max = lw.numel() > 0 ? lw.max().item<double>() : -std::numeric_limits<double>::infinity();
  WeightSums sums;
  sums.shift = comm.max(local_max);
  std::vector<double> buffer{0.0, 0.0, static_cast<double>(lw.numel())};
  if (lw.numel() > 0 && std::isfinite(sums.shift)) {
    const torch::Tensor shifted = lw - sums.shift;
    buffer[0] = shifted.exp().sum().item<double>();
    buffer[1] = (2.0 * shifted).exp().sum().item<double>();
  }
  if (extra) buffer.insert(buffer.end(), extra->begin(), extra->end());
  comm.sum_in_place(buffer.data(), static_cast<int>(buffer.size()));
  sums.sum_w = buffer[0];
  sums.sum_w2 = buffer[1];
  sums.count = buffer[2];
  if (extra) std::copy(buffer.begin() + 3, buffer.end(), extra->begin());
  return sums;
}

}  // namespace flowlat
