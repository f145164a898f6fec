#include "train/TrainJob.hpp"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <optional>

#include "io/AtomicFile.hpp"
#include "flow/FlowDevice.hpp"
#include "job/MemoryCheck.hpp"
#include "job/RunHeader.hpp"
#include "parallel/CollectiveError.hpp"
#include "job/StopMonitor.hpp"
#include "train/ProgressReporter.hpp"
#include "config/ConfigDiff.hpp"
#include "config/ConfigError.hpp"
#include "config/ConfigKeys.hpp"
#include "train/Trainer.hpp"
#include "train/TrainingCheckpoint.hpp"
#include "train/TrainingHistory.hpp"
#include "job/Log.hpp"
#include "provenance/BuildInfo.hpp"

namespace flowlat {
namespace {
namespace fs = std::filesystem;

// The checkpoint to continue from, if the run should and can continue;
// refuses (InputError, nothing touched) a changed configuration. Collective.
std::optional<LoadedCheckpoint> find_resume_point(const Config& config, const RunDirectory& run_dir,
                                                  const Communicator& comm, TrainStart start) {
  if (start == TrainStart::Fresh && config.run.resume == ResumeMode::Never) return std::nullopt;
  std::optional<LoadedCheckpoint> checkpoint = load_latest_checkpoint(checkpoint_path(run_dir.path()), comm);
  run_collectively(comm, [&] {
    if (!comm.is_root()) return;
    if (!checkpoint && start == TrainStart::Resume) {
      throw CollectiveError("--resume: no checkpoint in " + run_dir.path() +
                                " (run without --resume to start a new run)", ExitCode::InputError);
    }
    if (!checkpoint) return;
    refuse_forbidden_changes(checkpoint->config_yaml, config.resolved_yaml(), Changeable::OnTrainResume,
                             "in the checkpoint", checkpoint->path,
                             "cannot resume with a changed configuration (only " +
                                 changeable_keys(Changeable::OnTrainResume) + " may change)");
    if (checkpoint->step > config.train.steps) {
      throw CollectiveError(checkpoint->path + ": the checkpoint is at step " + std::to_string(checkpoint->step) +
                                ", past train.steps = " + std::to_string(config.train.steps),
                            ExitCode::InputError);
    }
  });
  return checkpoint;
}

// Reports the files passed over and keeps a damaged newest one aside, so
// the next checkpoint does not push the good .prev out. Rank 0 only.
void adopt_checkpoint(const Config& config, const RunDirectory& run_dir, const LoadedCheckpoint& checkpoint,
                      const Communicator& comm) {
  if (!comm.is_root()) return;
  for (const std::string& reason : checkpoint.rejected) std::fprintf(stderr, "flowlat: warning: %s\n", reason.c_str());
  const std::string newest = checkpoint_path(run_dir.path());
  if (checkpoint.path != newest && fs::exists(newest)) {
    fs::rename(newest, newest + ".damaged");
    std::fprintf(stderr, "flowlat: warning: kept the unusable %s as %s.damaged\n", newest.c_str(), newest.c_str());
  }
  log_line("resuming from %s at step %lld of %lld (written by %lld rank(s)%s)\n", checkpoint.path.c_str(),
              static_cast<long long>(checkpoint.step), static_cast<long long>(config.train.steps),
              static_cast<long long>(checkpoint.n_ranks),
              checkpoint.n_ranks == comm.size() ? "" : "; another rank count continues correctly, not bitwise");
  std::fflush(stdout);
  write_file_atomically(run_dir.config_file(), config.resolved_yaml());
}

struct TrainingLoopState {
  std::unique_ptr<Trainer> trainer;
  std::unique_ptr<TrainingHistory> history;  // rank 0 only
  double train_seconds = 0;                  // summed over this and earlier jobs
  double checkpoint_seconds = 0;             // duration of the last checkpoint write
};

// The flow as it is now, the best by held-out ESS so far, as
// model_best.pt. Rank 0 writes; errors reach every rank. Collective.
void save_best_model(const RunDirectory& run_dir, Trainer& trainer, double train_seconds, const Communicator& comm) {
  run_collectively(comm, [&] {
    if (!comm.is_root()) return;
    const std::string path = run_dir.file("model_best.pt");
    trainer.flow()->save_to(path + ".tmp", train_seconds);
    std::filesystem::rename(path + ".tmp", path);
  });
}

void save_checkpoint(const Config& config, const RunDirectory& run_dir, TrainingLoopState& state) {
  const auto start = std::chrono::steady_clock::now();
  write_training_checkpoint(checkpoint_path(run_dir.path()), config, *state.trainer, state.history.get(),
                            state.train_seconds);
  state.checkpoint_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// Trains to train.steps; returns the agreed stop request if stopped early
// (after writing a checkpoint). Collective.
StopRequest train_until_done_or_stopped(const Config& config, const RunDirectory& run_dir, TrainingLoopState& state,
                                        const Communicator& comm) {
  Trainer& trainer = *state.trainer;
  ProgressReporter progress(trainer.steps_done(), config.train.steps, config.train.log_every,
                            ProgressReporter::style_for_stdout());
  const StopMonitor monitor(config.run.max_walltime.seconds);
  double last_step_seconds = 0;
  while (trainer.steps_done() < config.train.steps) {
    // Margin for run.max_walltime: the next step and a checkpoint, twice over.
    const double margin = 2 * (last_step_seconds + state.checkpoint_seconds);
    const StepMetrics metrics = trainer.step(monitor.stop_request(margin));
    last_step_seconds = metrics.seconds;
    state.train_seconds += metrics.seconds;
    if (!std::isnan(metrics.eval_ess) && trainer.best().step == metrics.step) {
      save_best_model(run_dir, trainer, state.train_seconds, comm);
    }
    if (comm.is_root()) {
      state.history->append(metrics);
      progress.update(*state.history);
    }
    const bool done = trainer.steps_done() == config.train.steps;
    if (metrics.stop != StopRequest::None || done || trainer.steps_done() % config.train.checkpoint_every == 0) {
      save_checkpoint(config, run_dir, state);
    }
    if (metrics.stop != StopRequest::None && !done) {
      // The stop message starts on a line of its own, not after the bar.
      if (comm.is_root()) progress.finish(*state.history);
      return metrics.stop;
    }
  }
  if (comm.is_root()) progress.finish(*state.history);
  return StopRequest::None;
}

// Writes model.pt, prints the results and returns them (the --json
// document of `flowlat train`). Local (rank 0).
nlohmann::json write_final_model(const Config& config, const RunDirectory& run_dir, const TrainingLoopState& state,
                                 const std::string& kernels) {
  const std::string temporary = run_dir.model_file() + ".tmp";
  state.trainer->flow()->save_to(temporary, state.train_seconds);
  std::filesystem::rename(temporary, run_dir.model_file());
  const int64_t window = std::min<int64_t>(100, config.train.steps);
  const auto [loss, ess] = state.history->recent_means(static_cast<size_t>(window));
  const double ms_per_step = 1e3 * state.train_seconds / static_cast<double>(config.train.steps);
  log_line("trained %lld steps in %.1f s (%.2f ms/step); last %lld steps: loss %.4f, batch ESS %.4f\n",
           static_cast<long long>(config.train.steps), state.train_seconds, ms_per_step,
           static_cast<long long>(window), loss, ess);
  nlohmann::json result = {
      {"command", "train"},
      {"run_dir", run_dir.path()},
      {"model", run_dir.model_file()},
      {"history", run_dir.history_file()},
      {"checkpoint", checkpoint_path(run_dir.path())},
      {"steps", config.train.steps},
      {"train_seconds", state.train_seconds},
      {"ms_per_step", ms_per_step},
      {"last_steps", {{"steps", window}, {"loss", loss}, {"batch_ess", ess}, {"batch_size", config.train.batch_size}}},
      {"best", nullptr},
      {"provenance", provenance_json(kernels)}};
  const BestModel& best = state.trainer->best();
  if (best.ess >= 0) {
    log_line("best held-out ESS %.4f at step %lld: %s\n", best.ess, static_cast<long long>(best.step),
             run_dir.file("model_best.pt").c_str());
    result["best"] = {{"held_out_ess", best.ess},
                      {"step", best.step},
                      {"eval_size", config.train.eval_size},
                      {"model", run_dir.file("model_best.pt")}};
  }
  log_line("model: %s\nhistory: %s\ncheckpoint: %s\n", run_dir.model_file().c_str(),
           run_dir.history_file().c_str(), checkpoint_path(run_dir.path()).c_str());
  return result;
}

}  // namespace

nlohmann::json run_training(const Config& config, const Communicator& comm, OverwritePolicy overwrite,
                            TrainStart start) {
  const torch::Device device = prepare_flow_device(config.run, comm);
  run_collectively(comm, [&] {
    if (!config.train.init_from.empty() && !std::filesystem::exists(config.train.init_from)) {
      throw ConfigError("train.init_from: " + config.train.init_from + ": no such model file");
    }
  });
  check_memory(config, MemoryUse::Train, device.is_cpu(), comm);
  const std::string kernels = flow_kernels(device);
  print_run_header("train", config, comm, device.str(), kernels);

  const RunDirectory run_dir(config.run.output_dir);
  const std::optional<LoadedCheckpoint> checkpoint = find_resume_point(config, run_dir, comm, start);
  if (checkpoint) run_collectively(comm, [&] { adopt_checkpoint(config, run_dir, *checkpoint, comm); });

  // The trainer first (it refuses a batch smaller than the rank count or an
  // unusable train.init_from model), the run directory only then: a run
  // refused here leaves nothing behind to block its corrected rerun.
  TrainingLoopState state;
  run_collectively(comm, [&] {
    state.trainer = std::make_unique<Trainer>(config, comm, device);
    if (checkpoint) restore_training_state(*checkpoint, *state.trainer, device);
  });
  if (!checkpoint) run_dir.prepare(config, kernels, overwrite, comm);
  if (checkpoint) state.train_seconds = checkpoint->train_seconds;
  if (comm.is_root()) {
    log_line("flow: %lld layers, %lld parameters; global batch %lld (%lld on rank 0)\n",
                static_cast<long long>(config.flow.n_layers),
                static_cast<long long>(state.trainer->flow()->parameter_count()),
                static_cast<long long>(config.train.batch_size), static_cast<long long>(state.trainer->shard().count));
  }
  run_collectively(comm, [&] {
    if (!comm.is_root()) return;
    state.history = checkpoint ? std::make_unique<TrainingHistory>(run_dir.history_file(), checkpoint->history)
                               : std::make_unique<TrainingHistory>(run_dir.history_file());
  });

  const StopRequest stop = train_until_done_or_stopped(config, run_dir, state, comm);
  state.trainer->verify_ranks_agree();
  if (stop != StopRequest::None) {
    throw CollectiveError("stopped by " + describe_stop(stop, config.run.max_walltime.seconds) + " after step " +
                              std::to_string(state.trainer->steps_done()) + " of " +
                              std::to_string(config.train.steps) + "; checkpoint " +
                              checkpoint_path(run_dir.path()),
                          ExitCode::StoppedResumable);
  }
  nlohmann::json result;
  run_collectively(comm, [&] {
    if (comm.is_root()) result = write_final_model(config, run_dir, state, kernels);
  });
  return result;
}

}  // namespace flowlat
