#include "job/RunHeader.hpp"

#include <cstdio>

#include "BuildInfo.hpp"

namespace flowlat {

void print_run_header(const char* command, const Config& config, const Communicator& comm, const std::string& device,
                      const std::string& kernels) {
  if (!comm.is_root()) return;
  std::printf("flowlat %s (commit %s) %s: %d rank(s), device %s, %s, %lld thread(s) per rank%s\n", kVersion,
              kGitCommit, command, comm.size(), device.c_str(), to_string(config.run.precision),
              static_cast<long long>(config.run.threads_per_rank),
              kernels.empty() ? "" : (", " + kernels + " CPU kernels").c_str());
  std::printf("--- resolved configuration (%s) ---\n%s---\n", config.source_file.c_str(),
              config.resolved_yaml().c_str());
  std::fflush(stdout);
}

}  // namespace flowlat
