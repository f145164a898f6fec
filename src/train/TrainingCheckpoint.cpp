#include "train/TrainingCheckpoint.hpp"

#include <ATen/CPUGeneratorImpl.h>

#include <cstdio>
#include <filesystem>
#include <mutex>
#include <sstream>

#include "io/CheckpointFile.hpp"
#include "parallel/CollectiveError.hpp"

namespace flowlat {
namespace {
constexpr const char* kFormat = "flowlat-training-checkpoint";
constexpr int64_t kFormatVersion = 1;

torch::Tensor cpu_generator_state() {
  at::Generator generator = at::detail::getDefaultCPUGenerator();
  std::lock_guard<std::mutex> lock(generator.mutex());
  return generator.get_state().contiguous();
}

void set_cpu_generator_state(const torch::Tensor& state) {
  at::Generator generator = at::detail::getDefaultCPUGenerator();
  std::lock_guard<std::mutex> lock(generator.mutex());
  generator.set_state(state.cpu().contiguous());
}

// Every rank's generator state as rows of a uint8 tensor on rank 0. Collective.
torch::Tensor gather_generator_states(const Communicator& comm) {
  const torch::Tensor state = cpu_generator_state();
  const int64_t n = state.numel();
  if (!comm.all_equal(static_cast<uint64_t>(n))) {
    throw CollectiveError("ranks hold generator states of different sizes", ExitCode::RuntimeFailure);
  }
  torch::Tensor all = torch::empty({comm.is_root() ? comm.size() : 0, n}, torch::kUInt8);
  MPI_Gather(state.data_ptr(), static_cast<int>(n), MPI_BYTE, comm.is_root() ? all.data_ptr() : nullptr,
             static_cast<int>(n), MPI_BYTE, 0, comm.handle());
  return all;
}

// Columns: loss, ess, seconds, skipped, lr, eval_ess, eval_acceptance
// (checkpoints written before the last three existed have four).
constexpr int64_t kHistoryColumns = 7;

torch::Tensor history_tensor(const std::vector<StepMetrics>& steps) {
  torch::Tensor rows = torch::empty({static_cast<int64_t>(steps.size()), kHistoryColumns}, torch::kFloat64);
  auto a = rows.accessor<double, 2>();
  for (size_t i = 0; i < steps.size(); ++i) {
    a[i][0] = steps[i].loss;
    a[i][1] = steps[i].ess;
    a[i][2] = steps[i].seconds;
    a[i][3] = steps[i].skipped ? 1.0 : 0.0;
    a[i][4] = steps[i].lr;
    a[i][5] = steps[i].eval_ess;
    a[i][6] = steps[i].eval_acceptance;
  }
  return rows;
}

std::vector<StepMetrics> history_rows(const torch::Tensor& rows, int64_t first_step) {
  const torch::Tensor cpu = rows.to(torch::kCPU, torch::kFloat64).contiguous();
  auto a = cpu.accessor<double, 2>();
  std::vector<StepMetrics> steps(static_cast<size_t>(cpu.size(0)));
  for (size_t i = 0; i < steps.size(); ++i) {
    steps[i].step = first_step + static_cast<int64_t>(i);
    steps[i].loss = a[i][0];
    steps[i].ess = a[i][1];
    steps[i].seconds = a[i][2];
    steps[i].skipped = a[i][3] > 0;
    if (cpu.size(1) >= kHistoryColumns) {
      steps[i].lr = a[i][4];
      steps[i].eval_ess = a[i][5];
      steps[i].eval_acceptance = a[i][6];
    }
  }
  return steps;
}

c10::IValue read_value(torch::serialize::InputArchive& archive, const std::string& key) {
  c10::IValue value;
  archive.read(key, value);
  return value;
}

// The metadata of a verified payload; throws if it is not a training checkpoint.
LoadedCheckpoint decode(const std::string& payload, const std::string& path) {
  std::istringstream in(payload);
  torch::serialize::InputArchive archive;
  archive.load_from(in, torch::Device(torch::kCPU));
  if (read_value(archive, "format").toStringRef() != kFormat ||
      read_value(archive, "format_version").toInt() != kFormatVersion) {
    throw CheckpointError(path + ": not a flowlat training checkpoint of format version 1");
  }
  LoadedCheckpoint checkpoint;
  checkpoint.path = path;
  checkpoint.payload = payload;
  checkpoint.config_yaml = read_value(archive, "config").toStringRef();
  checkpoint.step = read_value(archive, "step").toInt();
  checkpoint.n_ranks = read_value(archive, "n_ranks").toInt();
  checkpoint.train_seconds = read_value(archive, "train_seconds").toDouble();
  torch::Tensor rows;
  archive.read("history", rows);
  checkpoint.history = history_rows(rows, 1);
  return checkpoint;
}

std::string serialize(const Config& config, Trainer& trainer, const std::vector<StepMetrics>& history,
                      double train_seconds, const torch::Tensor& generator_states) {
  torch::serialize::OutputArchive archive;
  archive.write("format", c10::IValue(std::string(kFormat)));
  archive.write("format_version", c10::IValue(kFormatVersion));
  archive.write("config", c10::IValue(config.resolved_yaml()));
  archive.write("step", c10::IValue(trainer.steps_done()));
  archive.write("consecutive_skips", c10::IValue(trainer.consecutive_skips()));
  archive.write("n_ranks", c10::IValue(static_cast<int64_t>(trainer.comm().size())));
  archive.write("train_seconds", c10::IValue(train_seconds));
  archive.write("history", history_tensor(history));
  archive.write("generator_states", generator_states);
  torch::serialize::OutputArchive model;
  trainer.flow()->save(model);
  archive.write("model", model);
  torch::serialize::OutputArchive optimizer;
  trainer.optimizer().save(optimizer);
  archive.write("optimizer", optimizer);
  const BestModel& best = trainer.best();
  archive.write("best_ess", c10::IValue(best.ess));
  archive.write("best_step", c10::IValue(best.step));
  for (size_t i = 0; i < best.parameters.size(); ++i) archive.write("best_" + std::to_string(i), best.parameters[i]);
  std::ostringstream out;
  archive.save_to(out);
  return out.str();
}

}  // namespace

std::string checkpoint_path(const std::string& run_directory) { return run_directory + "/checkpoint.ckpt"; }

void write_training_checkpoint(const std::string& path, const Config& config, Trainer& trainer,
                               const TrainingHistory* history, double train_seconds) {
  const Communicator& comm = trainer.comm();
  torch::Tensor states;
  run_collectively(comm, [&] { states = gather_generator_states(comm); });
  run_collectively(comm, [&] {
    if (!comm.is_root()) return;
    write_checkpoint_file(path, serialize(config, trainer, history->steps(), train_seconds, states));
  });
}

std::optional<LoadedCheckpoint> load_latest_checkpoint(const std::string& path, const Communicator& comm) {
  LoadedCheckpoint found;
  std::vector<std::string> rejected;
  run_collectively(comm, [&] {
    if (!comm.is_root()) return;
    for (const std::string& candidate : {path, previous_checkpoint_path(path)}) {
      if (!std::filesystem::exists(candidate)) continue;
      try {
        found = decode(read_checkpoint_file(candidate), candidate);
        found.rejected = rejected;
        return;
      } catch (const CheckpointError& e) {
        rejected.push_back(e.what());
      } catch (const std::exception& e) {
        const std::string what = e.what();
        rejected.push_back(candidate + ": unreadable archive: " + what.substr(0, what.find('\n')));
      }
    }
    if (!rejected.empty()) {
      std::string message = "no usable checkpoint (nothing was changed):";
      for (const std::string& reason : rejected) message += "\n  " + reason;
      throw CollectiveError(message, ExitCode::RuntimeFailure);
    }
  });
  const std::string source = comm.broadcast(found.path, 0);
  if (source.empty()) return std::nullopt;
  const std::string payload = comm.broadcast(found.payload, 0);
  // Rank 0 decoded it already; the others decode the same bytes.
  run_collectively(comm, [&] {
    if (!comm.is_root()) found = decode(payload, source);
  });
  return found;
}

void restore_training_state(const LoadedCheckpoint& checkpoint, Trainer& trainer, const torch::Device& device) {
  std::istringstream in(checkpoint.payload);
  torch::serialize::InputArchive archive;
  archive.load_from(in, device);
  torch::serialize::InputArchive model;
  archive.read("model", model);
  trainer.flow()->load(model);
  torch::serialize::InputArchive optimizer;
  archive.read("optimizer", optimizer);
  trainer.optimizer().load(optimizer);
  trainer.set_steps_done(read_value(archive, "step").toInt());
  c10::IValue best_ess;
  if (archive.try_read("best_ess", best_ess)) {
    BestModel best;
    best.ess = best_ess.toDouble();
    best.step = read_value(archive, "best_step").toInt();
    for (size_t i = 0;; ++i) {
      torch::Tensor parameter;  // a fresh tensor each time: try_read refills a defined one in place
      if (!archive.try_read("best_" + std::to_string(i), parameter)) break;
      best.parameters.push_back(parameter);
    }
    trainer.set_best(std::move(best));
  }
  trainer.set_consecutive_skips(read_value(archive, "consecutive_skips").toInt());
  // Nothing draws from the generator after initialisation today (prior
  // draws use keyed streams), but a restart must not depend on that.
  const Communicator& comm = trainer.comm();
  if (checkpoint.n_ranks == comm.size()) {
    torch::Tensor states;
    archive.read("generator_states", states);
    set_cpu_generator_state(states[comm.rank()]);
  }
}

}  // namespace flowlat
