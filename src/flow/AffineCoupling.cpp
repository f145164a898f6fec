#include "flow/AffineCoupling.hpp"

namespace flowlat {
namespace {

// Reduced in float64 (one kernel: the sum converts as it accumulates).
torch::Tensor sum_sites_float64(const torch::Tensor& s) {
  return s.flatten(1).sum(/*dim=*/{1}, /*keepdim=*/false, torch::kFloat64);
}

// Under phi -> -phi the scale stays and the shift changes sign.
ChannelMirror affine_mirror() { return {{0, 1}, {1.0, -1.0}}; }

}  // namespace

AffineCouplingImpl::AffineCouplingImpl(const Lattice& lattice, int parity, torch::nn::Sequential net,
                                       Equivariance equivariance)
    : net_(register_module("net", net)),
      coupling_net_(lattice, parity, net, equivariance, affine_mirror()),
      equivariance_(equivariance) {
  frozen_mask_ = register_buffer("frozen_mask", lattice.checkerboard(parity));
  active_mask_ = register_buffer("active_mask", 1.0 - frozen_mask_);
}

std::pair<torch::Tensor, torch::Tensor> AffineCouplingImpl::shift_and_scale(const torch::Tensor& frozen) {
  // One mask multiplication for both channels.
  const torch::Tensor out = net_->forward(frozen.unsqueeze(1)) * active_mask_;
  return {out.select(1, 0), out.select(1, 1)};
}

CouplingResult AffineCouplingImpl::apply(const torch::Tensor& x, CouplingDirection direction) {
  const bool forward = direction == CouplingDirection::Forward;
  if (equivariance_ == Equivariance::Z2) {
    const torch::Tensor out = coupling_net_.outputs(x, kernel_);  // [B, Va, 2]
    const torch::Tensor s = out.select(2, 0), t = out.select(2, 1);
    const torch::Tensor a = coupling_net_.active(x);
    const torch::Tensor y = forward ? a * torch::exp(s) + t : (a - t) * torch::exp(-s);
    const torch::Tensor log_det = sum_sites_float64(s);
    return {coupling_net_.with_active(x, y), forward ? log_det : -log_det};
  }
  if (resolve_coupling_kernel(kernel_, x.device()) == CouplingKernel::Fused) {
    auto [y, log_det] = fused_coupling(x, net_->parameters(), coupling_net_.spec(), direction);
    return {y, log_det};
  }
  // The reference path (GPUs): s = t = 0 on the frozen sites, where
  // x e^s + t = x exactly, so no masks are needed in the update: about 14
  // kernel launches per layer instead of 20.
  auto [s, t] = shift_and_scale(frozen_mask_ * x);
  if (forward) return {torch::addcmul(t, x, torch::exp(s)), sum_sites_float64(s)};
  return {(x - t) * torch::exp(-s), -sum_sites_float64(s)};
}

CouplingResult AffineCouplingImpl::forward(const torch::Tensor& x) { return apply(x, CouplingDirection::Forward); }

CouplingResult AffineCouplingImpl::reverse(const torch::Tensor& fx) { return apply(fx, CouplingDirection::Reverse); }

}  // namespace flowlat
