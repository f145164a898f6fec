#pragma once
// The flow f: z -> phi: Gaussian prior, an optional Fourier layer
// (FourierLayer), an optional continuous layer with a global symmetric
// kernel (OdeLayer), then n_layers coupling layers (affine or spline) with
// alternating checkerboard parity; the tutorial's real NVP by default.
//   log q(phi) = log r(z) - sum_layers log J_forward
// With flow.symmetrisation: z2 the density is averaged over the sign flip,
//   q_s(phi) = (q(phi) + q(-phi)) / 2,
// sampled by flipping the sign of f(z) with probability 1/2 (the caller
// does that: the sign does not change q_s, nor the even action).
// All log-densities are float64 [B]; the network runs in the chosen dtype.
#include <torch/torch.h>

#include <optional>
#include <string>

#include "flow/CouplingLayer.hpp"
#include "flow/FlowArchitecture.hpp"
#include "flow/FourierLayer.hpp"
#include "flow/GaussianPrior.hpp"
#include "flow/OdeLayer.hpp"

namespace flowlat {

struct FlowSample {
  torch::Tensor x;      // configurations [B, L1, ..., Ld]
  torch::Tensor log_q;  // float64 [B]
};

class NormalizingFlowImpl : public torch::nn::Module {
 public:
  // Parameters drawn from the global torch RNG (seed it first). Local.
  explicit NormalizingFlowImpl(const FlowArchitecture& architecture);

  // Pushes prior draws z through the flow: phi = f(z) and log q(phi)
  // (symmetrised when asked; the sign of phi is left to the caller). Local.
  FlowSample forward(const torch::Tensor& z);
  // phi = f(z) and log q(phi) of the flow without symmetrisation (the
  // density of f's push-forward of the prior, whatever flow.symmetrisation
  // says): differentiable in z, for annealing in the latent space. Local.
  FlowSample push_forward(const torch::Tensor& z);
  // forward(z), and with symmetrisation each configuration's sign flipped
  // with probability 1/2, the flips drawn from the keyed stream `sign_key`:
  // samples of q_s. Local.
  FlowSample sample(const torch::Tensor& z, uint64_t sign_key);
  // log q of given configurations through the reverse map (symmetrised
  // when asked). Local.
  torch::Tensor log_q(const torch::Tensor& x);
  // z = f^{-1}(x) and sum of reverse log-Jacobians (float64), without
  // symmetrisation. Local.
  CouplingResult reverse(const torch::Tensor& x);
  // Copies the parameters of a flow of the same network on another (or the
  // same) lattice: couplings as they are, the Fourier layer interpolated in
  // momentum (FourierLayer::interpolate_from). Local.
  void initialise_from(NormalizingFlowImpl& trained);

  const FlowArchitecture& architecture() const { return architecture_; }
  const GaussianPrior& prior() const { return prior_; }
  // Selects every coupling layer's implementation (the default is Auto, or
  // what the environment variable FLOWLAT_COUPLING_KERNEL names: auto,
  // reference, fused; for benchmarks). Local.
  void set_coupling_kernel(CouplingKernel kernel);
  // Number of trainable scalars.
  int64_t parameter_count() const;

  // Writes parameters with the architecture and the provenance (build,
  // libraries, kernels: provenance/BuildInfo.hpp) recorded, and the training's
  // wall-clock seconds when given (>= 0). Local.
  void save_to(const std::string& path, double train_seconds = -1) const;
  // The training seconds recorded in a model file, if any. Local.
  static std::optional<double> train_seconds_of(const std::string& path);
  // Network evaluations per configuration sampled (equivariant layers
  // evaluate their network twice, the ODE layer its velocity 4 times a step;
  // symmetrisation adds a reverse pass). Local.
  int64_t network_passes_per_sample() const;
  // Reads parameters (leaves the module on the CPU in the file's dtype: call
  // to(device, dtype) after); throws if the file's architecture differs. Local.
  void load_from(const std::string& path);
  // The architecture recorded in a model file; throws naming the file if it
  // is not a readable flowlat model. Local.
  static FlowArchitecture architecture_of(const std::string& path);

 private:
  torch::Tensor log_q_without_symmetrisation(const torch::Tensor& x);

  FlowArchitecture architecture_;
  GaussianPrior prior_;
  FourierLayer fourier_{nullptr};
  OdeLayer ode_{nullptr};
  std::vector<std::shared_ptr<CouplingLayerImpl>> layers_;
};
TORCH_MODULE(NormalizingFlow);

}  // namespace flowlat
