#include "flow/AffineCoupling.hpp"

namespace flowlat {

AffineCouplingImpl::AffineCouplingImpl(const Lattice& lattice, int parity, torch::nn::Sequential net)
    : net_(register_module("net", std::move(net))) {
  frozen_mask_ = register_buffer("frozen_mask", lattice.checkerboard(parity));
  active_mask_ = register_buffer("active_mask", 1.0 - frozen_mask_);
  // The fused kernel reads the architecture off the modules.
  const torch::Tensor first_weight = net_->parameters().front();
  spec_.stencil = CouplingStencil::build(lattice, parity, first_weight.size(-1));
  const auto last = net_->children().back();
  spec_.activation = last->as<torch::nn::Tanh>() ? OutputActivation::Tanh : OutputActivation::None;
  for (const auto& child : net_->children()) {
    if (auto* relu = child->as<torch::nn::LeakyReLU>()) spec_.negative_slope = relu->options.negative_slope();
  }
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

CouplingResult AffineCouplingImpl::fused(const torch::Tensor& x, CouplingDirection direction) {
  auto [y, log_det] = fused_coupling(x, net_->parameters(), spec_, direction);
  return {y, log_det};
}

CouplingResult AffineCouplingImpl::forward(const torch::Tensor& x) {
  if (resolve_coupling_kernel(kernel_, x.device()) == CouplingKernel::Fused) {
    return fused(x, CouplingDirection::Forward);
  }
  const torch::Tensor frozen = frozen_mask_ * x;
  auto [s, t] = shift_and_scale(frozen);
  const torch::Tensor fx = frozen + active_mask_ * x * torch::exp(s) + t;
  return {fx, sum_sites_float64(s)};
}

CouplingResult AffineCouplingImpl::reverse(const torch::Tensor& fx) {
  if (resolve_coupling_kernel(kernel_, fx.device()) == CouplingKernel::Fused) {
    return fused(fx, CouplingDirection::Reverse);
  }
  const torch::Tensor frozen = frozen_mask_ * fx;
  auto [s, t] = shift_and_scale(frozen);
  const torch::Tensor x = frozen + active_mask_ * (fx - t) * torch::exp(-s);
  return {x, -sum_sites_float64(s)};
}

}  // namespace flowlat
