#pragma once
// The CNN of a coupling layer on the CPU: circular convolutions as direct
// stencil loops (ConvKernels) with the LeakyReLU fused in, the last
// convolution evaluated on the active (updated) sites only, the batch run
// in slices whose activations stay in the L2 cache, and a hand-written
// backward. FusedCoupling fuses it with the affine update; fused_conv_net
// is the network alone (for the spline and equivariant couplings).
#include <torch/torch.h>

#include <vector>

#include "flow/ConvKernels.hpp"
#include "flow/ConvNet.hpp"
#include "flow/CouplingStencil.hpp"

namespace flowlat {

struct FusedCouplingSpec {
  CouplingStencil stencil;
  OutputActivation activation = OutputActivation::Tanh;
  double negative_slope = 0.01;  // LeakyReLU between the convolutions
};

// The network on h0 [B, V] (the frozen field, zero on active sites) with
// conv parameters [w0, b0, w1, b1, ...] (Conv weight layout): its outputs
// on the active sites, [B, Va, C_out] (the final tanh applied when the spec
// says so). Contiguous CPU float32/float64; differentiable in h0 and the
// parameters when grad mode is on. Local.
torch::Tensor fused_conv_net(const torch::Tensor& h0, const std::vector<torch::Tensor>& params,
                             const FusedCouplingSpec& spec);

namespace fused_net {

// The network's convolutions, read off the parameters and the stencil.
struct NetShape {
  std::vector<torch::Tensor> wk;      // weight_matrix of each convolution
  std::vector<torch::Tensor> wo;      // its transpose, contiguous
  std::vector<torch::Tensor> biases;  // contiguous
  std::vector<int64_t> channels;      // C_0 = 1, ..., C_n (the output padded to a multiple of 8 when wide)
  int64_t out_channels = 0;           // C_n without the padding
  int64_t widest_site = 0;            // max C_l
  int64_t layers() const { return static_cast<int64_t>(wk.size()); }
  const torch::Tensor& table(int64_t l, const FusedCouplingSpec& spec) const {
    return l + 1 == layers() ? spec.stencil.active_neighbours : spec.stencil.neighbours;
  }
  conv_kernels::ConvShape conv(int64_t l, const FusedCouplingSpec& spec, int64_t batch) const {
    const torch::Tensor& t = table(l, spec);
    return {batch, spec.stencil.volume, t.size(0), t.size(1), channels[l], channels[l + 1], t.data_ptr<int64_t>()};
  }
};

NetShape net_shape(const std::vector<torch::Tensor>& params);

struct NetPass {
  std::vector<torch::Tensor> inputs;  // input of convolution l: [B, V, C_l] (kept for backward only)
  torch::Tensor out;                  // outputs on the active sites: [B * Va, C_n] (padded)
};

// The CNN on h0 [B, V, 1], slice by slice; `keep_inputs` keeps every layer's
// input for the backward pass (otherwise two slice-sized buffers are
// reused). float and double. Local.
template <typename T>
NetPass run_net(const torch::Tensor& h0, const FusedCouplingSpec& spec, const NetShape& shape, bool keep_inputs);

// Gradients of the network's parameters (undefined when `param_grad` is
// false) and of its input h0 (g_h0 left undefined when `input_grad` is
// false) from g_st, the gradient at the output before the final tanh.
// float and double. Local.
template <typename T>
std::vector<torch::Tensor> backward_net(const torch::Tensor& g_st, const std::vector<torch::Tensor>& inputs,
                                        const std::vector<torch::Tensor>& params, const FusedCouplingSpec& spec,
                                        bool input_grad, bool param_grad, torch::Tensor& g_h0);

// The spec's tables and settings kept in an autograd context (the spec
// belongs to the layer, which may be gone when backward runs), and back.
void save_spec(torch::autograd::AutogradContext* ctx, const FusedCouplingSpec& spec);
FusedCouplingSpec restore_spec(torch::autograd::AutogradContext* ctx);

}  // namespace fused_net
}  // namespace flowlat
