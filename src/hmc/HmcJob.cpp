// Row layout (chain_layout = "interleaved"): every rank runs
// n_chains_per_rank chains; global chain c = rank * n_chains_per_rank +
// local, and kept trajectory s of chain c is row s C + c (C chains in all).
// So after every round a prefix of rows is complete: n_written rises round
// by round like a flow's ensemble, and the chains' exact fields after the
// round go to /chain_state/fields, from which --resume continues bitwise
// (the random draws are keyed by chain and trajectory, HmcSampler.hpp).
#include "hmc/HmcJob.hpp"

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
#include "config/ConfigDiff.hpp"
#include "config/ConfigError.hpp"
#include "device/DeviceSelection.hpp"
#include "device/GpuAssignment.hpp"
#include "device/HostRows.hpp"
#include "ensemble/EnsembleFormat.hpp"
#include "ensemble/EnsembleReader.hpp"
#include "ensemble/EnsembleWriter.hpp"
#include "hmc/HmcParameters.hpp"
#include "hmc/HmcSampler.hpp"
#include "hmc/HmcTuning.hpp"
#include "hmc/Integrator.hpp"
#include "job/MemoryCheck.hpp"
#include "job/RunHeader.hpp"
#include "job/StopMonitor.hpp"
#include "parallel/CollectiveError.hpp"
#include "job/Log.hpp"
#include "provenance/BuildInfo.hpp"

namespace flowlat {
namespace {

using Clock = std::chrono::steady_clock;

// Rows buffered per round on each rank (over all its chains).
constexpr int64_t kRowsPerRound = 4096;

double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

// Sums over the measured trajectories (all ranks' once combined). Kept in
// the file's attributes after every round, so a resumed job reports the
// whole run.
struct TrajectoryTotals {
  double trajectories = 0;
  double accepted = 0;
  double delta_h = 0;
  double exp_minus_delta_h = 0;
  double exp_minus_delta_h_squared = 0;
  double seconds = 0;  // wall time of the measured rounds

