#pragma once
// Training progress on rank 0: a redrawn bar with rate and ETA when stdout
// is a terminal and no MPI launcher or SLURM batch job is involved, else one
// timestamped line every `log_every` steps.
#include <chrono>
#include <cstdint>
#include <cstdio>

#include "train/TrainingHistory.hpp"

namespace flowlat {

enum class ProgressStyle { Bar, Lines };

class ProgressReporter {
 public:
  ProgressReporter(int64_t first_step, int64_t total_steps, int64_t log_every, ProgressStyle style,
                   std::FILE* out = stdout);
  // Bar on an interactive terminal, lines otherwise (the .cpp says why).
  static ProgressStyle style_for_stdout();
  void update(const TrainingHistory& history);  // Local (call on rank 0).
  void finish(const TrainingHistory& history);

 private:
  void draw_bar(const TrainingHistory& history);
  int64_t first_step_;
  int64_t total_steps_;
  int64_t log_every_;
  ProgressStyle style_;
  std::FILE* out_;
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point last_draw_;
};

}  // namespace flowlat
