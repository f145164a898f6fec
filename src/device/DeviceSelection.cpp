#include "device/DeviceSelection.hpp"

#include <stdexcept>

// OpenBLAS (Debian's libopenblas0-pthread) runs its own thread pool, sized
// from the environment, not from at::set_num_threads: left alone it spins
// two threads per rank on a 2-core machine. Weak: absent with another BLAS.
extern "C" int openblas_get_num_threads(void) __attribute__((weak));
extern "C" void openblas_set_num_threads(int) __attribute__((weak));

namespace flowlat {

torch::Device select_device(DeviceKind kind, const NodeLayout& node) {
  const int local_rank = node.local_rank;
  const bool have_cuda = torch::cuda::is_available();
  if (kind == DeviceKind::Cpu || (kind == DeviceKind::Auto && !have_cuda)) return torch::Device(torch::kCPU);
  if (!have_cuda) {
    throw std::runtime_error("run.device: cuda requested but LibTorch sees no CUDA device "
                             "(this build: " + std::string(TORCH_VERSION) + ")");
  }
  const int64_t count = static_cast<int64_t>(torch::cuda::device_count());
  return torch::Device(torch::kCUDA, static_cast<c10::DeviceIndex>(local_rank % count));
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
