#pragma once
// A coupling layer: the sites of one checkerboard parity (the active ones)
// are transformed conditioned on the others (frozen), so the map is
// triangular, its inverse exact and its log-Jacobian a sum over the active
// sites. AffineCoupling and SplineCoupling implement it.
#include <torch/torch.h>

#include "flow/CouplingKernel.hpp"

namespace flowlat {

struct CouplingResult {
  torch::Tensor x;       // transformed configurations, network dtype
  torch::Tensor log_det; // log |det J| per configuration, float64 [B]
};

class CouplingLayerImpl : public torch::nn::Module {
 public:
  // The map and its log-Jacobian. Local.
  virtual CouplingResult forward(const torch::Tensor& x) = 0;
  // The inverse map and its log-Jacobian (minus the forward one). Local.
  virtual CouplingResult reverse(const torch::Tensor& fx) = 0;
  // Selects the implementation of the network (default Auto: fused on the CPU). Local.
  void set_kernel(CouplingKernel kernel) { kernel_ = kernel; }
  CouplingKernel kernel() const { return kernel_; }

 protected:
  CouplingKernel kernel_ = CouplingKernel::Auto;
};

}  // namespace flowlat
