#pragma once
// The real-NVP flow f: z -> phi of the tutorial: Gaussian prior, then
// n_layers affine couplings with alternating checkerboard parity.
//   log q(phi) = log r(z) - sum_layers log J_forward
// All log-densities are float64 [B]; the network runs in the chosen dtype.
#include <torch/torch.h>

#include <string>

#include "flow/AffineCoupling.hpp"
#include "flow/FlowArchitecture.hpp"
#include "flow/GaussianPrior.hpp"

namespace flowlat {

struct FlowSample {
  torch::Tensor x;      // configurations [B, L1, ..., Ld]
  torch::Tensor log_q;  // float64 [B]
};

class NormalizingFlowImpl : public torch::nn::Module {
 public:
  // Parameters drawn from the global torch RNG (seed it first). Local.
  explicit NormalizingFlowImpl(const FlowArchitecture& architecture);

  // Pushes prior draws z through the flow: phi = f(z) and log q(phi). Local.
  FlowSample forward(const torch::Tensor& z);
  // log q of given configurations through the reverse map. Local.
  torch::Tensor log_q(const torch::Tensor& x);
  // z = f^{-1}(x) and sum of reverse log-Jacobians (float64). Local.
  CouplingResult reverse(const torch::Tensor& x);

  const FlowArchitecture& architecture() const { return architecture_; }
  const GaussianPrior& prior() const { return prior_; }
  // Selects every coupling layer's implementation (the default is Auto, or
  // what the environment variable FLOWLAT_COUPLING_KERNEL names: auto,
  // reference, fused; for benchmarks). Local.
  void set_coupling_kernel(CouplingKernel kernel);
  // Number of trainable scalars.
  int64_t parameter_count() const;

  // Writes parameters with the architecture recorded. Local.
  void save_to(const std::string& path) const;
  // Reads parameters (leaves the module on the CPU in the file's dtype: call
  // to(device, dtype) after); throws if the file's architecture differs. Local.
  void load_from(const std::string& path);

 private:
  FlowArchitecture architecture_;
  GaussianPrior prior_;
  std::vector<AffineCoupling> layers_;
};
TORCH_MODULE(NormalizingFlow);

}  // namespace flowlat
