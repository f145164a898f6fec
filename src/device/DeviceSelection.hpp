#pragma once
// One device per rank: a CUDA rank drives the GPU GpuAssignment picks and
// makes it the current device; the rank's intra-op threads; the network's
// dtype; deterministic GPU arithmetic.
#include <torch/torch.h>

#include "config/Config.hpp"
#include "parallel/Communicator.hpp"

namespace flowlat {

// The device this rank drives, made the current CUDA device for the rest of
// the process (CUDA-aware MPI, default-stream synchronisation and new
// contexts use the current device, not the tensors'). `node` carries every
// node-local rank's visible_gpu_set() as its tags. Throws if cuda is asked
// for and absent, or the layout is refused (assign_gpu). Local.
torch::Device select_device(DeviceKind kind, const NodeLayout& node, GpuSharing sharing);

// run.deterministic on a GPU: TF32 off for matmuls and convolutions, cuDNN
// restricted to deterministic algorithms and not benchmarking; off: LibTorch's
// defaults. No effect on the CPU, which is deterministic either way. Local.
void configure_determinism(bool deterministic);

// Intra-op threads for this rank (LibTorch and OpenBLAS): the configured
// run.threads_per_rank. Local.
void configure_threads(int64_t threads_per_rank);

torch::Dtype to_dtype(Precision precision);

}  // namespace flowlat
