#pragma once
// One device per rank: CUDA rank r uses GPU (local rank mod visible GPUs).
#include <torch/torch.h>

#include "config/Config.hpp"
#include "parallel/Communicator.hpp"

namespace flowlat {

// The device this rank drives, and the CPU kernels' instruction set
// (FLOWLAT_CPU_KERNELS, ConvKernels.hpp); throws if cuda is asked for and
// absent or the kernels are not available. Collective (node-local rank).
torch::Device select_device(DeviceKind kind, const Communicator& comm);

// Intra-op threads for this rank: the configured run.threads_per_rank. Local.
void configure_threads(int64_t threads_per_rank);

torch::Dtype to_dtype(Precision precision);

}  // namespace flowlat
