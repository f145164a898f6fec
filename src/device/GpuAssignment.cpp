#include "device/GpuAssignment.hpp"

#include <cstdlib>
#include <map>
#include <sstream>
#include <stdexcept>

namespace flowlat {
namespace {

// The physical devices of a visible set, in ordinal order.
std::vector<std::string> devices_of(const std::string& set, int node_devices) {
  std::vector<std::string> devices;
  if (set == kAllGpusVisible) {
    for (int i = 0; i < node_devices; ++i) devices.push_back(std::to_string(i));
    return devices;
  }
  std::stringstream in(set);
  std::string item;
  while (std::getline(in, item, ',')) {
    if (!item.empty()) devices.push_back(item);
  }
  return devices;
}

std::string describe(const std::string& set) {
  return set == kAllGpusVisible ? "CUDA_VISIBLE_DEVICES unset" : "CUDA_VISIBLE_DEVICES=" + set;
}

}  // namespace

GpuChoice assign_gpu(const GpuLayout& layout, int local_rank, GpuSharing sharing) {
  const int ranks = static_cast<int>(layout.visible_sets.size());
  if (local_rank < 0 || local_rank >= ranks) {
    throw std::invalid_argument("assign_gpu: node-local rank " + std::to_string(local_rank) + " of " +
                                std::to_string(ranks));
  }
  // Every rank's choice: its position among the ranks with the same set.
  std::vector<GpuChoice> choices(static_cast<size_t>(ranks));
  std::map<std::string, std::vector<int>> ranks_on;
  for (int r = 0; r < ranks; ++r) {
    const std::string& set = layout.visible_sets[r];
    const std::vector<std::string> devices = devices_of(set, layout.node_devices);
    if (devices.empty()) {
      throw std::invalid_argument("run.device: node-local rank " + std::to_string(r) + " sees no GPU (" +
                                  describe(set) + ")");
    }
    int position = 0;
    for (int other = 0; other < r; ++other) position += layout.visible_sets[other] == set ? 1 : 0;
    GpuChoice& c = choices[r];
    c.index = position % static_cast<int>(devices.size());
    c.physical = devices[c.index];
    ranks_on[c.physical].push_back(r);
  }
  for (const auto& [device, users] : ranks_on) {
    if (users.size() > 1 && sharing == GpuSharing::Refuse) {
      std::string list;
      for (int r : users) list += (list.empty() ? "" : ", ") + std::to_string(r);
      throw std::invalid_argument("run.gpu_sharing: node-local ranks " + list + " would share GPU " + device + " (" +
                                  describe(layout.visible_sets[users.front()]) +
                                  "); launch one rank per GPU, or set run.gpu_sharing: allow");
    }
  }
  GpuChoice mine = choices[local_rank];
  mine.ranks_on_device = static_cast<int>(ranks_on[mine.physical].size());
  return mine;
}

std::string visible_gpu_set() {
  const char* set = std::getenv("CUDA_VISIBLE_DEVICES");
  return set ? std::string(set) : std::string(kAllGpusVisible);
}

}  // namespace flowlat
