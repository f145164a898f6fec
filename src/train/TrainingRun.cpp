#include "train/TrainingRun.hpp"

#include <cstdio>
#include <filesystem>

#include "BuildInfo.hpp"
#include "parallel/CollectiveError.hpp"
#include "parallel/DeviceSelection.hpp"
#include "train/ProgressReporter.hpp"
#include "train/Trainer.hpp"
#include "train/TrainingHistory.hpp"

namespace flowlat {

void print_run_header(const char* command, const Config& config, const Communicator& comm,
                      const std::string& device) {
  if (!comm.is_root()) return;
  std::printf("flowlat %s (commit %s) %s: %d rank(s), device %s, %s, %lld thread(s) per rank\n", kVersion,
              kGitCommit, command, comm.size(), device.c_str(), to_string(config.run.precision),
              static_cast<long long>(config.run.threads_per_rank));
  std::printf("--- resolved configuration (%s) ---\n%s---\n", config.source_file.c_str(),
              config.resolved_yaml().c_str());
  std::fflush(stdout);
}

void run_training(const Config& config, const Communicator& comm, OverwritePolicy overwrite) {
  configure_threads(config.run.threads_per_rank);
  torch::Device device(torch::kCPU);
  run_collectively(comm, [&] { device = select_device(config.run.device, comm); });
  print_run_header("train", config, comm, device.str());

  const RunDirectory run_dir(config.run.output_dir);
  run_dir.prepare(config, overwrite, comm);

  std::unique_ptr<Trainer> trainer;
  run_collectively(comm, [&] { trainer = std::make_unique<Trainer>(config, comm, device); });
  if (comm.is_root()) {
    std::printf("flow: %lld layers, %lld parameters; global batch %lld (%lld on rank 0)\n",
                static_cast<long long>(config.flow.n_layers), static_cast<long long>(trainer->flow()->parameter_count()),
                static_cast<long long>(config.train.batch_size), static_cast<long long>(trainer->shard().count));
  }

  std::unique_ptr<TrainingHistory> history;
  run_collectively(comm, [&] {
    if (comm.is_root()) history = std::make_unique<TrainingHistory>(run_dir.history_file());
  });
  ProgressReporter progress(0, config.train.steps, config.train.log_every, ProgressReporter::style_for_stdout());
  double total_seconds = 0;
  while (trainer->steps_done() < config.train.steps) {
    const StepMetrics metrics = trainer->step();
    total_seconds += metrics.seconds;
    if (comm.is_root()) {
      history->append(metrics);
      progress.update(*history);
    }
  }
  trainer->verify_ranks_agree();

  run_collectively(comm, [&] {
    if (!comm.is_root()) return;
    progress.finish(*history);
    const std::string temporary = run_dir.model_file() + ".tmp";
    trainer->flow()->save_to(temporary);
    std::filesystem::rename(temporary, run_dir.model_file());
    const auto [loss, ess] = history->recent_means(100);
    std::printf("trained %lld steps in %.1f s (%.2f ms/step); last %lld steps: loss %.4f, ESS %.4f\n",
                static_cast<long long>(config.train.steps), total_seconds,
                1e3 * total_seconds / static_cast<double>(config.train.steps),
                static_cast<long long>(std::min<int64_t>(100, config.train.steps)), loss, ess);
    std::printf("model: %s\nhistory: %s\n", run_dir.model_file().c_str(), run_dir.history_file().c_str());
  });
}

}  // namespace flowlat
