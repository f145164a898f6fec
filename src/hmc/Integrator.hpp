#pragma once
// Molecular dynamics of hybrid Monte Carlo: Hamilton's equations for
// H(phi, p) = sum_x p(x)^2 / 2 + S[phi], dphi/dt = p, dp/dt = -dS/dphi,
// integrated on a batch of independent systems [B, L1, ..., Ld] at once.
// Both integrators are symplectic and time-reversible (flipping the momenta
// and integrating again returns to the start, up to rounding) and have a
// trajectory energy error dH = O(step^2) at fixed trajectory length.
#include <torch/torch.h>

#include <cstdint>
#include <functional>

#include "hmc/HmcParameters.hpp"

namespace flowlat {

// dS/dphi of a batch, same shape as its argument.
using ForceFunction = std::function<torch::Tensor(const torch::Tensor&)>;

// Omelyan's 2nd-order minimum-norm parameter (Omelyan, Mryglod, Folk,
// Comput. Phys. Commun. 151 (2003) 272): the position-kick split
// p -= lambda eps F; phi += eps/2 p; p -= (1 - 2 lambda) eps F; phi += eps/2 p;
// p -= lambda eps F minimises the norm of the leading error term.
inline constexpr double kOmelyanLambda = 0.1931833275037836;

// Advances `phi` and `momenta` (float64, same shape) in place by `n_steps`
// steps of size `step_size` with `integrator`; consecutive momentum kicks of
// neighbouring steps are merged, so a trajectory costs n_steps + 1 (leapfrog)
// or 2 n_steps + 1 (Omelyan) force evaluations. Local.
void integrate(HmcParameters::Integrator integrator, const ForceFunction& force, torch::Tensor& phi,
               torch::Tensor& momenta, double step_size, int64_t n_steps);

// Force evaluations per trajectory of `integrate`. Local.
int64_t force_evaluations(HmcParameters::Integrator integrator, int64_t n_steps);

}  // namespace flowlat
