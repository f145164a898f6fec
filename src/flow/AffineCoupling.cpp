#include "flow/AffineCoupling.hpp"

namespace flowlat {

AffineCouplingImpl::AffineCouplingImpl(const Lattice& lattice, int parity, torch::nn::Sequential net)
    : net_(register_module("net", std::move(net))) {
  frozen_mask_ = register_buffer("frozen_mask", lattice.checkerboard(parity));
  active_mask_ = register_buffer("active_mask", 1.0 - frozen_mask_);
}

std::pair<torch::Tensor, torch::Tensor> AffineCouplingImpl::shift_and_scale(const torch::Tensor& frozen) {
  const torch::Tensor out = net_->forward(frozen.unsqueeze(1));
  const torch::Tensor s = active_mask_ * out.select(1, 0);
  const torch::Tensor t = active_mask_ * out.select(1, 1);
  return {s, t};
}

namespace {
torch::Tensor sum_sites_float64(const torch::Tensor& s) {
  return s.to(torch::kFloat64).flatten(1).sum(1);
}
}  // namespace

CouplingResult AffineCouplingImpl::forward(const torch::Tensor& x) {
  const torch::Tensor frozen = frozen_mask_ * x;
  auto [s, t] = shift_and_scale(frozen);
  const torch::Tensor fx = frozen + active_mask_ * x * torch::exp(s) + t;
  return {fx, sum_sites_float64(s)};
}

CouplingResult AffineCouplingImpl::reverse(const torch::Tensor& fx) {
  const torch::Tensor frozen = frozen_mask_ * fx;
  auto [s, t] = shift_and_scale(frozen);
  const torch::Tensor x = frozen + active_mask_ * (fx - t) * torch::exp(-s);
  return {x, -sum_sites_float64(s)};
}

}  // namespace flowlat
