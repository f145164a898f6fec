#pragma once
// The banner every job prints at its start: code version and commit, the
// command, ranks, device and threads, then the resolved configuration
// (the same text config.yaml and every output file record).
#include <string>

#include "config/Config.hpp"
#include "parallel/Communicator.hpp"

namespace flowlat {

// `device` names the rank's device ("cpu", "cuda:0"); `kernels` the compute
// kernels (flow/FlowDevice.hpp: flow_kernels), or empty.
// Rank 0 prints; the others return. Local.
void print_run_header(const char* command, const Config& config, const Communicator& comm, const std::string& device,
                      const std::string& kernels);

}  // namespace flowlat
