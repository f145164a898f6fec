// Row layout: each rank runs n_chains_per_rank chains; global chain
// c = rank * n_chains_per_rank + local occupies rows [c n, (c + 1) n) with
// n = n_trajectories (the measured trajectories, thermalisation excluded),
// so every rank's rows are one contiguous block and the file depends only on
// the total chain count, not on how the chains are spread over ranks.
// Trajectories are buffered in rounds; each round every rank writes one
// contiguous row range per local chain (one collective write each). Since
// rows are chain-major, no prefix of the file is complete before the end:
// n_written stays 0 until every row and /mcmc are written, then becomes N.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "action/Phi4Action.hpp"
#include "analysis/AnalysisReport.hpp"
#include "analysis/EnsembleAnalysis.hpp"
#include "config/ConfigError.hpp"
#include "hmc/HmcParameters.hpp"
#include "hmc/HmcSampler.hpp"
#include "hmc/Integrator.hpp"
#include "device/DeviceSelection.hpp"
#include "device/HostRows.hpp"
#include "ensemble/EnsembleWriter.hpp"
#include "hmc/HmcJob.hpp"
#include "job/RunHeader.hpp"
#include "parallel/CollectiveError.hpp"

namespace flowlat {
namespace {

using Clock = std::chrono::steady_clock;

// Rows buffered per round on each rank (over all its chains).
constexpr int64_t kRowsPerRound = 4096;

// Sums over the measured trajectories of this rank's chains.
struct TrajectoryTotals {
  double trajectories = 0;
  double accepted = 0;
  double delta_h = 0;
  double exp_minus_delta_h = 0;
  double exp_minus_delta_h_squared = 0;

