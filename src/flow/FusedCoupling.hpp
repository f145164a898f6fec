#pragma once
// The fused CPU kernel of one affine coupling layer (see AffineCoupling):
// the CNN's circular convolutions as direct stencil loops (ConvKernels, on
// CouplingStencil's neighbour tables) with the LeakyReLU fused in, the
// affine update, and a hand-written backward (a torch::autograd::Function).
// Exploits the checkerboard: the last convolution is evaluated on the
// active sites only. The batch runs in slices whose activations stay in
// the L2 cache. LibTorch's small convolutions are dispatch- and
// padding-bound here (and take a slow path in float64).
#include <torch/torch.h>

#include <vector>

#include "flow/FusedNet.hpp"

namespace flowlat {

enum class CouplingDirection { Forward, Reverse };


// Applies the coupling to contiguous CPU x [B, L1, ..., Ld] (float32 or
// float64) with conv parameters [w0, b0, w1, b1, ...] (Conv weight layout);
// returns y and the float64 log-Jacobian [B] of the given direction.
// Differentiable in x and the parameters when grad mode is on. Local.
std::pair<torch::Tensor, torch::Tensor> fused_coupling(const torch::Tensor& x, const std::vector<torch::Tensor>& params,
                                                       const FusedCouplingSpec& spec, CouplingDirection direction);

}  // namespace flowlat
