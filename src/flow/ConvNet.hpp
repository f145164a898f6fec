#pragma once
// The tutorial's s,t network: conv layers with circular padding, LeakyReLU
// between them, tanh on the output when asked. Conv1d/2d/3d by lattice dim.
#include <torch/torch.h>

#include <vector>

namespace flowlat {

enum class OutputActivation { None, Tanh };

// Builds the network; parameters use LibTorch's default (PyTorch) init
// from the global torch RNG. Local.
torch::nn::Sequential make_conv_net(int64_t dim, int64_t in_channels, int64_t out_channels,
                                    const std::vector<int64_t>& hidden_channels, int64_t kernel_size,
                                    OutputActivation output_activation);

}  // namespace flowlat
