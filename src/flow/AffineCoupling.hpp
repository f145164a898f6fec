#pragma once
// One affine coupling layer (tutorial): with frozen sites phi2 (mask = 1)
//   forward:  phi1' = exp(s(phi2)) phi1 + t(phi2),  log J = sum s
//   reverse:  phi1  = (phi1' - t(phi2)) exp(-s(phi2)), log J = -sum s
// s and t are the two output channels of one CNN applied to the frozen part.
// Computed by LibTorch's modules or by the fused CPU kernel (CouplingKernel);
// the parameters are the modules' either way.
#include <torch/torch.h>

#include "flow/ConvNet.hpp"
#include "flow/CouplingKernel.hpp"
#include "flow/FusedCoupling.hpp"
#include "lattice/Lattice.hpp"

namespace flowlat {

struct CouplingResult {
  torch::Tensor x;       // transformed configurations, network dtype
  torch::Tensor log_det; // log |det J| per configuration, float64 [B]
};

class AffineCouplingImpl : public torch::nn::Module {
 public:
  AffineCouplingImpl(const Lattice& lattice, int parity, torch::nn::Sequential net);

  CouplingResult forward(const torch::Tensor& x);  // Local.
  CouplingResult reverse(const torch::Tensor& fx); // Local.

  // Selects the implementation (default Auto: fused on the CPU). Local.
  void set_kernel(CouplingKernel kernel) { kernel_ = kernel; }
  CouplingKernel kernel() const { return kernel_; }

 private:
  // s and t on the active sites (zero on frozen ones).
  std::pair<torch::Tensor, torch::Tensor> shift_and_scale(const torch::Tensor& frozen);
  CouplingResult fused(const torch::Tensor& x, CouplingDirection direction);

  torch::Tensor frozen_mask_;  // 1 on frozen sites
  torch::Tensor active_mask_;  // 1 - frozen_mask_
  torch::nn::Sequential net_;
  FusedCouplingSpec spec_;
  CouplingKernel kernel_ = CouplingKernel::Auto;
};
TORCH_MODULE(AffineCoupling);

}  // namespace flowlat
