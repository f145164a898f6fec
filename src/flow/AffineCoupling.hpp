#pragma once
// One affine coupling layer (tutorial): with frozen sites phi2 (mask = 1)
//   forward:  phi1' = exp(s(phi2)) phi1 + t(phi2),  log J = sum s
//   reverse:  phi1  = (phi1' - t(phi2)) exp(-s(phi2)), log J = -sum s
// s and t are the two output channels of one CNN applied to the frozen part.
// With Z2 equivariance s is made even and t odd in phi2, so the layer is odd.
// Computed by LibTorch's modules or by the fused CPU kernel (CouplingKernel);
// the parameters are the modules' either way.
#include <torch/torch.h>

#include "flow/ConvNet.hpp"
#include "flow/CouplingLayer.hpp"
#include "flow/CouplingNet.hpp"
#include "flow/FusedCoupling.hpp"
#include "lattice/Lattice.hpp"

namespace flowlat {

class AffineCouplingImpl : public CouplingLayerImpl {
 public:
  AffineCouplingImpl(const Lattice& lattice, int parity, torch::nn::Sequential net,
                     Equivariance equivariance = Equivariance::None);

  CouplingResult forward(const torch::Tensor& x) override;   // Local.
  CouplingResult reverse(const torch::Tensor& fx) override;  // Local.

 private:
  CouplingResult apply(const torch::Tensor& x, CouplingDirection direction);
  // s and t on the active sites (zero on frozen ones), LibTorch's modules.
  std::pair<torch::Tensor, torch::Tensor> shift_and_scale(const torch::Tensor& frozen);

  torch::Tensor frozen_mask_;  // 1 on frozen sites
  torch::Tensor active_mask_;  // 1 - frozen_mask_
  torch::nn::Sequential net_;
  CouplingNet coupling_net_;
  Equivariance equivariance_;
};
TORCH_MODULE(AffineCoupling);

}  // namespace flowlat
