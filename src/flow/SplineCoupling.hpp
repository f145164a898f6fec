#pragma once
// A rational-quadratic spline coupling layer: every active site is mapped
// by its own monotone spline (RationalQuadraticSpline) whose 3K - 1
// parameters are the outputs of one CNN on the frozen sites, the identity
// outside [-B, B]. With Z2 equivariance the parameters for -phi are the
// mirror of those for phi (widths, heights and derivatives reversed), so
// the layer is odd.
#include <torch/torch.h>

#include "flow/CouplingLayer.hpp"
#include "flow/CouplingNet.hpp"
#include "flow/RationalQuadraticSpline.hpp"
#include "lattice/Lattice.hpp"

namespace flowlat {

class SplineCouplingImpl : public CouplingLayerImpl {
 public:
  // `net` must have 3 bins - 1 output channels and no final tanh.
  SplineCouplingImpl(const Lattice& lattice, int parity, torch::nn::Sequential net, int64_t bins, double bound,
                     Equivariance equivariance = Equivariance::None);

  CouplingResult forward(const torch::Tensor& x) override;   // Local.
  CouplingResult reverse(const torch::Tensor& fx) override;  // Local.

  // The channel permutation that turns the spline of phi into that of -phi. Local.
  static ChannelMirror mirror(int64_t bins);

 private:
  CouplingResult apply(const torch::Tensor& x, SplineDirection direction);

  torch::nn::Sequential net_;
  CouplingNet coupling_net_;
  int64_t bins_;
  double bound_;
};
TORCH_MODULE(SplineCoupling);

}  // namespace flowlat
