#pragma once
// A learned linear layer diagonal in momentum space:
//   phi = F^-1 [ sigma(p) F z ],  sigma(p) = exp(a(p)) > 0,
// with F the unitary discrete Fourier transform of the lattice. sigma is
// kept even, sigma(p) = sigma(-p) (a is symmetrised on use), so a real z
// gives a real phi; the map is then symmetric with eigenvalues sigma(p):
//   log |det| = sum_p a(p)   (exact, independent of z).
// Initialised from the free propagator of mass squared m^2 (README: the
// propagator is 1 / (2 (phat^2 + m2))), sigma(p) = 1 / sqrt(2 (phat^2 + m^2)),
// so that with lambda = 0 and m^2 = m2 it is the exact flow. Linear and odd:
// it keeps phi -> -phi, translations and the lattice symmetries of sigma.
// With FourierLayerKind::Symmetric, a is also averaged over the lattice's
// rotations and reflections on use, so the layer keeps all of them.
#include <torch/torch.h>

#include <vector>

#include "flow/CouplingLayer.hpp"
#include "config/Config.hpp"
#include "lattice/Lattice.hpp"

namespace flowlat {

class FourierLayerImpl : public torch::nn::Module {
 public:
  FourierLayerImpl(const Lattice& lattice, double mass2, FourierLayerKind kind = FourierLayerKind::Diagonal);

  CouplingResult forward(const torch::Tensor& z);    // Local.
  CouplingResult reverse(const torch::Tensor& phi);  // Local.

  // log sigma(p) on the lattice's momenta [L1, ..., Ld], symmetrised. Local.
  torch::Tensor log_sigma() const;
  // The free-field initial value of log sigma for `lattice` and m^2. Local.
  static torch::Tensor free_log_sigma(const Lattice& lattice, double mass2);
  // Sets a(p) from a layer trained on another lattice size: log sigma is
  // interpolated linearly in phat^2 (averaged over the momenta of equal
  // phat^2 there), held constant beyond the trained range. Local.
  void interpolate_from(const FourierLayerImpl& trained);

 private:
  CouplingResult apply(const torch::Tensor& x, double sign);

  Lattice lattice_;
  FourierLayerKind kind_;
  torch::Tensor log_sigma_;  // a(p), [L1, ..., Ld], float64 parameter
};
TORCH_MODULE(FourierLayer);

}  // namespace flowlat
