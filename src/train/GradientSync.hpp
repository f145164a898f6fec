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

class GradientSync {
 public:
  GradientSync(Communicator comm, std::vector<torch::Tensor> parameters);

  // Copies rank 0's parameters (and `buffers`) to every rank. Collective.
  void broadcast_from_root(const std::vector<torch::Tensor>& buffers = {});
  // Sums every parameter's .grad over ranks, in place (one fused
  // allreduce; staged through pinned host memory for non-CUDA-aware MPI on
  // GPUs). Missing grads count as zero. Collective.
  void sum_gradients();
  // True iff every gradient is finite on this rank. Local.
  bool gradients_finite() const;
  // FNV-1a hash of every parameter's bytes. Local.
  uint64_t parameter_checksum() const;

 private:
  torch::Tensor flatten_gradients() const;
  void allreduce(torch::Tensor& fused);

  Communicator comm_;
  std::vector<torch::Tensor> parameters_;
  CudaAwareMpi cuda_aware_;
};

// FNV-1a over the bytes of a CPU copy of each tensor, in order. Local.
uint64_t tensor_checksum(const std::vector<torch::Tensor>& tensors);

}  // namespace flowlat
