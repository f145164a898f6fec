#pragma once
// A throw-away single-node SLURM for the jobscript tests: munged,
// slurmctld and slurmd started as root from a scratch directory with their
// own key, configuration, free ports and state, and stopped (jobs
// cancelled, daemons terminated) by the destructor, also when a test fails.
#include <string>

#include "support/TestSupport.hpp"

namespace flowlat::testing {

class SlurmCluster {
 public:
  // Why no cluster can be started here (not root, SLURM or munge missing),
  // or "" when it can. Local.
  static std::string unavailable_reason();

  // Starts the daemons in `directory` and waits until the node is idle;
  // throws std::runtime_error with the daemons' logs if it is not. Local.
  explicit SlurmCluster(const std::string& directory);
  ~SlurmCluster();
  SlurmCluster(const SlurmCluster&) = delete;
  SlurmCluster& operator=(const SlurmCluster&) = delete;

  // Runs a shell command with this cluster's SLURM_CONF. Local.
  CommandResult run(const std::string& command) const;
  // Polls until none of the cluster's jobs is pending or running; false on
  // timeout. Local.
  bool wait_until_idle(double timeout_seconds) const;
  // `scontrol show job` field (e.g. "JobState", "Restarts") of a job. Local.
  std::string job_field(const std::string& job_id, const std::string& field) const;

 private:
  void stop();
  std::string directory_;
  std::string conf_;
};

}  // namespace flowlat::testing
