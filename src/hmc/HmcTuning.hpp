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

// How hmc.tune_trajectories T are spent, in blocks of kTuningBlock: (1)
// thermalising blocks that keep the acceptance sane at the configured
// length (a quarter of T, at least 2), (2) trajectories that measure xi2
// (what is left, at least one block), (3) adapting blocks that set the
// tuned length and the step size (half of T less one block, at least 4),
// then one block that measures the acceptance reached: exactly T in all.
inline constexpr int64_t kTuningBlock = 10;
inline constexpr int64_t kMinTuningTrajectories = 80;  // 2 + 1 + 4 + 1 blocks
struct TuningSchedule {
  int64_t thermalising_blocks = 0;
  int64_t measuring_trajectories = 0;
  int64_t adapting_blocks = 0;
};
// The schedule for `trajectories` (>= kMinTuningTrajectories). Local.
TuningSchedule tuning_schedule(int64_t trajectories);

// Runs hmc.tune_trajectories trajectories of every chain (part of the
// thermalisation) and leaves `sampler` with the tuned integration; throws
// std::invalid_argument below kMinTuningTrajectories. Collective.
HmcTuningResult tune_hmc(HmcSampler& sampler, const HmcConfig& hmc, const Communicator& comm);

// The number of MD steps of a trajectory of `length` whose step is at most
// `step` (at least 1): the tuning's step sizes are length / that. Local.
int64_t md_steps_for(double length, double step);

// Sums over a batch of fields [B, L0, ...] of M^2 / V and of the squared
// modulus of its p1 = (2 pi / L0, 0, ...) Fourier component over V, the
// inputs of xi2 (analysis/Observables.hpp). Local.
std::pair<double, double> second_moment_sums(const torch::Tensor& fields);

}  // namespace flowlat
