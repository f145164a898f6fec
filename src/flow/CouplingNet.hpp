#pragma once
// The network of a coupling layer evaluated on its frozen sites, read out
// on its active sites: [B, Va, C] for C output channels, by LibTorch's
// modules (any device) or the fused CPU kernel (FusedNet), the same
// parameters either way. With Z2 equivariance the network sees phi and
// -phi and its outputs are combined so that the layer is odd:
//   out(phi) = (N(phi) + M N(-phi)) / 2
// where the mirror M (a signed permutation of the channels, M^2 = 1)
// describes how the transformation's parameters change under phi -> -phi.
#include <torch/torch.h>

#include <vector>

#include "config/Config.hpp"
#include "flow/CouplingKernel.hpp"
#include "flow/FusedNet.hpp"
#include "lattice/Lattice.hpp"

namespace flowlat {

// out'[c] = sign[c] * out[source[c]].
struct ChannelMirror {
  std::vector<int64_t> source;
  std::vector<double> sign;
};

class CouplingNet {
 public:
  // `net` is the layer's registered Sequential (Conv, LeakyReLU, ..., optional Tanh).
  CouplingNet(const Lattice& lattice, int parity, torch::nn::Sequential net, Equivariance equivariance,
              ChannelMirror mirror);

  // [B, Va, C] from x [B, L1, ..., Ld] (only its frozen sites are read). Local.
  torch::Tensor outputs(const torch::Tensor& x, CouplingKernel kernel);
  // The active sites' values of x, [B, Va], and x with them replaced. Local.
  torch::Tensor active(const torch::Tensor& x) const;
  torch::Tensor with_active(const torch::Tensor& x, const torch::Tensor& values) const;
  const FusedCouplingSpec& spec() const { return spec_; }
  const torch::Tensor& frozen_mask() const { return frozen_mask_; }

 private:
  torch::Tensor raw_outputs(const torch::Tensor& frozen, CouplingKernel kernel);

  torch::nn::Sequential net_;
  FusedCouplingSpec spec_;
  Equivariance equivariance_;
  torch::Tensor frozen_mask_;  // [L1, ..., Ld], 1 on frozen sites (float32; cast on use)
  torch::Tensor mirror_source_;
  torch::Tensor mirror_sign_;
};

}  // namespace flowlat