  void add(const TrajectoryResult& result) {
    const torch::Tensor boltzmann = torch::exp(-result.delta_h);
    trajectories += static_cast<double>(result.accepted.numel());
    accepted += result.accepted.sum().item<double>();
    delta_h += result.delta_h.sum().item<double>();
    exp_minus_delta_h += boltzmann.sum().item<double>();
    exp_minus_delta_h_squared += (boltzmann * boltzmann).sum().item<double>();
  }
  // These sums of every rank plus `before` (what earlier jobs stored). Collective.
  TrajectoryTotals global(const Communicator& comm, const TrajectoryTotals& before) const {
    double values[5] = {trajectories, accepted, delta_h, exp_minus_delta_h, exp_minus_delta_h_squared};
    comm.sum_in_place(values, 5);
    return {values[0] + before.trajectories,       values[1] + before.accepted,
            values[2] + before.delta_h,            values[3] + before.exp_minus_delta_h,
            values[4] + before.exp_minus_delta_h_squared, comm.max(seconds) + before.seconds};
  }
};

const char* const kTotalNames[6] = {"hmc_total_trajectories", "hmc_total_accepted", "hmc_total_delta_h",
                                    "hmc_total_exp_minus_delta_h", "hmc_total_exp_minus_delta_h_squared",
                                    "hmc_total_seconds"};

void store_totals(EnsembleWriter& writer, const TrajectoryTotals& t) {
  const double values[6] = {t.trajectories, t.accepted, t.delta_h, t.exp_minus_delta_h, t.exp_minus_delta_h_squared,
                            t.seconds};
  for (int i = 0; i < 6; ++i) writer.set_attribute(kTotalNames[i], values[i]);
}

TrajectoryTotals stored_totals(const EnsembleWriter& writer) {
  double values[6] = {0, 0, 0, 0, 0, 0};
  for (int i = 0; i < 6; ++i) {
    if (writer.has_attribute(kTotalNames[i])) values[i] = writer.attribute_double(kTotalNames[i]);
  }
  return {values[0], values[1], values[2], values[3], values[4], values[5]};
}

// Kept trajectories per chain.
int64_t kept_per_chain(const HmcConfig& hmc) { return hmc.n_trajectories; }

void print_parameters(const HmcParameters& p, const HmcConfig& hmc, int64_t total_chains, const Communicator& comm) {
  if (!comm.is_root()) return;
  log_line("hmc: %lld chains (%lld per rank), %lld thermalisation + %lld measured trajectories each, every "
              "%lld%s kept; %s, step %g x %lld (trajectory length %g)%s, seed %llu\n",
              static_cast<long long>(total_chains), static_cast<long long>(p.n_chains_per_rank),
              static_cast<long long>(p.n_thermalization), static_cast<long long>(hmc.n_trajectories * hmc.save_every),
              static_cast<long long>(hmc.save_every), hmc.save_every == 1 ? "st" : "th", to_string(p.integrator),
              p.step_size, static_cast<long long>(p.n_steps), p.step_size * static_cast<double>(p.n_steps),
              hmc.tune == HmcTuning::Auto ? " before tuning" : "", static_cast<unsigned long long>(p.seed));
}

// The file's rows and what they hold (a resumed file keeps its own layout).
void print_output(const std::string& path, const EnsembleLayout& layout, const Communicator& comm) {
  if (!comm.is_root()) return;
  const std::string configs = layout.storage == ConfigStorage::Store
                                  ? std::string("configurations in ") + to_string(layout.precision)
                                  : std::string("no configurations: log p, sum phi^2, sum phi^4 and the chain");
  log_line("output: %s (%lld rows, %s)\n", path.c_str(), static_cast<long long>(layout.n_configs), configs.c_str());
  std::fflush(stdout);
}

// Refuses to continue `path` with another configuration or chain count. Local.
void check_resumable(const Config& config, const std::string& path, int64_t total_chains) {
  EnsembleReader reader = open_ensemble_input(path);
  // The chains continue from their exact fields: without them (or from a
  // flow ensemble) there is nothing to continue.
  if (reader.source() != "hmc" || !reader.file().contains(ensemble::kChainFields) ||
      H5Dataset::open(reader.file(), ensemble::kChainFields).rows() != total_chains) {
    throw ConfigError(path + ": --resume needs an HMC file holding the exact fields of its " +
                      std::to_string(total_chains) + " chains (" + ensemble::kChainFields +
                      "); this one has none or another number: it cannot be continued");
  }
  refuse_forbidden_changes(reader.attribute_string("config"), config.resolved_yaml(), Changeable::OnHmcResume,
                           "in the file", path,
                           "--resume needs the configuration the file was started with; these keys differ");
  if (!reader.has_attribute(ensemble::kChainLayout) || reader.attribute_int64("n_chains") != total_chains) {
    throw ConfigError(path + ": --resume needs the same number of chains (hmc.n_chains x ranks = " +
                      std::to_string(total_chains) + ") in an interleaved HMC file");
  }
}

// The file to write: a new one with the run's description, or the one to
// continue (refusing another configuration or chain count). Collective.
std::unique_ptr<EnsembleWriter> open_file(const Config& config, const HmcOptions& options, const std::string& path,
                                          int64_t total_chains, const std::string& kernels, const Communicator& comm) {
  // The checks first, on rank 0; the collective reopen only once all agree.
  run_collectively(comm, [&] {
    if (options.start == HmcStart::Resume) {
      if (comm.is_root()) check_resumable(config, path, total_chains);
      return;
    }
    if (comm.is_root() && options.overwrite == OverwritePolicy::Refuse && std::filesystem::exists(path)) {
      throw ConfigError(path + ": ensemble file exists; pass --force to overwrite it or --resume to continue it");
    }
    if (comm.is_root()) std::filesystem::create_directories(std::filesystem::absolute(path).parent_path());
  });
  std::unique_ptr<EnsembleWriter> writer;
  if (options.start == HmcStart::Resume) {
    run_collectively(comm, [&] { writer = std::make_unique<EnsembleWriter>(EnsembleWriter::reopen(path, comm)); });
    return writer;
  }
  EnsembleLayout layout;
  layout.n_configs = total_chains * kept_per_chain(config.hmc);
  layout.lattice_shape = config.lattice.shape;
  layout.precision = config.hmc.config_precision;
  layout.storage = options.storage;
  layout.chunk_rows = std::clamp<int64_t>(kRowsPerRound, 1, layout.n_configs);
  layout.chain_states = total_chains;
  run_collectively(comm, [&] {
    writer = std::make_unique<EnsembleWriter>(
        EnsembleWriter::create(path, layout, config, EnsembleSource::Hmc, kernels, options.overwrite, comm));
    writer->set_attribute(ensemble::kChainLayout, std::string("interleaved"));
    writer->set_attribute("n_chains", total_chains);
    writer->set_attribute("chain_length", kept_per_chain(config.hmc));
    // On disk before the first round: a job killed before it commits a row
    // leaves a file that --resume recognises (and continues from row 0).
    writer->commit(0);
  });
  return writer;
}

// Thermalisation (with the tuning when asked) of a new run; stores the
// chains' fields and what the tuning chose. Collective.
void thermalize(const Config& config, HmcSampler& sampler, EnsembleWriter& writer, const Communicator& comm) {
  const auto start = Clock::now();
  const HmcConfig& hmc = config.hmc;
  if (hmc.tune == HmcTuning::Auto) {
    const HmcTuningResult tuned = tune_hmc(sampler, hmc, comm);
    if (comm.is_root()) {
      log_line("tuned: xi2 = %.3f, trajectory length %.4g = %g xi2, step %.5g x %lld, acceptance %.3f\n",
                  tuned.correlation_length, tuned.trajectory_length, hmc.trajectory_length_xi, tuned.step_size,
                  static_cast<long long>(tuned.n_md_steps), tuned.acceptance);
    }
    writer.set_attribute("hmc_tuned_xi2", tuned.correlation_length);
    writer.set_attribute("hmc_tuned_acceptance", tuned.acceptance);
  }
  int64_t accepted = 0;
  const int64_t remaining = std::max<int64_t>(0, hmc.n_thermalization - sampler.trajectories_done());
  for (int64_t t = 0; t < remaining; ++t) accepted += sampler.trajectory().accepted.sum().item<int64_t>();
  double sums[2] = {static_cast<double>(accepted), static_cast<double>(remaining * sampler.n_chains())};
  comm.sum_in_place(sums, 2);
  const double acceptance = sums[1] > 0 ? sums[0] / sums[1] : 1.0;
  if (comm.is_root()) log_line("thermalised: acceptance %.4f\n", acceptance);
  writer.set_attribute("thermalization_accept_rate", acceptance);
  writer.set_attribute("hmc_step_size", sampler.parameters().step_size);
  writer.set_attribute("hmc_n_md_steps", sampler.parameters().n_steps);
  // Part of the cost of the run (flowlat ti counts it), beside seconds_per_row.
  writer.set_attribute("thermalization_seconds", comm.max(seconds_since(start)));
}

// Everything a resumed job needs after the round that ends at `kept` kept
// trajectories per chain: the fields, the counters, then n_written. Collective.
void commit_round(EnsembleWriter& writer, HmcSampler& sampler, int64_t kept, const TrajectoryTotals& totals) {
  const torch::Tensor fields = sampler.fields().to(torch::kCPU, torch::kFloat64).contiguous();
  writer.write_chain_states(sampler.first_chain(), sampler.n_chains(), fields.data_ptr<double>());
  writer.set_attribute("hmc_trajectories_done", sampler.trajectories_done());
  store_totals(writer, totals);
  const int64_t total_chains = writer.layout().chain_states;
  writer.commit(kept * total_chains);
}

// The measured trajectories from kept trajectory `first_kept` on, written
// round by round. Throws CollectiveError(StoppedResumable) when stopped.
// Collective.
TrajectoryTotals run_and_write(const Config& config, HmcSampler& sampler, EnsembleWriter& writer,
                               int64_t first_kept, const TrajectoryTotals& before, const std::string& path,
                               const StopMonitor& monitor, const Communicator& comm) {
  const HmcConfig& hmc = config.hmc;
  const int64_t n = kept_per_chain(hmc), chains = sampler.n_chains(), total_chains = writer.layout().chain_states;
  const int64_t per_round = std::clamp<int64_t>(kRowsPerRound / chains, 1, n);
  const int64_t report_every = std::max<int64_t>(1, (n / per_round) / 10);
  TrajectoryTotals totals;
  TrajectoryTotals global = before;
  double last_round_seconds = 0;
  for (int64_t s0 = first_kept, round = 0; s0 < n; s0 += per_round, ++round) {
    const StopRequest stop = agreed_stop(monitor.stop_request(2 * last_round_seconds), comm);
    if (stop != StopRequest::None) {
      writer.close();
      throw CollectiveError("stopped by " + describe_stop(stop, config.run.max_walltime.seconds) + " with " +
                                std::to_string(s0) + " of " + std::to_string(n) + " kept trajectories per chain in " +
                                path,
                            ExitCode::StoppedResumable);
    }
    const auto start = Clock::now();
    const int64_t count = std::min(per_round, n - s0);
    for (int64_t s = s0; s < s0 + count; ++s) {
      TrajectoryResult result;
      for (int64_t k = 0; k < hmc.save_every; ++k) {
        result = sampler.trajectory();
        totals.add(result);
      }
      const torch::Tensor log_p = -sampler.actions();
      const int64_t first_row = s * total_chains + sampler.first_chain();
      const HostRows rows(first_row, sampler.fields(), log_p, log_p, hmc.config_precision);
      writer.write_rows(rows.view());
      std::vector<int64_t> state(static_cast<size_t>(chains));
      std::vector<uint8_t> accepted(static_cast<size_t>(chains));
      const auto flags = result.accepted.accessor<bool, 1>();
      for (int64_t c = 0; c < chains; ++c) {
        state[static_cast<size_t>(c)] = first_row + c;
        accepted[static_cast<size_t>(c)] = flags[c] ? 1 : 0;
      }
      writer.write_chain(first_row, chains, state.data(), accepted.data());
    }
    last_round_seconds = seconds_since(start);
    totals.seconds += last_round_seconds;
    global = totals.global(comm, before);
    commit_round(writer, sampler, s0 + count, global);
    if (comm.is_root() && ((round + 1) % report_every == 0 || s0 + count == n)) {
      log_line("kept trajectory %lld/%lld: acceptance %.4f, %.3f ms/trajectory of all chains\n",
                  static_cast<long long>(s0 + count), static_cast<long long>(n), global.accepted / global.trajectories,
                  1e3 * global.seconds / (global.trajectories / static_cast<double>(total_chains)));
      std::fflush(stdout);
    }
  }
  return global;
}

// Descriptive attributes and the cost of a row, for the analysis.
void write_summary(EnsembleWriter& writer, const HmcSampler& sampler, const HmcConfig& hmc,
                   const TrajectoryTotals& totals) {
  const HmcParameters& p = sampler.parameters();
  writer.set_attribute("accept_rate", totals.accepted / totals.trajectories);
  writer.set_attribute("mean_delta_h", totals.delta_h / totals.trajectories);
  writer.set_attribute("mean_exp_minus_delta_h", totals.exp_minus_delta_h / totals.trajectories);
  writer.set_attribute("hmc_n_trajectories", hmc.n_trajectories);
  writer.set_attribute("hmc_n_thermalization", hmc.n_thermalization);
  writer.set_attribute("hmc_save_every", hmc.save_every);
  writer.set_attribute("hmc_integrator", std::string(to_string(p.integrator)));
  writer.set_attribute("hmc_step_jitter", p.step_jitter);
  writer.set_attribute("hmc_n_chains_per_rank", p.n_chains_per_rank);
  writer.set_attribute("hmc_seed", static_cast<int64_t>(p.seed));
  // One row costs save_every trajectories: machine seconds and force evaluations.
  const double rows = totals.trajectories / static_cast<double>(hmc.save_every);
  writer.set_attribute("seconds_per_row", totals.seconds / rows);
  writer.set_attribute("evaluations_per_row",
                       static_cast<double>(force_evaluations(p.integrator, p.n_steps) * hmc.save_every));
  writer.set_attribute("evaluation_kind", std::string("force"));
}

// Prints the run's acceptance and energy violation and returns them with
// the file's description (the start of the --json document). Local (rank 0).
nlohmann::json print_summary(const TrajectoryTotals& t, double seconds, const std::string& path, int64_t rows) {
  const double acceptance = t.accepted / t.trajectories;
  const double mean = t.exp_minus_delta_h / t.trajectories;
  const double variance = t.exp_minus_delta_h_squared / t.trajectories - mean * mean;
  const double error = std::sqrt(std::max(variance, 0.0) / t.trajectories);
  log_line("hmc: acceptance %.4f, <dH> = %.3e, <exp(-dH)> = %.5f +- %.5f (naive error; exactly 1 in "
           "equilibrium)\n",
           acceptance, t.delta_h / t.trajectories, mean, error);
  log_line("ensemble: %s, %lld rows in %.2f s\n", path.c_str(), static_cast<long long>(rows), seconds);
  return {{"command", "hmc"},
          {"ensemble", path},
          {"rows", rows},
          {"seconds", seconds},
          {"acceptance", acceptance},
          {"mean_delta_h", t.delta_h / t.trajectories},
          {"exp_minus_delta_h", {{"mean", mean}, {"naive_error", error}}}};
}

// Prints the observables of the finished file with the Gamma method's
// tau_int of each (the "chain" columns; for HMC the chains are the
// trajectory sequences, analysed as replicas) and returns them as
// `flowlat analyze --json` writes them. Local (rank 0).
nlohmann::json print_observables(const std::string& path) {
  const AnalysisReport report(analyze_ensemble(path));
  std::printf("\nobservables (tau_int in units of kept trajectories):\n%s", report.table().c_str());
  std::fflush(stdout);
  return report.json();
}

}  // namespace

std::string hmc_output_path(const Config& config, const HmcOptions& options) {
  return options.output_path.empty() ? config.run.output_dir + "/" + config.hmc.output : options.output_path;
}

nlohmann::json run_hmc(const Config& config, const Communicator& comm, const HmcOptions& options) {
  const auto start = Clock::now();
  // Handlers from the start: a signal during thermalisation stops the job
  // after its first committed round instead of killing it.
  const StopMonitor monitor(config.run.max_walltime.seconds);
  configure_threads(config.run.threads_per_rank);
  const std::string path = hmc_output_path(config, options);
  const NodeLayout node = NodeLayout::of(comm, visible_gpu_set());
  torch::Device device(torch::kCPU);
  HmcParameters p;
  run_collectively(comm, [&] {
    p = from_config(config.hmc);
    validate(p);
    device = select_device(config.run.device, node, config.run.gpu_sharing);
    configure_determinism(config.run.deterministic);
  });
  check_memory(config, MemoryUse::Hmc, device.is_cpu(), comm);
  const std::string kernels = "LibTorch operations on " + device.str();
  print_run_header("hmc", config, comm, device.str(), kernels);
  const int64_t total_chains = p.n_chains_per_rank * comm.size();
  print_parameters(p, config.hmc, total_chains, comm);
  std::unique_ptr<EnsembleWriter> writer = open_file(config, options, path, total_chains, kernels, comm);
  print_output(path, writer->layout(), comm);

  torch::NoGradGuard no_grad;
  HmcSampler sampler(Phi4Action(config.action.m2, config.action.lambda), Lattice(config.lattice.shape), p,
                     comm.rank() * p.n_chains_per_rank, device);
  TrajectoryTotals before;
  int64_t first_kept = 0;
  // A file killed before its first round holds no chain state: the chains
  // start again from their seeds, exactly as the first run did.
  const bool has_state = options.start == HmcStart::Resume && writer->has_attribute("hmc_trajectories_done");
  if (has_state) {
    // The integration the run chose (tuned or configured), the chains' fields and counters.
    sampler.set_integration(writer->attribute_double("hmc_step_size"), writer->attribute_int64("hmc_n_md_steps"));
    const std::vector<double> fields = writer->read_chain_states(sampler.first_chain(), sampler.n_chains());
    std::vector<int64_t> shape{sampler.n_chains()};
    shape.insert(shape.end(), config.lattice.shape.begin(), config.lattice.shape.end());
    sampler.restore(torch::tensor(fields, torch::kFloat64).view(shape), writer->attribute_int64("hmc_trajectories_done"));
    before = stored_totals(*writer);
    first_kept = writer->n_written() / total_chains;
    if (comm.is_root()) {
      log_line("resuming %s at kept trajectory %lld of %lld per chain\n", path.c_str(),
                  static_cast<long long>(first_kept), static_cast<long long>(kept_per_chain(config.hmc)));
    }
  } else {
    if (options.start == HmcStart::Resume && comm.is_root()) {
      log_line("resuming %s at kept trajectory 0 of %lld per chain (stopped before its first round: thermalising "
               "again from the seeds)\n", path.c_str(), static_cast<long long>(kept_per_chain(config.hmc)));
    }
    if (comm.is_root()) {
      log_line("thermalising: %lld trajectories per chain\n", static_cast<long long>(config.hmc.n_thermalization));
    }
    thermalize(config, sampler, *writer, comm);
    commit_round(*writer, sampler, 0, before);
  }
  const TrajectoryTotals totals = run_and_write(config, sampler, *writer, first_kept, before, path, monitor, comm);
  write_summary(*writer, sampler, config.hmc, totals);
  writer->close();
  if (totals.accepted == 0) {
    // Observables of the starting configurations are no result: the file is
    // kept (nothing is lost), the exit code says the input was unusable.
    throw CollectiveError("hmc: no trajectory was accepted in " +
                              std::to_string(static_cast<int64_t>(totals.trajectories)) + " (acceptance 0): " + path +
                              " holds only the starting configurations; reduce hmc.step_size (the run used " +
                              std::to_string(sampler.parameters().step_size) + ") or set hmc.tune: auto",
                          ExitCode::InputError);
  }
  nlohmann::json result;
  run_collectively(comm, [&] {
    if (!comm.is_root()) return;
    result = print_summary(totals, seconds_since(start), path, total_chains * kept_per_chain(config.hmc));
    result["analysis"] = print_observables(path);
    result["provenance"] = provenance_json(kernels);
  });
  return result;
}

}  // namespace flowlat
