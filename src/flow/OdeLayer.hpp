#pragma once
// A continuous flow layer (neural ODE) with a global, symmetric velocity
// (after Gerdes, de Haan, Rainone, Bondesan, Cheng, arXiv:2207.00283):
//
//   d phi(x)/dt = v_x(phi, t) = sum_y sum_c K_c(x - y, t) g_c(phi(y)),
//   g_c(phi)    = (A_c0 phi + sum_f A_cf sin(omega_f phi)) / (F + 1),
//   K_c(r, t)   = W[n, orbit(r), c]  for t in [n, n + 1] / P  (P pieces),
//
// integrated from t = 0 to 1 with `substeps` fixed steps of classical RK4
// in each piece. The kernel is constant within a piece, so each piece is
// an autonomous flow: a kernel varying within a step is what RK4 resolves
// worst, and training learns to exploit such an integration error. The
// kernel couples every site to every other (applied by FFT); it depends on
// the displacement only through its orbit under the point group
// (LatticeSymmetry), so v commutes with every translation, rotation and
// reflection, and g is odd, so v(-phi) = -v(phi): the layer keeps all the
// symmetries of the phi^4 action. v is scaled down where a bound on its
// Lipschitz constant would make the RK4 steps stiff (stiffness_damping).
// The divergence is exact and cheap, since
// only y = x contributes:
//   div v = sum_x sum_c K_c(0, t) g_c'(phi(x)),
// and log |det| of the layer is its time integral, taken by the same RK4
// steps (in float64). That is the log-determinant of the exact flow; the
// discrete map differs from it by O(h^4) (tests/flow/OdeLayerTest measures
// both). The reverse map integrates from t = 1 back to 0.
//
// W starts at zero (the identity map), omega uniform in (0, 5), A standard
// normal. The kernel is defined on lattice distances, so a
// layer trained on one volume starts another (initialise_from).
#include <torch/torch.h>

#include <cstdint>
#include <utility>
#include <vector>

#include "flow/CouplingLayer.hpp"
#include "flow/LatticeSymmetry.hpp"
#include "lattice/Lattice.hpp"

namespace flowlat {

struct OdeLayerSize {
  int64_t pieces = 8;        // P: intervals of t, each with its own kernel
  int64_t substeps = 1;      // RK4 steps per piece (integration only: not a parameter)
  int64_t frequencies = 16;  // F: the features sin(omega_f phi), besides phi
  int64_t channels = 16;     // C: mixed features, each with its own kernel
};

class OdeLayerImpl : public torch::nn::Module {
 public:
  // Parameters drawn from the global torch RNG. Local.
  OdeLayerImpl(const Lattice& lattice, const OdeLayerSize& size);

  CouplingResult forward(const torch::Tensor& z);    // t = 0 -> 1. Local.
  CouplingResult reverse(const torch::Tensor& phi);  // t = 1 -> 0. Local.

  // v(phi) of piece `piece` [B, L1, ..., Ld] and div v, float64 [B]. Local.
  std::pair<torch::Tensor, torch::Tensor> velocity(const torch::Tensor& phi, int64_t piece) const;
  // The bound on (piece length) x (Lipschitz constant of v): with one RK4
  // step per piece its error in log |det| per mode and step is below about
  // c^5 / 120 (2.6e-4 at 0.5), and less with substeps.
  static constexpr double kMaxStepTimesLipschitz = 0.5;
  // Integrates with `substeps` RK4 steps per piece (forward: from t = 0,
  // direction +1; reverse: from t = 1, direction -1). Local.
  CouplingResult integrate(const torch::Tensor& x, int64_t substeps, int direction) const;

  // Copies a layer trained on another volume (or this one): features as
  // they are, the kernel orbit by orbit (orbits the trained lattice lacks,
  // displacements beyond its reach, start at zero). Local.
  void initialise_from(const OdeLayerImpl& trained);

  // Velocity evaluations per configuration and pass. Local.
  int64_t evaluations() const { return 4 * size_.pieces * size_.substeps; }

 private:
  // K_c(r, t) in momentum space: real (the kernel is even in r) [C, spectrum].
  torch::Tensor kernel_spectrum(const torch::Tensor& kernel_at_t) const;
  // The factor min(1, c P / B) with B a bound on the Lipschitz constant of
  // v (sum over channels of max |K_c(p)| max |g_c'|) and 1/P the piece
  // length: it keeps Lip(v) / P <= c, so the integration can never be driven
  // stiff, where RK4's log |det| would drift from the discrete map's and
  // training could exploit it. It depends on the parameters only: the same
  // for every configuration and every number of substeps. Local.
  torch::Tensor stiffness_damping(const torch::Tensor& kernel_hat, const torch::Tensor& mixing) const;

  Lattice lattice_;
  OdeLayerSize size_;
  DisplacementOrbits orbits_;
  std::vector<int64_t> spatial_dims_;  // 1..d of a [B, L1, ..., Ld] batch
  mutable torch::Tensor orbit_index_;  // orbit of each displacement, flattened (on the kernel's device)
  torch::Tensor kernel_;               // W [pieces, orbits, C]
  torch::Tensor frequencies_;          // omega [F]
  torch::Tensor mixing_;               // A [C, F + 1]
};
TORCH_MODULE(OdeLayer);

}  // namespace flowlat
