#include "train/TrainingHistory.hpp"

#include <cmath>
#include <iomanip>
#include <stdexcept>

namespace flowlat {

TrainingHistory::TrainingHistory(const std::string& path) : out_(path, std::ios::trunc) {
  if (!out_) throw std::runtime_error(path + ": cannot open for writing");
  out_ << "step,loss,ess,seconds,skipped,lr,eval_ess,eval_acceptance\n";
}

TrainingHistory::TrainingHistory(const std::string& path, const std::vector<StepMetrics>& previous)
    : TrainingHistory(path) {
  for (const StepMetrics& m : previous) {
    steps_.push_back(m);
    steps_.back().log_w = torch::Tensor();
    write_row(m);
  }
  out_.flush();
}

void TrainingHistory::append(const StepMetrics& m) {
  steps_.push_back(m);
  steps_.back().log_w = torch::Tensor();  // rows only: a long run must not keep every batch's weights
  write_row(m);
  out_.flush();
}

void TrainingHistory::write_row(const StepMetrics& m) {
  out_ << m.step << ',' << std::setprecision(17) << m.loss << ',' << m.ess << ',' << std::setprecision(6)
       << m.seconds << ',' << (m.skipped ? 1 : 0) << ',' << std::setprecision(17) << m.lr << ',';
  // Held-out columns stay empty on steps without an evaluation.
  if (!std::isnan(m.eval_ess)) out_ << m.eval_ess << ',' << m.eval_acceptance;
  else out_ << ',';
  out_ << '\n';
}

std::pair<double, double> TrainingHistory::recent_means(size_t window) const {
  const size_t n = std::min(window, steps_.size());
  double loss = 0, ess = 0;
  for (size_t i = steps_.size() - n; i < steps_.size(); ++i) {
    loss += steps_[i].loss;
    ess += steps_[i].ess;
  }
  return n == 0 ? std::pair{0.0, 0.0} : std::pair{loss / n, ess / n};
}

}  // namespace flowlat
