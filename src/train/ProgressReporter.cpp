#include "train/ProgressReporter.hpp"

#include <cstdlib>

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <string>

#include "job/Log.hpp"
#include "parallel/MpiSession.hpp"

namespace flowlat {

ProgressReporter::ProgressReporter(int64_t first_step, int64_t total_steps, int64_t log_every,
                                   ProgressStyle style, std::FILE* out)
    : first_step_(first_step),
      total_steps_(total_steps),
      log_every_(log_every),
      style_(style),
      out_(out),
      start_(std::chrono::steady_clock::now()),
      last_draw_(start_) {}

ProgressStyle ProgressReporter::style_for_stdout() {
  // Under mpirun a rank's stdout is a pseudo-terminal even when mpirun's own
  // output goes to a file or a pipe, and a rank cannot tell which: a job
  // started by an MPI launcher (Open MPI, PMI, PMIx) gets lines, as does a
  // SLURM batch job (not an interactive srun --pty).
  const auto set = [](const char* name) { return std::getenv(name) != nullptr; };
  const bool slurm_batch = set("SLURM_JOB_ID") && !set("SLURM_PTY_PORT");
  const bool mpi_launcher = MpiSession::launcher() != MpiSession::Launcher::None;
  return isatty(STDOUT_FILENO) && !slurm_batch && !mpi_launcher ? ProgressStyle::Bar : ProgressStyle::Lines;
}

void ProgressReporter::update(const TrainingHistory& history) {
  const StepMetrics& last = history.steps().back();
  if (style_ == ProgressStyle::Bar) {
    const auto now = std::chrono::steady_clock::now();
    if (now - last_draw_ > std::chrono::milliseconds(200) || last.step == total_steps_) {
      last_draw_ = now;
      draw_bar(history);
    }
    return;
  }
  if (last.step % log_every_ != 0 && last.step != total_steps_) return;
  const size_t window = static_cast<size_t>(std::min<int64_t>(log_every_, last.step - first_step_));
  const auto [loss, ess] = history.recent_means(window);
  double ms = 0;
  for (size_t i = history.steps().size() - window; i < history.steps().size(); ++i) {
    ms += 1e3 * history.steps()[i].seconds;
  }
  std::string held_out;
  for (size_t i = history.steps().size() - window; i < history.steps().size(); ++i) {
    const StepMetrics& m = history.steps()[i];
    if (std::isnan(m.eval_ess)) continue;
    char text[96];
    std::snprintf(text, sizeof text, "  held-out ESS %.4f acc %.4f", m.eval_ess, m.eval_acceptance);
    held_out = text;
  }
  log_to(out_, "step %6lld/%lld  loss %10.4f  batch ESS %.4f%s  lr %.2e  %.2f ms/step\n",
               static_cast<long long>(last.step), static_cast<long long>(total_steps_), loss, ess,
               held_out.c_str(), last.lr, ms / static_cast<double>(std::max<size_t>(window, 1)));
  std::fflush(out_);
}

void ProgressReporter::draw_bar(const TrainingHistory& history) {
  const StepMetrics& last = history.steps().back();
  const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  const double done = static_cast<double>(last.step - first_step_);
  const double rate = elapsed > 0 ? done / elapsed : 0;
  const double eta = rate > 0 ? static_cast<double>(total_steps_ - last.step) / rate : 0;
  constexpr int kWidth = 30;
  const int filled = static_cast<int>(kWidth * static_cast<double>(last.step) / static_cast<double>(total_steps_));
  const auto [loss, ess] = history.recent_means(static_cast<size_t>(log_every_));
  std::fprintf(out_, "\r[%s%s] %lld/%lld  loss %.4f  batch ESS %.3f  %.1f step/s  ETA %02d:%02d ",
               std::string(filled, '#').c_str(), std::string(kWidth - filled, '.').c_str(),
               static_cast<long long>(last.step), static_cast<long long>(total_steps_), loss, ess, rate,
               static_cast<int>(eta) / 60, static_cast<int>(eta) % 60);
  std::fflush(out_);
}

void ProgressReporter::finish(const TrainingHistory& history) {
  if (style_ == ProgressStyle::Bar && !history.steps().empty()) std::fprintf(out_, "\n");
  std::fflush(out_);
}

}  // namespace flowlat
