#include "hmc/HmcTuning.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

#include "analysis/Observables.hpp"

namespace flowlat {
namespace {

constexpr int64_t kBlock = kTuningBlock;
constexpr int64_t kMinAdaptingBlocks = 4;
constexpr double kShortestTrajectory = 0.2;

// Mean Metropolis acceptance probability min(1, exp(-dH)) over `count`
// trajectories of every chain on all ranks: far less noisy than the
// fraction accepted, with the same expectation. Collective.
double run_block(HmcSampler& sampler, int64_t count, const Communicator& comm) {
  double probability = 0;
  for (int64_t t = 0; t < count; ++t) {
    probability += torch::clamp_max(torch::exp(-sampler.trajectory().delta_h), 1.0).sum().item<double>();
  }
  double sums[2] = {probability, static_cast<double>(count * sampler.n_chains())};
  comm.sum_in_place(sums, 2);
  return sums[0] / sums[1];
}

// The step size closer to the target acceptance, the trajectory length kept;
// `damping` >= 1 shrinks the move (later blocks move less, so the noise of
// one block does not decide the final step).
void adapt_step(HmcSampler& sampler, double acceptance, double target, double length, double damping) {
  const double rejected = std::max(1.0 - acceptance, 0.01);
  const double factor = std::pow(std::clamp(std::sqrt((1.0 - target) / rejected), 0.7, 1.4), 1.0 / damping);
  const int64_t n_steps = md_steps_for(length, sampler.parameters().step_size * factor);
  sampler.set_integration(length / static_cast<double>(n_steps), n_steps);
}

}  // namespace

int64_t md_steps_for(double length, double step) {
  // Rounding to the nearest number instead could never leave one step (from
  // 1, a factor >= 0.7 rounds back to 1): a one-step trajectory beyond the
  // integrator's stability stayed so, at acceptance ~0 (seen in flowlat ti
  // nodes of a 4x4 lattice). The tolerance keeps an exact multiple where it is.
  return std::max<int64_t>(1, static_cast<int64_t>(std::ceil(length / step * (1.0 - 1e-9))));
}

std::pair<double, double> second_moment_sums(const torch::Tensor& fields) {
  const torch::Tensor phi = fields.to(torch::kCPU, torch::kFloat64);
  const int64_t batch = phi.size(0), l0 = phi.size(1);
  const double volume = static_cast<double>(phi[0].numel());
  const torch::Tensor profile = phi.reshape({batch, l0, -1}).sum(2);  // [B, L0]
  const torch::Tensor t = torch::arange(l0, torch::kFloat64) * (2.0 * M_PI / static_cast<double>(l0));
  const torch::Tensor re = (profile * torch::cos(t)).sum(1), im = (profile * torch::sin(t)).sum(1);
  const torch::Tensor m = profile.sum(1);
  return {(m * m).sum().item<double>() / volume, (re * re + im * im).sum().item<double>() / volume};
}

TuningSchedule tuning_schedule(int64_t trajectories) {
  const int64_t blocks = trajectories / kBlock;
  TuningSchedule schedule;
  schedule.thermalising_blocks = std::max<int64_t>(2, blocks / 4);
  schedule.adapting_blocks = std::max<int64_t>(kMinAdaptingBlocks, blocks / 2 - 1);
  schedule.measuring_trajectories =
      trajectories - kBlock * (schedule.thermalising_blocks + schedule.adapting_blocks + 1);
  return schedule;
}

HmcTuningResult tune_hmc(HmcSampler& sampler, const HmcConfig& hmc, const Communicator& comm) {
  HmcTuningResult result;
  double length = sampler.parameters().step_size * static_cast<double>(sampler.parameters().n_steps);
  const TuningSchedule schedule = tuning_schedule(hmc.tune_trajectories);
  if (schedule.measuring_trajectories < kBlock) {
    throw std::invalid_argument("hmc.tune_trajectories: must be >= " + std::to_string(kMinTuningTrajectories));
  }
  // 1. Thermalise, keeping the acceptance sane with the configured length.
  for (int64_t block = 0; block < schedule.thermalising_blocks; ++block) {
    adapt_step(sampler, run_block(sampler, kBlock, comm), hmc.target_acceptance, length, 1.0);
  }
  // 2. Measure xi2 over every chain and trajectory of the next part.
  double sums[3] = {0, 0, 0};
  for (int64_t t = 0; t < schedule.measuring_trajectories; ++t) {
    sampler.trajectory();
    const auto [g0, gp] = second_moment_sums(sampler.fields());
    sums[0] += g0;
    sums[1] += gp;
    sums[2] += static_cast<double>(sampler.n_chains());
  }
  comm.sum_in_place(sums, 3);
  result.correlation_length =
      second_moment_correlation_length(sums[0] / sums[2], sums[1] / sums[2], sampler.lattice().shape()[0]);
  if (!std::isfinite(result.correlation_length)) result.correlation_length = 1.0;
  length = std::max(hmc.trajectory_length_xi * result.correlation_length, kShortestTrajectory);
  // 3. The step size for the target acceptance at that length (the first
  // adaptation sets the length), with moves shrinking block by block; the
  // last block only measures the result.
  for (int64_t block = 0; block < schedule.adapting_blocks; ++block) {
    adapt_step(sampler, run_block(sampler, kBlock, comm), hmc.target_acceptance, length,
               1.0 + 0.5 * static_cast<double>(block));
  }
  result.acceptance = run_block(sampler, kBlock, comm);
  result.step_size = sampler.parameters().step_size;
  result.n_md_steps = sampler.parameters().n_steps;
  result.trajectory_length = result.step_size * static_cast<double>(result.n_md_steps);
  return result;
}

}  // namespace flowlat
