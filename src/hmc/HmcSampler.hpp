#pragma once
// Hybrid Monte Carlo for the phi^4 action (README: conventions), the
// baseline the flows are compared with. B independent chains evolve as one
// float64 batch [B, L1, ..., Ld]: each trajectory draws momenta p ~ N(0, 1),
// integrates H = p^2/2 + S[phi] (Integrator.hpp) and accepts each chain's
// proposal with probability min(1, exp(-dH)).
//
// Random numbers: chain c (its global index over all ranks) draws its
// initial field (draw 0, N(0, 0.1^2) per site) and, for its t-th trajectory (thermalisation
// included, t = 0, 1, ...), its momenta and then its accept uniform
// (draw t + 1) from a generator seeded with stream_key(seed, Hmc, c, draw).
// With hmc.step_jitter j > 0 the t-th trajectory's step size is step_size
// (1 + j (2u - 1)), u from stream_key(seed, Hmc, 2^64 - 1, t + 1), the same
// for every chain (they are one batch): independent of the fields, so
// detailed balance holds for each step size and hence for the mixture.
// A chain's history therefore depends only on (seed, c, parameters): not on
// the number of ranks or on how chains are batched.
#include <torch/torch.h>

#include <cstdint>

#include "action/Phi4Action.hpp"
#include "hmc/HmcParameters.hpp"
#include "lattice/Lattice.hpp"

namespace flowlat {

// dS/dphi(x) = 2 sum_mu (2 phi(x) - phi(x+mu) - phi(x-mu)) + 2 m2 phi(x)
//              + 4 lambda phi(x)^3
// of a batch [B, L1, ..., Ld] (periodic), in the dtype of `phi`. Local.
torch::Tensor phi4_force(const Phi4Action& action, const torch::Tensor& phi);

// sum_x p(x)^2 / 2 of a batch, float64 [B]. Local.
torch::Tensor kinetic_energy(const torch::Tensor& momenta);

// The outcome of one trajectory of every chain.
struct TrajectoryResult {
  torch::Tensor accepted;  // bool [B], on the CPU
  torch::Tensor delta_h;   // float64 [B], H(proposal) - H(start), on the CPU
};

class HmcSampler {
 public:
  // Chains first_chain, ..., first_chain + parameters.n_chains_per_rank - 1
  // (global indices), each started from its own N(0, 0.1^2) field (near the
  // minimum of the force, so any stable step size can thermalise it). Throws
  // ConfigError for parameters out of range (validate). Local.
  HmcSampler(const Phi4Action& action, const Lattice& lattice, const HmcParameters& parameters,
             int64_t first_chain, torch::Device device = torch::kCPU);

  // One trajectory of every chain: fresh momenta, MD, Metropolis. Local.
  TrajectoryResult trajectory();
  // parameters().n_thermalization trajectories, results discarded; returns
  // the fraction accepted (1 if there were none). Local.
  double thermalize();

  // Continues chains from stored fields (float64 [B, L1, ..., Ld], any
  // device) after `trajectories_done` trajectories: the next trajectory
  // draws from the same streams as an uninterrupted run's. Local.
  void restore(const torch::Tensor& fields, int64_t trajectories_done);
  // The step size of the trajectory that uses draw `draw`. Local.
  double step_size_of(int64_t draw) const;
  // Changes the molecular dynamics of the following trajectories (tuning). Local.
  void set_integration(double step_size, int64_t n_steps);

  // Current fields, float64 [B, L1, ..., Ld] on the device. Local.
  const torch::Tensor& fields() const { return phi_; }
  // S of the current fields, float64 [B] on the device. Local.
  const torch::Tensor& actions() const { return action_values_; }
  int64_t n_chains() const { return parameters_.n_chains_per_rank; }
  int64_t first_chain() const { return first_chain_; }
  // Trajectories done by each chain so far, thermalisation included.
  int64_t trajectories_done() const { return trajectories_done_; }
  const HmcParameters& parameters() const { return parameters_; }
  const Lattice& lattice() const { return lattice_; }

 private:
  // Momenta [B, L...] on the device and accept uniforms [B] (CPU) of draw `draw`.
  torch::Tensor draw_momenta(int64_t draw, torch::Tensor& uniforms) const;

  Phi4Action action_;
  Lattice lattice_;
  HmcParameters parameters_;
  int64_t first_chain_;
  torch::Device device_;
  torch::Tensor phi_;
  torch::Tensor action_values_;
  int64_t trajectories_done_ = 0;
};

}  // namespace flowlat
