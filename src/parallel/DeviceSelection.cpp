#include "parallel/DeviceSelection.hpp"

#include <stdexcept>

namespace flowlat {

torch::Device select_device(DeviceKind kind, const Communicator& comm) {
  const int local_rank = comm.local_rank();
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
}

torch::Dtype to_dtype(Precision precision) {
  return precision == Precision::Float32 ? torch::kFloat32 : torch::kFloat64;
}

}  // namespace flowlat
