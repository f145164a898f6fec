#pragma once
// One device per rank: a CUDA rank drives GPU (node-local rank mod visible
// GPUs); the rank's intra-op threads; the network's dtype.
#include <torch/torch.h>

#include "config/Config.hpp"
#include "parallel/Communicator.hpp"

namespace flowlat {

// The device this rank drives; throws if cuda is asked for and absent.
// Local (the node layout is computed once by the caller).
torch::Device select_device(DeviceKind kind, const NodeLayout& node);

// Intra-op threads for this rank (LibTorch and OpenBLAS): the configured
// run.threads_per_rank. Local.
void configure_threads(int64_t threads_per_rank);

torch::Dtype to_dtype(Precision precision);

}  // namespace flowlat
