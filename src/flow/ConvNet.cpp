#include "flow/ConvNet.hpp"

#include <stdexcept>

namespace flowlat {
namespace {

template <typename Conv, typename Options>
void append_conv(torch::nn::Sequential& net, int64_t in, int64_t out, int64_t kernel_size) {
  net->push_back(Conv(Options(in, out, kernel_size)
                          .stride(1)
                          .padding(kernel_size / 2)
                          .padding_mode(torch::kCircular)));
}

}  // namespace

torch::nn::Sequential make_conv_net(int64_t dim, int64_t in_channels, int64_t out_channels,
                                    const std::vector<int64_t>& hidden_channels, int64_t kernel_size,
                                    OutputActivation output_activation) {
  if (kernel_size % 2 != 1) throw std::invalid_argument("make_conv_net: kernel size must be odd");
  std::vector<int64_t> sizes{in_channels};
  sizes.insert(sizes.end(), hidden_channels.begin(), hidden_channels.end());
  sizes.push_back(out_channels);

  torch::nn::Sequential net;
  for (size_t i = 0; i + 1 < sizes.size(); ++i) {
    switch (dim) {
      case 1: append_conv<torch::nn::Conv1d, torch::nn::Conv1dOptions>(net, sizes[i], sizes[i + 1], kernel_size); break;
      case 2: append_conv<torch::nn::Conv2d, torch::nn::Conv2dOptions>(net, sizes[i], sizes[i + 1], kernel_size); break;
      case 3: append_conv<torch::nn::Conv3d, torch::nn::Conv3dOptions>(net, sizes[i], sizes[i + 1], kernel_size); break;
      default: throw std::invalid_argument("make_conv_net: dimension must be 1, 2 or 3");
    }
    const bool last = i + 2 == sizes.size();
    if (!last) {
      net->push_back(torch::nn::LeakyReLU());
    } else if (output_activation == OutputActivation::Tanh) {
      net->push_back(torch::nn::Tanh());
    }
  }
  return net;
}

}  // namespace flowlat
