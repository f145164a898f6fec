#include "sample/SampleJob.hpp"

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <memory>

#include "action/Phi4Action.hpp"
#include "config/ConfigDiff.hpp"
#include "config/ConfigError.hpp"
#include "device/DeviceSelection.hpp"
#include "device/HostRows.hpp"
#include "ensemble/EnsembleReader.hpp"
#include "ensemble/EnsembleSummary.hpp"
#include "ensemble/EnsembleWriter.hpp"
#include "flow/FlowDevice.hpp"
#include "flow/NormalizingFlow.hpp"
#include "io/FileChecksum.hpp"
#include "job/MemoryCheck.hpp"
#include "job/RunHeader.hpp"
#include "job/StopMonitor.hpp"
#include "parallel/CollectiveError.hpp"
#include "job/Log.hpp"
#include "provenance/BuildInfo.hpp"
#include "sample/FlowAnnealing.hpp"

namespace flowlat {
namespace {
using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

NormalizingFlow load_flow(const Config& config, const std::string& model_path, torch::Device device) {
  NormalizingFlow flow(FlowArchitecture::from_config(config));
  flow->load_from(model_path);
  flow->to(device, to_dtype(config.run.precision));
  flow->eval();
  // Sampling differentiates, if at all, only with respect to the latent
  // draws (annealing): no parameter gradients.
  for (torch::Tensor& p : flow->parameters()) p.set_requires_grad(false);
  return flow;
}

// Refuses to continue a file made from another configuration.
void check_resumable(const std::string& path, const Config& config, const std::string& model_path,
                     const std::string& model_checksum) {
  const EnsembleReader reader = open_ensemble_input(path);
  // Rows of another model must never be appended under the first one's checksum.
  const std::string recorded = reader.has_attribute("model_checksum") ? reader.attribute_string("model_checksum") : "";
  if (recorded != model_checksum) {
    throw ConfigError(path + ": --resume needs the model the file was started with (model_checksum " + recorded +
                      "), but " + model_path + " has " + model_checksum);
  }
  refuse_forbidden_changes(reader.attribute_string("config"), config.resolved_yaml(), Changeable::OnSampleResume,
                           "in the file", path,
                           "--resume needs the configuration the file was started with (its 'config' attribute); "
                           "these keys differ");
}

// A new ensemble file with its provenance attributes, or the partly
// written one to continue. Collective.
std::unique_ptr<EnsembleWriter> open_ensemble(const Config& config, const SampleOptions& options,
                                              const std::string& path, const std::string& model_path,
                                              const std::string& model_checksum, const std::string& kernels,
                                              const Communicator& comm) {
  std::unique_ptr<EnsembleWriter> writer;
  run_collectively(comm, [&] {
    if (options.start == SampleStart::Resume) {
      writer = std::make_unique<EnsembleWriter>(EnsembleWriter::reopen(path, comm));
      return;
    }
    EnsembleLayout layout;
    layout.n_configs = config.sample.n_configs;
    layout.lattice_shape = config.lattice.shape;
    layout.precision = config.run.precision;
    layout.storage = config.sample.store_configs ? ConfigStorage::Store : ConfigStorage::Skip;
    layout.chunk_rows = config.sample.batch_size;
    std::filesystem::create_directories(std::filesystem::absolute(path).parent_path());
    writer = std::make_unique<EnsembleWriter>(
        EnsembleWriter::create(path, layout, config, EnsembleSource::Flow, kernels, options.overwrite, comm));
    writer->set_attribute("model_checksum", model_checksum);
    if (const auto seconds = NormalizingFlowImpl::train_seconds_of(model_path)) {
      writer->set_attribute("train_seconds", *seconds);
    }
    writer->set_attribute("sample_seed", static_cast<int64_t>(config.sample.seed));
    writer->set_attribute("train_seed", static_cast<int64_t>(config.train.seed));
    writer->commit(0);  // on disk before the first batch, for a --resume after a kill
  });
  return writer;
}

AnnealingSchedule annealing_schedule(const SampleConfig& sample) {
  return {sample.anneal_steps, sample.anneal_md_steps, sample.anneal_step_size};
}

// Batch b's configurations and log q from its prior draws z: the flow's
// (with the sign flips of a symmetrised flow), or, with sample.anneal_steps
// > 0, annealed (FlowAnnealing.hpp), log q then being -S - log W so that the
// file's log_w = log W. Local.
// Moves of the annealing transitions made by this rank, and accepted.
struct AnnealingTally {
  double moves = 0;
  double accepted = 0;
};

FlowSample draw_rows(const Config& config, NormalizingFlow& flow, const Phi4Action& action, const torch::Tensor& z,
                     uint64_t b, AnnealingTally& tally) {
  if (config.sample.anneal_steps == 0) {
    return flow->sample(z, stream_key(config.sample.seed, StreamPurpose::SignFlip, b));
  }
  const AnnealedSample annealed = anneal_from_flow(*flow, action, z, annealing_schedule(config.sample),
                                                   stream_key(config.sample.seed, StreamPurpose::Annealing, b));
  const double moves = static_cast<double>(config.sample.anneal_steps * z.size(0));
  tally.moves += moves;
  tally.accepted += annealed.acceptance * moves;
  return {annealed.x, -action(annealed.x) - annealed.log_w};
}

// Rows are flushed (n_written raised) at most every kFlushSeconds, not
// every round: a flush syncs the file, and at small batches it took more
// time than the flow (57 % of a batch-64 run at L = 8). A killed job loses
// the rows since the last flush; a stop flushes first. Each flush prints
// the "sampled k/N" progress line.
constexpr double kFlushSeconds = 5.0;

// Whether rank 0's clock says a flush is due; the same answer on every
// rank. Collective.
bool flush_due(Clock::time_point last_commit, const Communicator& comm) {
  return comm.max(comm.is_root() && seconds_since(last_commit) >= kFlushSeconds ? 1.0 : 0.0) > 0;
}

// Generates the rows from the writer's n_written on: batch b from the
// stream (sample.seed, b), batches dealt round-robin to the ranks. Throws
// CollectiveError(StoppedResumable) after flushing when stopped. Collective.
void generate(const Config& config, NormalizingFlow& flow, torch::Device device, EnsembleWriter& writer,
              const std::string& path, const Communicator& comm, SampleTiming& timing, AnnealingTally& tally) {
  const int64_t n = config.sample.n_configs, batch = config.sample.batch_size;
  const int64_t n_batches = (n + batch - 1) / batch;
  const Phi4Action action(config.action.m2, config.action.lambda);
  const auto options = torch::TensorOptions().dtype(to_dtype(config.run.precision)).device(device);
  torch::NoGradGuard no_grad;
  const StopMonitor monitor(config.run.max_walltime.seconds);
  double last_round_seconds = 0;
  Clock::time_point last_commit = Clock::now();
  bool first_round = true;
  for (int64_t round = writer.n_written() / batch; round < n_batches; round += comm.size()) {
    // One small allreduce per round: all ranks stop after the same round.
    const StopRequest stop = agreed_stop(monitor.stop_request(2 * last_round_seconds), comm);
    if (stop != StopRequest::None) {
      writer.commit(std::min(n, round * batch));
      writer.close();
      throw CollectiveError("stopped by " + describe_stop(stop, config.run.max_walltime.seconds) + " with " +
                                std::to_string(std::min(n, round * batch)) + " of " + std::to_string(n) +
                                " configurations in " + path,
                            ExitCode::StoppedResumable);
    }
    const auto round_start = Clock::now();
    const int64_t b = round + comm.rank();
    const int64_t offset = std::min(b * batch, n);
    const int64_t count = b < n_batches ? std::min(batch, n - offset) : 0;
    const torch::Tensor z = flow->prior().draw_block(
        stream_key(config.sample.seed, StreamPurpose::Sampling, static_cast<uint64_t>(b)), count, options);
    const FlowSample sample = draw_rows(config, flow, action, z, static_cast<uint64_t>(b), tally);
    const HostRows rows(offset, sample.x, sample.log_q, -action(sample.x), config.run.precision);
    const auto io_start = Clock::now();
    writer.write_rows(rows.view());
    const int64_t complete = std::min(n, (round + comm.size()) * batch);
    // The first round is flushed at once: a job killed early keeps rows, and
    // "sampled" in the log always means rows another process can read.
    if (complete == n || first_round || flush_due(last_commit, comm)) {
      writer.commit(complete);
      last_commit = Clock::now();
      if (comm.is_root()) {
        log_line("sampled %lld/%lld\n", static_cast<long long>(complete), static_cast<long long>(n));
        std::fflush(stdout);
      }
    }
    first_round = false;
    timing.io_seconds += seconds_since(io_start);
    last_round_seconds = seconds_since(round_start);
  }
}

}  // namespace

std::string default_ensemble_path(const Config& config) {
  return config.run.output_dir + "/" + config.sample.output;
}
std::string default_model_path(const Config& config) { return config.run.output_dir + "/model.pt"; }
std::string sample_model_path(const Config& config, const SampleOptions& options) {
  return options.model_path.empty() ? default_model_path(config) : options.model_path;
}
std::string sample_output_path(const Config& config, const SampleOptions& options) {
  return options.output_path.empty() ? default_ensemble_path(config) : options.output_path;
}

SampleResult run_sampling(const Config& config, const Communicator& comm, const SampleOptions& options) {
  const auto start = Clock::now();
  const std::string model_path = sample_model_path(config, options);
  const std::string path = sample_output_path(config, options);
  const torch::Device device = prepare_flow_device(config.run, comm);
  check_memory(config, MemoryUse::Sample, device.is_cpu(), comm);
  NormalizingFlow flow{nullptr};
  std::string model_checksum;
  run_collectively(comm, [&] {
    flow = load_flow(config, model_path, device);
    model_checksum = file_checksum(model_path);
    if (options.start == SampleStart::Resume) check_resumable(path, config, model_path, model_checksum);
  });
  const std::string kernels = flow_kernels(device);
  print_run_header("sample", config, comm, device.str(), kernels);

  std::unique_ptr<EnsembleWriter> writer =
      open_ensemble(config, options, path, model_path, model_checksum, kernels, comm);
  const int64_t first_row = writer->n_written() / config.sample.batch_size * config.sample.batch_size;
  if (comm.is_root() && first_row > 0) {
    log_line("resuming %s at row %lld of %lld\n", path.c_str(), static_cast<long long>(writer->n_written()),
                static_cast<long long>(config.sample.n_configs));
  }
  SampleTiming timing;
  AnnealingTally tally;
  generate(config, flow, device, *writer, path, comm, timing, tally);
  const double anneal_moves = comm.sum(tally.moves), anneal_accepted = comm.sum(tally.accepted);
  const double anneal_acceptance = anneal_moves > 0 ? anneal_accepted / anneal_moves : 1.0;
  const double generation_seconds = seconds_since(start);
  // The cost of a row, for the analysis (CostModel): machine seconds and network passes.
  run_collectively(comm, [&] {
    const double rows = static_cast<double>(config.sample.n_configs - first_row);
    if (rows > 0) writer->set_attribute("seconds_per_row", generation_seconds / rows);
    const int64_t passes = flow->network_passes_per_sample();
    writer->set_attribute("evaluations_per_row",
                          config.sample.anneal_steps == 0
                              ? static_cast<double>(passes)
                              : annealing_passes_per_sample(annealing_schedule(config.sample), passes));
    writer->set_attribute("evaluation_kind", std::string("network pass"));
    writer->set_attribute("anneal_steps", static_cast<int64_t>(config.sample.anneal_steps));
    if (config.sample.anneal_steps > 0) writer->set_attribute("anneal_acceptance", anneal_acceptance);
  });
  writer->close();

  const auto summary_start = Clock::now();
  EnsembleSummary summary;
  run_collectively(comm, [&] {
    if (comm.is_root()) summary = summarize_ensemble(path, config.sample.mcmc_seed);
  });
  timing.summary_seconds = seconds_since(summary_start);
  timing.total_seconds = seconds_since(start);
  SampleResult result{timing, nullptr};
  if (comm.is_root()) {
    const double rate = static_cast<double>(config.sample.n_configs - first_row) / generation_seconds;
    log_line("ensemble: %s\n  N = %lld, ESS = %.4f, independence-Metropolis acceptance = %.4f, "
             "log Z = %.6f +- %.6f\n",
             path.c_str(), static_cast<long long>(summary.n), summary.ess, summary.accept_rate, summary.log_z,
             summary.log_z_error);
    if (config.sample.anneal_steps > 0) {
      log_line("  annealed: %lld steps of %lld leapfrog steps (size %g) each, acceptance %.4f\n",
               static_cast<long long>(config.sample.anneal_steps), static_cast<long long>(config.sample.anneal_md_steps),
               config.sample.anneal_step_size, anneal_acceptance);
    }
    log_line("  %.1f configs/s over %.2f s (HDF5 writes %.0f%%, chain and summary %.2f s)\n", rate,
             generation_seconds, 100.0 * timing.io_seconds / generation_seconds, timing.summary_seconds);
    result.summary = {{"command", "sample"},
                      {"ensemble", path},
                      {"model", model_path},
                      {"n", summary.n},
                      {"ess", summary.ess},
                      {"imh_acceptance", summary.accept_rate},
                      {"log_z", summary.log_z},
                      {"log_z_error", summary.log_z_error},
                      {"configs_per_second", rate},
                      {"anneal_steps", config.sample.anneal_steps},
                      {"anneal_acceptance", anneal_acceptance},
                      {"seconds", timing.total_seconds},
                      {"provenance", provenance_json(kernels)}};
  }
  return result;
}

}  // namespace flowlat
