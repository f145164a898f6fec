#include "job/RunHeader.hpp"

#include <cstdio>

#include "provenance/BuildInfo.hpp"
#include "job/Log.hpp"

namespace flowlat {

void print_run_header(const char* command, const Config& config, const Communicator& comm, const std::string& device,
                      const std::string& kernels) {
  if (!comm.is_root()) return;
  const BuildInfo& build = build_info();
  log_line("flowlat %s (commit %s, %s) %s: %d rank(s), device %s, %s, %lld thread(s) per rank\n",
              build.version.c_str(), commit_with_dirty_mark().c_str(), build.build_type.c_str(), command, comm.size(),
              device.c_str(), to_string(config.run.precision), static_cast<long long>(config.run.threads_per_rank));
  if (!kernels.empty()) log_line("kernels: %s\n", kernels.c_str());
  log_line("libraries: LibTorch %s; %s; HDF5 %s\n", build.libtorch.c_str(), build.mpi_library.c_str(),
              build.hdf5.c_str());
  std::printf("--- resolved configuration (%s) ---\n%s---\n", config.source_file.c_str(),
              config.resolved_yaml().c_str());
  std::fflush(stdout);
}

}  // namespace flowlat
