#pragma once
// The `flowlat train` job: prepare the run directory, train, report
// progress, write history.csv and model.pt.
#include "config/Config.hpp"
#include "io/RunDirectory.hpp"
#include "parallel/Communicator.hpp"

namespace flowlat {

// Runs the whole training job. Collective; rank 0 prints and writes.
void run_training(const Config& config, const Communicator& comm, OverwritePolicy overwrite);

// Banner and resolved configuration, printed by rank 0 at every start.
void print_run_header(const char* command, const Config& config, const Communicator& comm,
                      const std::string& device);

}  // namespace flowlat
