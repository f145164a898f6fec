#pragma once
// Annealed importance sampling from a flow (Neal 2001; a flow as the start
// as in Arbel, Matthews, Doucet 2021 and the stochastic normalizing flows of
// Caselle, Cellini, Nada, Panero 2022). Prior draws z are carried through
// the temperatures beta_k = k / K, k = 1, ..., K, of the latent-space path
//   pi_beta(z) ~ r(z) exp(beta l(z)),   l(z) = -S(f(z)) - log q(f(z)),
// from the prior (beta = 0, i.e. phi ~ q) to r(z) e^{l(z)} = e^{-S(f(z))}
// |det f'(z)| (beta = 1, i.e. phi ~ e^{-S}). Before the move at beta_k the
// log-weight gains (beta_k - beta_{k-1}) l(z) (Jarzynski's equality); each
// move is one HMC trajectory in z (momenta N(0, 1), leapfrog, Metropolis
// test in float64) that leaves pi_{beta_k} invariant. The configurations
// phi = f(z_K) carry weights W with E[W] = Z for any K and step size, so
// log Z, the weights and the independence-Metropolis chain keep their
// meaning; K = 0 gives the flow's own weights. The start is the flow's
// unsymmetrised density (flow.symmetrisation is not applied: its density
// needs a reverse pass at every step, and any q gives an unbiased W).
#include <torch/torch.h>

#include <cstdint>

#include "action/Phi4Action.hpp"
#include "flow/NormalizingFlow.hpp"

namespace flowlat {

struct AnnealingSchedule {
  int64_t steps = 0;        // K (sample.anneal_steps)
  int64_t md_steps = 4;     // leapfrog steps per move (sample.anneal_md_steps)
  double step_size = 0.25;  // leapfrog step in z (sample.anneal_step_size)
};

struct AnnealedSample {
  torch::Tensor x;          // f(z_K), [B, L1, ..., Ld] in the network's dtype, no graph
  torch::Tensor log_w;      // float64 [B]: log W = sum_k (beta_k - beta_{k-1}) l(z_{k-1})
  double acceptance = 1.0;  // fraction of the K B moves accepted (1 when K = 0)
};

// Carries the prior draws `z` [B, L1, ..., Ld] along the path; momenta and
// Metropolis uniforms come from one generator seeded with `key`, so the
// result depends on (z, key, schedule) only. Runs autograd on z whatever the
// caller's grad mode. Local.
AnnealedSample anneal_from_flow(NormalizingFlowImpl& flow, const Phi4Action& action, const torch::Tensor& z,
                                const AnnealingSchedule& schedule, uint64_t key);

// Network evaluations (forward and backward counted as one each) per
// configuration of anneal_from_flow, given the flow's passes per sample. Local.
double annealing_passes_per_sample(const AnnealingSchedule& schedule, int64_t flow_passes);

}  // namespace flowlat
