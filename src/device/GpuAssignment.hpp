#pragma once
// Which GPU a rank drives, from where it sits on its node and which GPUs
// each task of the node can see. Launchers expose GPUs three ways:
//   all visible    every task sees all of the node's GPUs (mpirun);
//   one per task   srun --gpus-per-task=1, or a wrapper that sets
//                  CUDA_VISIBLE_DEVICES per rank;
//   shared subsets srun --gpu-bind=closest with cyclic placement: tasks 0
//                  and 2 see GPUs "0,1", tasks 1 and 3 see "2,3".
// Ranks that see the same set take its devices in node-local rank order
// (so ranks 0 and 2 above get GPUs 0 and 1, not both GPU 0, which "local
// rank mod visible GPUs" gave). When two ranks would drive one physical
// GPU the layout is refused unless run.gpu_sharing allows it.
#include <string>
#include <vector>

#include "config/Config.hpp"

namespace flowlat {

// The value of CUDA_VISIBLE_DEVICES when it is not set: every device.
inline constexpr const char* kAllGpusVisible = "*";

struct GpuLayout {
  // Per node-local rank, in rank order: its CUDA_VISIBLE_DEVICES
  // (kAllGpusVisible when unset; "" means no device).
  std::vector<std::string> visible_sets;
  // Devices of the node a task with kAllGpusVisible sees.
  int node_devices = 0;
};

struct GpuChoice {
  int index = 0;          // among this rank's visible devices (the CUDA device ordinal)
  std::string physical;   // the device as the node names it (an entry of CUDA_VISIBLE_DEVICES, or its ordinal)
  int ranks_on_device = 1;
};

// The device of node-local rank `local_rank`. Every rank computes the same
// picture of the whole node, so a refused layout is refused on every rank
// with the same message. Throws std::invalid_argument naming the layout
// when a rank sees no device, or (GpuSharing::Refuse) when two ranks would
// share one. Local.
GpuChoice assign_gpu(const GpuLayout& layout, int local_rank, GpuSharing sharing);

// The visible-set string of this process (CUDA_VISIBLE_DEVICES or
// kAllGpusVisible). Local.
std::string visible_gpu_set();

}  // namespace flowlat
