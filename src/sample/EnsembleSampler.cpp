#include "sample/EnsembleSampler.hpp"

#include <chrono>
#include <cstdio>
#include <filesystem>

#include "action/Phi4Action.hpp"
#include "config/ConfigDiff.hpp"
#include "config/ConfigError.hpp"
#include "flow/NormalizingFlow.hpp"
#include "io/FileChecksum.hpp"
#include "parallel/CollectiveError.hpp"
#include "parallel/DeviceSelection.hpp"
#include "parallel/StopMonitor.hpp"
#include "sample/EnsembleReader.hpp"
#include "sample/EnsembleSummary.hpp"
#include "sample/EnsembleWriter.hpp"
#include "train/TrainingRun.hpp"

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
  return flow;
}

// Refuses to continue a file made from another configuration.
void check_resumable(const std::string& path, const Config& config) {
  const EnsembleReader reader(path);
  const std::vector<std::string> changes =
      forbidden_changes(reader.attribute_string("config"), config.resolved_yaml(), Changeable::OnSampleResume, "in the file");
  if (changes.empty()) return;
  std::string message = path + ": --resume needs the configuration the file was started with (its 'config' "
                        "attribute); these keys differ:";
  for (const std::string& change : changes) message += "\n  " + change;
  throw ConfigError(message);
}

// The strongest stop request of any rank (signal over wall time). Collective.
StopRequest agreed_stop(StopRequest local, const Communicator& comm) {
  return static_cast<StopRequest>(static_cast<int>(comm.max(static_cast<double>(local))));
}

}  // namespace

std::string default_ensemble_path(const Config& config) {
  return config.run.output_dir + "/" + config.sample.output;
}
std::string default_model_path(const Config& config) { return config.run.output_dir + "/model.pt"; }

SampleTiming run_sampling(const Config& config, const Communicator& comm, const SampleOptions& options) {
  const auto start = Clock::now();
  configure_threads(config.run.threads_per_rank);
  const std::string model_path = options.model_path.empty() ? default_model_path(config) : options.model_path;
  const std::string path = options.output_path.empty() ? default_ensemble_path(config) : options.output_path;
  torch::Device device(torch::kCPU);
  NormalizingFlow flow{nullptr};
  std::string model_checksum;
  run_collectively(comm, [&] {
    device = select_device(config.run.device, comm);
    flow = load_flow(config, model_path, device);
    model_checksum = file_checksum(model_path);
    if (options.start == SampleStart::Resume) check_resumable(path, config);
  });
  print_run_header("sample", config, comm, device.str());

  EnsembleLayout layout;
  layout.n_configs = config.sample.n_configs;
  layout.lattice_shape = config.lattice.shape;
  layout.precision = config.run.precision;
  layout.storage = config.sample.store_configs ? ConfigStorage::Store : ConfigStorage::Skip;
  layout.chunk_rows = config.sample.batch_size;
  std::unique_ptr<EnsembleWriter> writer;
  run_collectively(comm, [&] {
    if (options.start == SampleStart::Resume) {
      writer = std::make_unique<EnsembleWriter>(EnsembleWriter::reopen(path, layout, comm));
    } else {
      std::filesystem::create_directories(std::filesystem::path(path).parent_path());
      writer = std::make_unique<EnsembleWriter>(
          EnsembleWriter::create(path, layout, config, EnsembleSource::Flow, options.overwrite, comm));
      writer->set_attribute("model_checksum", model_checksum);
      writer->set_attribute("sample_seed", static_cast<int64_t>(config.sample.seed));
      writer->set_attribute("train_seed", static_cast<int64_t>(config.train.seed));
    }
  });

  const int64_t n = config.sample.n_configs, batch = config.sample.batch_size;
  const int64_t n_batches = (n + batch - 1) / batch;
  const int64_t first_batch = writer->n_written() / batch;
  if (comm.is_root() && first_batch > 0) {
    std::printf("resuming %s at row %lld of %lld\n", path.c_str(), static_cast<long long>(writer->n_written()),
                static_cast<long long>(n));
  }
  const Phi4Action action(config.action.m2, config.action.lambda);
  const auto options_for_draws = torch::TensorOptions().dtype(to_dtype(config.run.precision)).device(device);
  SampleTiming timing;
  torch::NoGradGuard no_grad;
  const StopMonitor monitor(config.run.max_walltime.seconds);
  double last_round_seconds = 0;
  for (int64_t round = first_batch; round < n_batches; round += comm.size()) {
    // One small allreduce per round: all ranks stop after the same round.
    const StopRequest stop = agreed_stop(monitor.stop_request(2 * last_round_seconds), comm);
    if (stop != StopRequest::None) {
      writer->close();
      throw CollectiveError("stopped by " + describe_stop(stop, config.run.max_walltime.seconds) + " with " +
                                std::to_string(std::min(n, round * batch)) + " of " + std::to_string(n) +
                                " configurations in " + path + "; continue with: flowlat sample " +
                                config.source_file + " --resume",
                            ExitCode::StoppedResumable);
    }
    const auto round_start = Clock::now();
    const int64_t b = round + comm.rank();
    const int64_t offset = std::min(b * batch, n);
    const int64_t count = b < n_batches ? std::min(batch, n - offset) : 0;
    torch::Tensor z = flow->prior().draw_block(stream_key(config.sample.seed, StreamPurpose::Sampling,
                                                          static_cast<uint64_t>(b)),
                                               count, options_for_draws);
    const FlowSample sample = flow->forward(z);
    const torch::Tensor log_p = -action(sample.x);
    const auto io_start = Clock::now();
    writer->write_rows(offset, sample.x, sample.log_q, log_p);
    const int64_t complete = std::min(n, (round + comm.size()) * batch);
    writer->commit(complete);
    timing.io_seconds += seconds_since(io_start);
    if (comm.is_root() && (complete == n || (round / comm.size()) % 16 == 0)) {
      std::printf("sampled %lld/%lld\n", static_cast<long long>(complete), static_cast<long long>(n));
      std::fflush(stdout);
    }
    last_round_seconds = seconds_since(round_start);
  }
  writer->close();
  const double generation_seconds = seconds_since(start);

  const auto summary_start = Clock::now();
  EnsembleSummary summary;
  run_collectively(comm, [&] {
    if (comm.is_root()) summary = summarize_ensemble(path, config.sample.mcmc_seed);
  });
  timing.summary_seconds = seconds_since(summary_start);
  timing.total_seconds = seconds_since(start);
  if (comm.is_root()) {
    std::printf("ensemble: %s\n  N = %lld, ESS = %.4f, independence-Metropolis acceptance = %.4f, "
                "log Z = %.6f +- %.6f\n",
                path.c_str(), static_cast<long long>(summary.n), summary.ess, summary.accept_rate, summary.log_z,
                summary.log_z_error);
    std::printf("  %.1f configs/s over %.2f s (HDF5 writes %.0f%%, chain and summary %.2f s)\n",
                static_cast<double>(n - first_batch * batch) / generation_seconds, generation_seconds,
                100.0 * timing.io_seconds / generation_seconds, timing.summary_seconds);
  }
  return timing;
}

}  // namespace flowlat
