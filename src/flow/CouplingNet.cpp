#include "flow/CouplingNet.hpp"

namespace flowlat {

CouplingNet::CouplingNet(const Lattice& lattice, int parity, torch::nn::Sequential net, Equivariance equivariance,
                         ChannelMirror mirror)
    : net_(std::move(net)), equivariance_(equivariance), frozen_mask_(lattice.checkerboard(parity)) {
  // The fused kernel reads the architecture off the modules.
  const torch::Tensor first_weight = net_->parameters().front();
  spec_.stencil = CouplingStencil::build(lattice, parity, first_weight.size(-1));
  const auto last = net_->children().back();
  spec_.activation = last->as<torch::nn::Tanh>() ? OutputActivation::Tanh : OutputActivation::None;
  for (const auto& child : net_->children()) {
    if (auto* relu = child->as<torch::nn::LeakyReLU>()) spec_.negative_slope = relu->options.negative_slope();
  }
  mirror_source_ = torch::tensor(mirror.source, torch::kInt64);
  mirror_sign_ = torch::tensor(mirror.sign, torch::kFloat64);
}

torch::Tensor CouplingNet::raw_outputs(const torch::Tensor& frozen, CouplingKernel kernel) {
  const int64_t batch = frozen.size(0);
  if (resolve_coupling_kernel(kernel, frozen.device()) == CouplingKernel::Fused) {
    return fused_conv_net(frozen.reshape({batch, spec_.stencil.volume}), net_->parameters(), spec_);
  }
  const torch::Tensor out = net_->forward(frozen.unsqueeze(1)).flatten(2);  // [B, C, V]
  return out.index_select(2, spec_.stencil.active_sites.to(out.device())).transpose(1, 2);
}

torch::Tensor CouplingNet::outputs(const torch::Tensor& x, CouplingKernel kernel) {
  const torch::Tensor frozen = x * frozen_mask_.to(x.options());
  if (equivariance_ == Equivariance::None) return raw_outputs(frozen, kernel);
  // One network call on [phi; -phi].
  const torch::Tensor both = raw_outputs(torch::cat({frozen, -frozen}), kernel);
  const int64_t batch = x.size(0);
  const torch::Tensor plus = both.narrow(0, 0, batch);
  const torch::Tensor minus = both.narrow(0, batch, batch).index_select(2, mirror_source_.to(x.device()));
  return 0.5 * (plus + minus * mirror_sign_.to(x.options()));
}

torch::Tensor CouplingNet::active(const torch::Tensor& x) const {
  return x.reshape({x.size(0), spec_.stencil.volume}).index_select(1, spec_.stencil.active_sites.to(x.device()));
}

torch::Tensor CouplingNet::with_active(const torch::Tensor& x, const torch::Tensor& values) const {
  const torch::Tensor flat = x.reshape({x.size(0), spec_.stencil.volume});
  return flat.index_copy(1, spec_.stencil.active_sites.to(x.device()), values).view(x.sizes());
}

}  // namespace flowlat