  void add(const TrajectoryResult& result) {
    const torch::Tensor boltzmann = torch::exp(-result.delta_h);
    trajectories += static_cast<double>(result.accepted.numel());
    accepted += result.accepted.sum().item<double>();
    delta_h += result.delta_h.sum().item<double>();
    exp_minus_delta_h += boltzmann.sum().item<double>();
    exp_minus_delta_h_squared += (boltzmann * boltzmann).sum().item<double>();
  }
  // The sums over all ranks. Collective.
  TrajectoryTotals global(const Communicator& comm) const {
    double values[5] = {trajectories, accepted, delta_h, exp_minus_delta_h, exp_minus_delta_h_squared};
    comm.sum_in_place(values, 5);
    return {values[0], values[1], values[2], values[3], values[4]};
  }
};

std::string output_path(const Config& config, const HmcOptions& options) {
  return options.output_path.empty() ? config.run.output_dir + "/" + config.hmc.output : options.output_path;
}

void print_parameters(const HmcParameters& p, int64_t total_chains, const std::string& path,
                      const Communicator& comm) {
  if (!comm.is_root()) return;
  std::printf("hmc: %lld chains (%lld per rank), %lld thermalisation + %lld measured trajectories each; "
              "%s, step %g x %lld (trajectory length %g), seed %llu\n",
              static_cast<long long>(total_chains), static_cast<long long>(p.n_chains_per_rank),
              static_cast<long long>(p.n_thermalization), static_cast<long long>(p.n_trajectories),
              to_string(p.integrator), p.step_size, static_cast<long long>(p.n_steps),
              p.step_size * static_cast<double>(p.n_steps), static_cast<unsigned long long>(p.seed));
  std::printf("output: %s (%lld rows, float64)\n", path.c_str(),
              static_cast<long long>(total_chains * p.n_trajectories));
  std::fflush(stdout);
}

// The measured trajectories, written round by round. Collective.
TrajectoryTotals run_and_write(HmcSampler& sampler, EnsembleWriter& writer, std::vector<uint8_t>& accepted,
                               const Communicator& comm) {
  const HmcParameters& p = sampler.parameters();
  const int64_t n = p.n_trajectories, chains = sampler.n_chains();
  const int64_t per_round = std::clamp<int64_t>(kRowsPerRound / chains, 1, n);
  const int64_t rounds = (n + per_round - 1) / per_round;
  const int64_t report_every = std::max<int64_t>(1, rounds / 10);
  TrajectoryTotals totals;
  const auto start = Clock::now();
  for (int64_t round = 0; round < rounds; ++round) {
    const int64_t t0 = round * per_round, count = std::min(per_round, n - t0);
    std::vector<torch::Tensor> fields, actions;
    for (int64_t t = t0; t < t0 + count; ++t) {
      const TrajectoryResult result = sampler.trajectory();
      totals.add(result);
      const auto flags = result.accepted.accessor<bool, 1>();
      for (int64_t c = 0; c < chains; ++c) accepted[static_cast<size_t>(c * n + t)] = flags[c] ? 1 : 0;
      fields.push_back(sampler.fields().to(torch::kCPU, torch::kFloat64, false, true));
      actions.push_back(sampler.actions().to(torch::kCPU, torch::kFloat64, false, true));
    }
    const torch::Tensor block = torch::stack(fields, 1);       // [chains, count, L...]
    const torch::Tensor log_p = -torch::stack(actions, 1);     // [chains, count]
    for (int64_t c = 0; c < chains; ++c) {
      const HostRows rows((sampler.first_chain() + c) * n + t0, block[c], log_p[c], log_p[c], Precision::Float64);
      writer.write_rows(rows.view());
    }
    if (comm.is_root() && ((round + 1) % report_every == 0 || round + 1 == rounds)) {
      const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
      std::printf("trajectory %lld/%lld: acceptance (rank 0) %.4f, %.2f ms/trajectory\n",
                  static_cast<long long>(t0 + count), static_cast<long long>(n),
                  totals.accepted / totals.trajectories, 1e3 * seconds / static_cast<double>(t0 + count));
      std::fflush(stdout);
    }
  }
  return totals;
}

// /mcmc/state (the row index: every row is the chain's state) and
// /mcmc/accepted of this rank's rows. Collective.
void write_chain(EnsembleWriter& writer, int64_t first_row, const std::vector<uint8_t>& accepted) {
  const auto count = static_cast<int64_t>(accepted.size());
  std::vector<int64_t> state(accepted.size());
  for (int64_t i = 0; i < count; ++i) state[static_cast<size_t>(i)] = first_row + i;
  writer.write_chain(first_row, count, state.data(), accepted.data());
}

void write_summary(EnsembleWriter& writer, const HmcParameters& p, int64_t total_chains,
                   const TrajectoryTotals& totals, double thermalization_acceptance) {
  writer.set_attribute("accept_rate", totals.accepted / totals.trajectories);
  writer.set_attribute("thermalization_accept_rate", thermalization_acceptance);
  writer.set_attribute("n_chains", total_chains);
  writer.set_attribute("chain_length", p.n_trajectories);
  writer.set_attribute("mean_delta_h", totals.delta_h / totals.trajectories);
  writer.set_attribute("mean_exp_minus_delta_h", totals.exp_minus_delta_h / totals.trajectories);
  writer.set_attribute("hmc_n_trajectories", p.n_trajectories);
  writer.set_attribute("hmc_n_thermalization", p.n_thermalization);
  writer.set_attribute("hmc_step_size", p.step_size);
  writer.set_attribute("hmc_n_md_steps", p.n_steps);
  writer.set_attribute("hmc_integrator", std::string(to_string(p.integrator)));
  writer.set_attribute("hmc_n_chains_per_rank", p.n_chains_per_rank);
  writer.set_attribute("hmc_seed", static_cast<int64_t>(p.seed));
}

void print_summary(const TrajectoryTotals& t, double thermalization_acceptance, double seconds,
                   const std::string& path, int64_t rows, const Communicator& comm) {
  if (!comm.is_root()) return;
  const double mean = t.exp_minus_delta_h / t.trajectories;
  const double variance = t.exp_minus_delta_h_squared / t.trajectories - mean * mean;
  std::printf("hmc: acceptance %.4f (thermalisation %.4f), <dH> = %.3e, <exp(-dH)> = %.5f +- %.5f "
              "(naive error; exactly 1 in equilibrium)\n",
              t.accepted / t.trajectories, thermalization_acceptance, t.delta_h / t.trajectories, mean,
              std::sqrt(std::max(variance, 0.0) / t.trajectories));
  std::printf("ensemble: %s, %lld rows in %.2f s\n", path.c_str(), static_cast<long long>(rows), seconds);
  std::fflush(stdout);
}

// The observables of the finished file with the Gamma method's tau_int of
// each (the "chain" columns; for HMC the chain is the trajectory sequence).
// Collective; rank 0 reads and prints.
void print_observables(const std::string& path, const Communicator& comm) {
  run_collectively(comm, [&] {
    if (!comm.is_root()) return;
    std::printf("\nobservables (tau_int in units of trajectories):\n%s",
                AnalysisReport(analyze_ensemble(path)).table().c_str());
    std::fflush(stdout);
  });
}

}  // namespace

void run_hmc(const Config& config, const Communicator& comm, const HmcOptions& options) {
  const auto start = Clock::now();
  const OverwritePolicy overwrite = options.overwrite;
  configure_threads(config.run.threads_per_rank);
  const std::string path = output_path(config, options);
  const NodeLayout node = NodeLayout::of(comm);
  torch::Device device(torch::kCPU);
  HmcParameters p;
  run_collectively(comm, [&] {
    p = from_config(config.hmc);
    validate(p);
    device = select_device(config.run.device, node);
    if (comm.is_root() && overwrite == OverwritePolicy::Refuse && std::filesystem::exists(path)) {
      throw ConfigError(path + ": ensemble file exists; pass --force to overwrite it");
    }
  });
  print_run_header("hmc", config, comm, device.str(), "");
  const int64_t total_chains = p.n_chains_per_rank * comm.size();
  print_parameters(p, total_chains, path, comm);

  EnsembleLayout layout;
  layout.n_configs = total_chains * p.n_trajectories;
  layout.lattice_shape = config.lattice.shape;
  layout.precision = Precision::Float64;
  layout.storage = ConfigStorage::Store;
  layout.chunk_rows = std::clamp<int64_t>(kRowsPerRound / p.n_chains_per_rank, 1, p.n_trajectories);
  std::unique_ptr<EnsembleWriter> writer;
  run_collectively(comm, [&] {
    if (comm.is_root()) std::filesystem::create_directories(std::filesystem::absolute(path).parent_path());
  });
  run_collectively(comm, [&] {
    writer = std::make_unique<EnsembleWriter>(
        EnsembleWriter::create(path, layout, config, EnsembleSource::Hmc, overwrite, comm));
  });

  torch::NoGradGuard no_grad;
  HmcSampler sampler(Phi4Action(config.action.m2, config.action.lambda), Lattice(config.lattice.shape), p,
                     comm.rank() * p.n_chains_per_rank, device);
  const double thermalization_acceptance = comm.sum(sampler.thermalize()) / comm.size();
  if (comm.is_root()) std::printf("thermalised: acceptance %.4f\n", thermalization_acceptance);
  std::vector<uint8_t> accepted(static_cast<size_t>(p.n_chains_per_rank * p.n_trajectories));
  const TrajectoryTotals totals = run_and_write(sampler, *writer, accepted, comm).global(comm);
  write_summary(*writer, p, total_chains, totals, thermalization_acceptance);
  write_chain(*writer, sampler.first_chain() * p.n_trajectories, accepted);
  writer->commit(layout.n_configs);
  writer->close();
  print_summary(totals, thermalization_acceptance, std::chrono::duration<double>(Clock::now() - start).count(),
                path, layout.n_configs, comm);
  print_observables(path, comm);
}

}  // namespace flowlat
