#include "action/Phi4Action.hpp"

namespace flowlat {

torch::Tensor Phi4Action::operator()(const torch::Tensor& phi_in) const {
  // Reduce in float64 even for a float32 network (README: physics conventions).
  const torch::Tensor phi = phi_in.to(torch::kFloat64);
  const int64_t d = phi.dim() - 1;
  const torch::Tensor phi2 = phi * phi;
  // sum_mu phi(x)(2phi(x) - phi(x+mu) - phi(x-mu)) = sum_mu 2 phi^2 - 2 phi(x) phi(x+mu)
  // after summing over x (translation invariance of the periodic lattice).
  torch::Tensor density = (2.0 * d + m2_) * phi2 + lambda_ * phi2 * phi2;
  for (int64_t axis = 1; axis <= d; ++axis) {
    density = density - 2.0 * phi * torch::roll(phi, {-1}, {axis});
  }
  return density.flatten(1).sum(1);
}

}  // namespace flowlat
