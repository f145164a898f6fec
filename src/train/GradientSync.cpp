#include "train/GradientSync.hpp"

#if __has_include(<mpi-ext.h>)
#include <mpi-ext.h>
#endif

#include <cstdlib>
#include <stdexcept>
#include <string>

namespace flowlat {

CudaAwareMpi detect_cuda_aware_mpi() {
#if defined(MPIX_CUDA_AWARE_SUPPORT) && MPIX_CUDA_AWARE_SUPPORT
  return MPIX_Query_cuda_support() ? CudaAwareMpi::Yes : CudaAwareMpi::No;
#else
  return CudaAwareMpi::No;
#endif
}

GradientStaging gradient_staging_from_environment() {
  const char* value = std::getenv("FLOWLAT_GRADIENT_STAGING");
  return value && std::string(value) == "host" ? GradientStaging::Host : GradientStaging::Auto;
}

GradientSync::GradientSync(Communicator comm, std::vector<torch::Tensor> parameters, GradientStaging staging)
    : comm_(comm), parameters_(std::move(parameters)), cuda_aware_(detect_cuda_aware_mpi()), staging_(staging) {}

namespace {
MPI_Datatype mpi_type(const torch::Tensor& t) {
  if (t.scalar_type() == torch::kFloat32) return MPI_FLOAT;
  if (t.scalar_type() == torch::kFloat64) return MPI_DOUBLE;
  throw std::invalid_argument("GradientSync: only float32 and float64 tensors are reduced");
}
}  // namespace

void GradientSync::broadcast_from_root(const std::vector<torch::Tensor>& buffers) {
  if (comm_.size() == 1) return;
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> all = parameters_;
  all.insert(all.end(), buffers.begin(), buffers.end());
  for (auto& t : all) {
    torch::Tensor host = t.detach().to(torch::kCPU).contiguous();
    comm_.broadcast(host.data_ptr(), host.numel() * static_cast<int64_t>(host.element_size()), 0);
    t.copy_(host);
  }
}

torch::Tensor GradientSync::fused_gradients() const {
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> pieces;
  pieces.reserve(parameters_.size());
  for (const auto& p : parameters_) {
    pieces.push_back(p.grad().defined() ? p.grad().reshape(-1) : torch::zeros({p.numel()}, p.options()));
  }
  return torch::cat(pieces).contiguous();
}

bool GradientSync::all_finite(const torch::Tensor& fused) {
  torch::NoGradGuard no_grad;
  return torch::isfinite(fused).all().item<bool>();
}

bool GradientSync::stages_through_host(const torch::Tensor& fused) const {
  return staging_ == GradientStaging::Host || (fused.is_cuda() && cuda_aware_ == CudaAwareMpi::No);
}

void GradientSync::allreduce(torch::Tensor& fused) {
  const bool stage = stages_through_host(fused);
  torch::Tensor buffer = fused;
  if (stage) {
    // A blocking copy into pinned memory: it waits for the stream that produced `fused`.
    buffer = torch::empty(fused.sizes(), fused.options().device(torch::kCPU).pinned_memory(fused.is_cuda()));
    buffer.copy_(fused);
  } else if (fused.is_cuda()) {
    // CUDA-aware MPI reads device memory directly and knows nothing of
    // LibTorch's streams: the kernels that wrote `fused` must be done.
    torch::cuda::synchronize(fused.device().index());
  }
  MPI_Allreduce(MPI_IN_PLACE, buffer.data_ptr(), static_cast<int>(buffer.numel()), mpi_type(buffer), MPI_SUM,
                comm_.handle());
  if (stage) fused.copy_(buffer);
}

void GradientSync::sum_gradients(torch::Tensor fused) {
  if (comm_.size() == 1) return;
  torch::NoGradGuard no_grad;
  allreduce(fused);
  int64_t offset = 0;
  for (auto& p : parameters_) {
    torch::Tensor slice = fused.narrow(0, offset, p.numel()).view_as(p);
    if (p.grad().defined()) {
      p.mutable_grad().copy_(slice);
    } else {
      p.mutable_grad() = slice.clone();
    }
    offset += p.numel();
  }
}

uint64_t GradientSync::parameter_checksum() const { return tensor_checksum(parameters_); }

uint64_t tensor_checksum(const std::vector<torch::Tensor>& tensors) {
  uint64_t hash = 1469598103934665603ULL;
  for (const auto& t : tensors) {
    const torch::Tensor host = t.detach().to(torch::kCPU).contiguous();
    const auto* bytes = static_cast<const unsigned char*>(host.data_ptr());
    const int64_t n = host.numel() * static_cast<int64_t>(host.element_size());
    for (int64_t i = 0; i < n; ++i) {
      hash ^= bytes[i];
      hash *= 1099511628211ULL;
    }
  }
  return hash;
}

}  // namespace flowlat
