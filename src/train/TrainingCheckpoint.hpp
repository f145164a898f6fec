#pragma once
// Training checkpoints (README: checkpoints and restart): model, Adam state
// (with its step counts), every rank's torch CPU generator state, the step,
// the consecutive-skip counter, the metrics history and the resolved
// configuration, serialised with LibTorch's archive (tensors in their own
// dtype, so a restart is exact) inside a checksummed CheckpointFile.
#include <optional>
#include <string>
#include <vector>

#include "train/Trainer.hpp"
#include "train/TrainingHistory.hpp"

namespace flowlat {

struct LoadedCheckpoint {
  std::string path;         // the file it came from (the newest valid one)
  std::string payload;      // verified archive bytes
  std::string config_yaml;  // resolved configuration of the run that wrote it
  int64_t step = 0;
  int64_t n_ranks = 0;
  double train_seconds = 0;          // training time before the restart
  std::vector<StepMetrics> history;  // rows 1..step (without log_w)
  std::vector<std::string> rejected; // why newer files were not usable
};

// `path` for a run directory: <run.output_dir>/checkpoint.ckpt.
std::string checkpoint_path(const std::string& run_directory);

// Gathers every rank's generator state; rank 0 writes the checkpoint
// atomically (keeping the previous one as .prev) while the others wait;
// errors reach every rank. `history` is used on rank 0 only. Collective.
void write_training_checkpoint(const std::string& path, const Config& config, Trainer& trainer,
                               const TrainingHistory* history, double train_seconds);

// Rank 0 tries `path`, then `path`.prev, and sends the first valid one to
// every rank. Empty if neither file exists; throws CollectiveError if files
// exist but none is valid (nothing is modified). Collective.
std::optional<LoadedCheckpoint> load_latest_checkpoint(const std::string& path, const Communicator& comm);

// Loads model, optimizer, counters and (same rank count only) this rank's
// generator state into `trainer`. Local (every rank calls it).
void restore_training_state(const LoadedCheckpoint& checkpoint, Trainer& trainer, const torch::Device& device);

}  // namespace flowlat
