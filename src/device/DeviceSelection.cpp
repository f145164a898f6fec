#include "device/DeviceSelection.hpp"

#include <ATen/Context.h>
#include <c10/core/impl/DeviceGuardImplInterface.h>

#include <stdexcept>

#include "device/GpuAssignment.hpp"

// OpenBLAS (Debian's libopenblas0-pthread) runs its own thread pool, sized
// from the environment, not from at::set_num_threads: left alone it spins
// two threads per rank on a 2-core machine. Weak: absent with another BLAS.
extern "C" int openblas_get_num_threads(void) __attribute__((weak));
extern "C" void openblas_set_num_threads(int) __attribute__((weak));

namespace flowlat {

torch::Device select_device(DeviceKind kind, const NodeLayout& node, GpuSharing sharing) {
  const bool have_cuda = torch::cuda::is_available();
  if (kind == DeviceKind::Cpu || (kind == DeviceKind::Auto && !have_cuda)) return torch::Device(torch::kCPU);
  if (!have_cuda) {
    throw std::runtime_error("run.device: cuda requested but LibTorch sees no CUDA device "
                             "(this build: " + std::string(TORCH_VERSION) + ")");
  }
  GpuLayout layout;
  layout.visible_sets = node.tags;
  layout.node_devices = static_cast<int>(torch::cuda::device_count());
  const GpuChoice choice = assign_gpu(layout, node.local_rank, sharing);
  const torch::Device device(torch::kCUDA, static_cast<c10::DeviceIndex>(choice.index));
  // Once, for the whole process: every later CUDA call of this rank,
  // LibTorch's and MPI's, runs on this device.
  c10::impl::getDeviceGuardImpl(device.type())->setDevice(device);
  return device;
}

void configure_determinism(bool deterministic) {
  if (!torch::cuda::is_available()) return;
  auto& context = at::globalContext();
  context.setAllowTF32CuBLAS(!deterministic);
  context.setAllowTF32CuDNN(!deterministic);
  context.setDeterministicCuDNN(deterministic);
  context.setBenchmarkCuDNN(false);
}

void configure_threads(int64_t threads_per_rank) {
  torch::set_num_threads(static_cast<int>(threads_per_rank));
  if (openblas_get_num_threads != nullptr && openblas_set_num_threads != nullptr &&
      openblas_get_num_threads() != threads_per_rank) {
    openblas_set_num_threads(static_cast<int>(threads_per_rank));
  }
}

torch::Dtype to_dtype(Precision precision) {
  return precision == Precision::Float32 ? torch::kFloat32 : torch::kFloat64;
}

}  // namespace flowlat
