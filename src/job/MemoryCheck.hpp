#pragma once
// The memory a run needs at least, from its configuration alone, checked
// against what the node can give before anything is created: a lattice or
// batch too large for the machine is refused naming its keys, instead of
// dying inside LibTorch (or being killed by the kernel) after the run
// directory was made. The estimate is a lower bound (measured at L = 64:
// 0.6-0.8 of the peak resident memory for three architectures), so a run
// that fits is never refused.
#include <string>

#include "config/Config.hpp"
#include "parallel/Communicator.hpp"

namespace flowlat {

enum class MemoryUse { Train, Sample, Hmc };

// Bytes one of `ranks` ranks needs at least for `use`. Local.
double rank_memory_bytes(const Config& config, MemoryUse use, int ranks);
// Bytes this process may still allocate: MemAvailable, or less under a
// cgroup (SLURM) memory limit; infinity when unknown. Local.
double available_memory_bytes();
// Throws ConfigError (on every rank) when the ranks on some node need more
// than available_memory_bytes() there. Only for ranks computing on the CPU
// (`on_cpu`; a GPU's memory is LibTorch's to report). Collective.
void check_memory(const Config& config, MemoryUse use, bool on_cpu, const Communicator& comm);

}  // namespace flowlat
