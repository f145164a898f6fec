#pragma once
// Data-parallel glue between LibTorch modules and MPI (Horovod/DDP style):
// parameters broadcast from rank 0, gradients fused into one contiguous
// buffer and summed with a single MPI_Allreduce.
#include <torch/torch.h>

#include <cstdint>
#include <vector>

#include "parallel/Communicator.hpp"

namespace flowlat {

enum class CudaAwareMpi { Yes, No };

// Whether the MPI library can reduce device memory directly. Local.
CudaAwareMpi detect_cuda_aware_mpi();

// Where the fused gradient is reduced. Auto: in place, staged through
// pinned host memory only for device tensors without CUDA-aware MPI.
// Host: always through a separate host buffer (the staging path, also on
// the CPU, so that CPU tests run it; FLOWLAT_GRADIENT_STAGING=host).
enum class GradientStaging { Auto, Host };

// GradientStaging::Host if FLOWLAT_GRADIENT_STAGING=host, else Auto. Local.
GradientStaging gradient_staging_from_environment();

class GradientSync {
 public:
  GradientSync(Communicator comm, std::vector<torch::Tensor> parameters,
               GradientStaging staging = gradient_staging_from_environment());

  // Copies rank 0's parameters (and `buffers`) to every rank. Collective.
  void broadcast_from_root(const std::vector<torch::Tensor>& buffers = {});
  // Every parameter's .grad in one contiguous buffer on the parameters'
  // device (missing grads as zeros). Local.
  torch::Tensor fused_gradients() const;
  // True iff every element of `fused` is finite: one device-to-host
  // synchronisation however many parameters there are. Local.
  static bool all_finite(const torch::Tensor& fused);
  // Sums `fused` (from fused_gradients) over ranks with one MPI_Allreduce
  // and writes it back into every parameter's .grad. Before MPI touches
  // device memory the producing stream is synchronised. Collective.
  void sum_gradients(torch::Tensor fused);
  // Whether sum_gradients reduces `fused` through a host buffer. Local.
  bool stages_through_host(const torch::Tensor& fused) const;
  // FNV-1a hash of every parameter's bytes. Local.
  uint64_t parameter_checksum() const;

 private:
  void allreduce(torch::Tensor& fused);

  Communicator comm_;
  std::vector<torch::Tensor> parameters_;
  CudaAwareMpi cuda_aware_;
  GradientStaging staging_;
};

// FNV-1a over the bytes of a CPU copy of each tensor, in order. Local.
uint64_t tensor_checksum(const std::vector<torch::Tensor>& tensors);

}  // namespace flowlat
