#include "job/StopMonitor.hpp"

#include <cstdio>

namespace flowlat {
namespace {
constexpr int kSignals[3] = {SIGTERM, SIGINT, SIGUSR1};
volatile std::sig_atomic_t g_caught_signal = 0;

// Async-signal-safe: records the first signal, nothing else.
extern "C" void record_stop_signal(int signal_number) {
  if (g_caught_signal == 0) g_caught_signal = signal_number;
}
}  // namespace

StopMonitor::StopMonitor(double max_walltime_seconds)
    : max_walltime_seconds_(max_walltime_seconds), start_(std::chrono::steady_clock::now()) {
  g_caught_signal = 0;
  for (int i = 0; i < 3; ++i) {
    struct sigaction action {};
    action.sa_handler = record_stop_signal;
    sigemptyset(&action.sa_mask);
    // SA_RESTART: MPI and file I/O in progress are not interrupted.
    // SA_RESETHAND on SIGINT: a second Ctrl-C gets the default action.
    action.sa_flags = SA_RESTART | (kSignals[i] == SIGINT ? SA_RESETHAND : 0);
    sigaction(kSignals[i], &action, &previous_[i]);
  }
}

StopMonitor::~StopMonitor() {
  for (int i = 0; i < 3; ++i) sigaction(kSignals[i], &previous_[i], nullptr);
}

double StopMonitor::elapsed_seconds() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
}

StopRequest StopMonitor::stop_request(double next_work_seconds) const {
  if (g_caught_signal != 0) return StopRequest::Signal;
  if (max_walltime_seconds_ > 0 && elapsed_seconds() + next_work_seconds >= max_walltime_seconds_) {
    return StopRequest::WallTime;
  }
  return StopRequest::None;
}

std::string StopMonitor::caught_signal_name() {
  switch (g_caught_signal) {
    case SIGTERM: return "SIGTERM";
    case SIGINT: return "SIGINT";
    case SIGUSR1: return "SIGUSR1";
    default: return "";
  }
}

std::string describe_stop(StopRequest request, double max_walltime_seconds) {
  if (request == StopRequest::WallTime) {
    char text[96];
    std::snprintf(text, sizeof text, "run.max_walltime (%.0f s)", max_walltime_seconds);
    return text;
  }
  const std::string name = StopMonitor::caught_signal_name();
  return name.empty() ? "a signal (on another rank)" : "signal " + name;
}

StopRequest agreed_stop(StopRequest local, const Communicator& comm) {
  return static_cast<StopRequest>(static_cast<int>(comm.max(static_cast<double>(local))));
}

}  // namespace flowlat
