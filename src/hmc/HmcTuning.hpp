#pragma once
// HMC that tunes itself during thermalisation (hmc.tune: auto): the
// trajectory length becomes hmc.trajectory_length_xi times the measured
// second-moment correlation length xi2 (the slowest mode of a free field of
// mass 1/xi has period ~2 pi xi / sqrt(2): a trajectory of ~xi moves it by
// a quarter period), and the step size is adapted so that the acceptance
// reaches hmc.target_acceptance (1 - acceptance ~ step^2 for these
// second-order integrators), with a whole number of steps per trajectory.
// Every decision uses sums over all ranks, so the ranks stay in step.
#include <cstdint>

#include "config/Config.hpp"
#include "hmc/HmcSampler.hpp"
#include "parallel/Communicator.hpp"

namespace flowlat {

struct HmcTuningResult {
  double correlation_length = 0;  // xi2 measured during the tuning
  double trajectory_length = 0;   // step_size * n_md_steps
  double step_size = 0;
  int64_t n_md_steps = 0;
  double acceptance = 0;          // mean min(1, exp(-dH)) of a last block with the tuned integration
};

// Runs hmc.tune_trajectories trajectories of every chain (part of the
// thermalisation) and leaves `sampler` with the tuned integration. Collective.
HmcTuningResult tune_hmc(HmcSampler& sampler, const HmcConfig& hmc, const Communicator& comm);

// Sums over a batch of fields [B, L0, ...] of M^2 / V and of the squared
// modulus of its p1 = (2 pi / L0, 0, ...) Fourier component over V, the
// inputs of xi2 (analysis/Observables.hpp). Local.
std::pair<double, double> second_moment_sums(const torch::Tensor& fields);

}  // namespace flowlat
