#include "flow/FlowDevice.hpp"

#include "device/DeviceSelection.hpp"
#include "device/GpuAssignment.hpp"
#include "flow/ConvKernels.hpp"
#include "flow/CouplingKernel.hpp"
#include "parallel/CollectiveError.hpp"

namespace flowlat {

torch::Device prepare_flow_device(const RunConfig& run, const Communicator& comm) {
  configure_threads(run.threads_per_rank);
  const NodeLayout node = NodeLayout::of(comm, visible_gpu_set());
  torch::Device device(torch::kCPU);
  run_collectively(comm, [&] {
    conv_kernels::select_from_environment();
    device = select_device(run.device, node, run.gpu_sharing);
    configure_determinism(run.deterministic);
    // A kernel the device cannot run is an input error, named before any work.
    resolve_coupling_kernel(coupling_kernel_from_environment(), device);
  });
  return device;
}

std::string flow_kernels(const torch::Device& device) {
  if (resolve_coupling_kernel(coupling_kernel_from_environment(), device) == CouplingKernel::Reference) {
    return std::string("reference couplings (LibTorch operations) on ") + device.str();
  }
  return std::string("fused couplings, ") + conv_kernels::instruction_set() + " convolution kernels on " + device.str();
}

}  // namespace flowlat
