#pragma once
// Which implementation computes a coupling layer. Both give the same
// outputs, log-Jacobians and gradients up to rounding (tested):
//   Reference: LibTorch's nn::Conv modules (circular padding), any device.
//   Fused:     hand-written CPU kernel (FusedCoupling): direct stencil
//              convolutions (ConvKernels), its own backward.
//   Auto:      Fused for CPU tensors, Reference on other devices.
#include <torch/torch.h>

#include <string>

namespace flowlat {

enum class CouplingKernel { Auto, Reference, Fused };

// The kernel that will run for tensors on `device`; throws
// std::invalid_argument for Fused on a non-CPU device. Local.
CouplingKernel resolve_coupling_kernel(CouplingKernel requested, const torch::Device& device);

// "auto", "reference" or "fused"; throws std::invalid_argument naming
// `what` and the allowed values otherwise. Local.
CouplingKernel parse_coupling_kernel(const std::string& text, const std::string& what);

// The kernel FLOWLAT_COUPLING_KERNEL names (Auto when unset); throws like
// parse_coupling_kernel. Local.
CouplingKernel coupling_kernel_from_environment();

}  // namespace flowlat
