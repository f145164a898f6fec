#pragma once
// Which implementation computes a coupling layer. Both give the same
// outputs, log-Jacobians and gradients up to rounding (tested):
//   Reference: LibTorch's nn::Conv modules (circular padding), any device.
//   Fused:     hand-written CPU kernel (FusedCoupling): stencil gathers,
//              one GEMM per convolution, its own backward.
//   Auto:      Fused for CPU tensors whose largest gather buffer stays
//              small (kFusedGatherLimitBytes), Reference otherwise.
#include <torch/torch.h>

#include <string>

namespace flowlat {

enum class CouplingKernel { Auto, Reference, Fused };

// Measured (README: performance): Fused is 1.4x (float32) and 2.1x
// (float64) faster than LibTorch for the tutorial's training batch, whose
// gathers are 1.2 MB, but 0.5x for sampling batches of 1024 (19 MB) and
// 0.1x at L = 32, batch 256 (75 MB): large gathers leave the cache and,
// above glibc's 32 MB mmap limit, are page-faulted in afresh every call.
constexpr int64_t kFusedGatherLimitBytes = int64_t{4} << 20;

// The kernel that will run for tensors on `device` whose largest
// convolution gathers `gather_bytes`; throws std::invalid_argument for
// Fused on a non-CPU device. Local.
CouplingKernel resolve_coupling_kernel(CouplingKernel requested, const torch::Device& device,
                                       int64_t gather_bytes = 0);

// "auto", "reference" or "fused"; throws std::invalid_argument naming
// `what` and the allowed values otherwise. Local.
CouplingKernel parse_coupling_kernel(const std::string& text, const std::string& what);

}  // namespace flowlat
