#include "flow/FlowDevice.hpp"

#include "device/DeviceSelection.hpp"
#include "flow/ConvKernels.hpp"
#include "parallel/CollectiveError.hpp"

namespace flowlat {

torch::Device prepare_flow_device(const RunConfig& run, const Communicator& comm) {
  configure_threads(run.threads_per_rank);
  const NodeLayout node = NodeLayout::of(comm);
  torch::Device device(torch::kCPU);
  run_collectively(comm, [&] {
    conv_kernels::select_from_environment();
    device = select_device(run.device, node);
  });
  return device;
}

const char* cpu_kernels() { return conv_kernels::instruction_set(); }

}  // namespace flowlat
