#pragma once
// Per-step training history, written by rank 0 as CSV (README: outputs):
//   step,loss,ess,seconds,skipped,lr,eval_ess,eval_acceptance
// (the held-out columns empty on steps without an evaluation).
#include <fstream>
#include <string>
#include <vector>

#include "train/Trainer.hpp"

namespace flowlat {

class TrainingHistory {
 public:
  // Opens `path` for writing (rank 0 only) with the header line.
  explicit TrainingHistory(const std::string& path);
  // The same, continuing a restarted run: writes `previous` rows first. Local.
  TrainingHistory(const std::string& path, const std::vector<StepMetrics>& previous);
  void append(const StepMetrics& metrics);  // Local; flushed every line.
  const std::vector<StepMetrics>& steps() const { return steps_; }
  // Means of loss and ESS over the last `window` recorded steps.
  std::pair<double, double> recent_means(size_t window) const;

 private:
  void write_row(const StepMetrics& metrics);
  std::ofstream out_;
  std::vector<StepMetrics> steps_;
};

}  // namespace flowlat
