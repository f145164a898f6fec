#pragma once
// Clean, resumable stops (README: checkpoints and restart). SIGTERM, SIGINT
// and SIGUSR1 only set a flag; the work loop asks stop_request() once per
// step, the ranks agree in a collective they already make, write a
// checkpoint and exit with ExitCode::StoppedResumable. A second SIGINT
// kills the process at once (the handler is installed with SA_RESETHAND).
#include <csignal>
#include <chrono>
#include <string>

#include "parallel/Communicator.hpp"

namespace flowlat {

enum class StopRequest { None = 0, WallTime = 1, Signal = 2 };  // ordered: max() of ranks wins

class StopMonitor {
 public:
  // Installs the handlers (the previous ones come back in the destructor)
  // and starts the wall-time clock; max_walltime_seconds = 0: no limit. Local.
  explicit StopMonitor(double max_walltime_seconds);
  ~StopMonitor();
  StopMonitor(const StopMonitor&) = delete;
  StopMonitor& operator=(const StopMonitor&) = delete;

  // What this rank asks for before its next unit of work, which (with
  // writing a checkpoint) is expected to take `next_work_seconds`: Signal
  // if a signal arrived, WallTime if the work would end past the limit. Local.
  StopRequest stop_request(double next_work_seconds) const;
  // Seconds since construction. Local.
  double elapsed_seconds() const;
  // "SIGTERM", "SIGINT" or "SIGUSR1" for the first signal caught, else "". Local.
  static std::string caught_signal_name();

 private:
  double max_walltime_seconds_;
  std::chrono::steady_clock::time_point start_;
  struct sigaction previous_[3];
};

// The stop all ranks agree on: the most urgent of their requests (Signal
// over WallTime over None). Collective.
StopRequest agreed_stop(StopRequest local, const Communicator& comm);

// Describes an agreed stop for messages: "signal SIGTERM", "run.max_walltime (... s)".
std::string describe_stop(StopRequest request, double max_walltime_seconds);

}  // namespace flowlat
