#pragma once
// Failures that every rank agrees on, so the job can end cleanly (rank 0
// prints, all ranks finalize) instead of aborting.
#include <functional>
#include <stdexcept>
#include <string>

#include "parallel/Communicator.hpp"

namespace flowlat {

enum class ExitCode : int {
  Success = 0,
  RuntimeFailure = 1,   // a rank failed; message printed with its rank
  InputError = 2,       // bad configuration or command line
  StoppedResumable = 3, // stopped by signal or wall time after a checkpoint
};

class CollectiveError : public std::runtime_error {
 public:
  CollectiveError(const std::string& message, ExitCode code) : std::runtime_error(message), code_(code) {}
  ExitCode code() const { return code_; }

 private:
  ExitCode code_;
};

// Runs `action` on every rank. If it throws on any rank, every rank throws
// the same CollectiveError carrying the lowest failing rank's message
// (prefixed "rank r: " when size > 1); ConfigError maps to InputError.
// Collective.
void run_collectively(const Communicator& comm, const std::function<void()>& action);

}  // namespace flowlat
