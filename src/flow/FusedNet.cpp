#include "flow/FusedNet.hpp"

#include <algorithm>
#include <stdexcept>

#include "flow/ConvKernels.hpp"

namespace flowlat {
namespace fused_net {
namespace {
namespace kernels = conv_kernels;

// Bytes of one layer's activations per slice (a quarter of a 1 MB L2).
constexpr int64_t kSliceBytes = int64_t{256} << 10;

// Conv weight [Cout, Cin, k...] as the kernels' wk [taps * Cin, Cout],
// rows ordered (tap, channel) like the stencil's taps.
torch::Tensor weight_matrix(const torch::Tensor& w) {
  std::vector<int64_t> order;
  for (int64_t d = 2; d < w.dim(); ++d) order.push_back(d);
  order.push_back(1);
  order.push_back(0);
  return w.permute(order).reshape({-1, w.size(0)}).contiguous();
}

// The gradient of weight_matrix(w), brought back to w's layout.
torch::Tensor weight_gradient(const torch::Tensor& g, const torch::Tensor& w) {
  const int64_t spatial = w.dim() - 2;
  std::vector<int64_t> shape(w.sizes().begin() + 2, w.sizes().end());
  shape.push_back(w.size(1));
  shape.push_back(w.size(0));
  std::vector<int64_t> order{spatial + 1, spatial};
  for (int64_t d = 0; d < spatial; ++d) order.push_back(d);
  return g.reshape(shape).permute(order).contiguous();
}

// Configurations per slice: a slice's activations (one layer) stay in the
// per-core L2 cache while it runs through all convolutions.
int64_t slice_configs(int64_t batch, int64_t volume, int64_t widest_site, int64_t element_size) {
  return std::clamp<int64_t>(kSliceBytes / (volume * widest_site * element_size), 1, std::max<int64_t>(batch, 1));
}

}  // namespace

NetShape net_shape(const std::vector<torch::Tensor>& params) {
  NetShape shape;
  for (size_t l = 0; l < params.size(); l += 2) {
    shape.wk.push_back(weight_matrix(params[l]));
    shape.wo.push_back(shape.wk.back().t().contiguous());
    shape.biases.push_back(params[l + 1].contiguous());
    shape.channels.push_back(params[l].size(1));
    shape.widest_site = std::max(shape.widest_site, params[l].size(1));
  }
  shape.out_channels = params[params.size() - 2].size(0);
  // Wide outputs (the splines' 3K - 1) padded with zero weights to a
  // multiple of 8: the kernels' vector loops cover them.
  int64_t padded = shape.out_channels;
  if (padded > 8 && padded % 8 != 0) padded += 8 - padded % 8;
  if (padded != shape.out_channels) {
    const int64_t extra = padded - shape.out_channels;
    torch::Tensor& wk = shape.wk.back();
    wk = torch::cat({wk, torch::zeros({wk.size(0), extra}, wk.options())}, 1).contiguous();
    shape.wo.back() = wk.t().contiguous();
    shape.biases.back() = torch::cat({shape.biases.back(), torch::zeros({extra}, wk.options())}).contiguous();
  }
  shape.channels.push_back(padded);
  shape.widest_site = std::max(shape.widest_site, shape.channels.back());
  return shape;
}

template <typename T>
NetPass run_net(const torch::Tensor& h0, const FusedCouplingSpec& spec, const NetShape& shape, bool keep_inputs) {
  const int64_t batch = h0.size(0), volume = spec.stencil.volume, n = shape.layers();
  const int64_t n_active = spec.stencil.active_sites.numel();
  const int64_t slice = slice_configs(batch, volume, shape.widest_site, h0.element_size());
  NetPass pass;
  pass.out = torch::empty({batch * n_active, shape.channels[n]}, h0.options());
  std::vector<torch::Tensor> hidden(2);
  if (keep_inputs) {
    pass.inputs.push_back(h0);
    for (int64_t l = 1; l < n; ++l) pass.inputs.push_back(torch::empty({batch, volume, shape.channels[l]}, h0.options()));
  } else {
    for (auto& h : hidden) h = torch::empty({slice * volume * shape.widest_site}, h0.options());
  }
  for (int64_t b0 = 0; b0 < batch; b0 += slice) {
    const int64_t m = std::min(slice, batch - b0);
    const T* h = h0.data_ptr<T>() + b0 * volume;
    for (int64_t l = 0; l < n; ++l) {
      const kernels::ConvShape conv = shape.conv(l, spec, m);
      const bool last = l + 1 == n;
      T* out = last         ? pass.out.data_ptr<T>() + b0 * n_active * conv.cout
               : keep_inputs ? pass.inputs[l + 1].data_ptr<T>() + b0 * volume * conv.cout
                             : hidden[l % 2].data_ptr<T>();
      // The final tanh runs afterwards over the whole output (in lanes in float32).
      const auto activation = last ? kernels::Activation::None : kernels::Activation::LeakyRelu;
      kernels::forward(conv, h, shape.wk[l].data_ptr<T>(), shape.wo[l].data_ptr<T>(), shape.biases[l].data_ptr<T>(),
                       activation, spec.negative_slope, out);
      h = out;
    }
  }
  if (spec.activation == OutputActivation::Tanh) {
    if (pass.out.scalar_type() == torch::kFloat32) {
      kernels::tanh_in_place(pass.out.data_ptr<float>(), pass.out.numel());
    } else {
      pass.out.tanh_();
    }
  }
  return pass;
}

template <typename T>
std::vector<torch::Tensor> backward_net(const torch::Tensor& g_st, const std::vector<torch::Tensor>& inputs,
                                        const std::vector<torch::Tensor>& params, const FusedCouplingSpec& spec,
                                        bool input_grad, bool param_grad, torch::Tensor& g_h0) {
  const NetShape shape = net_shape(params);
  const int64_t n = shape.layers(), batch = inputs[0].size(0), volume = spec.stencil.volume;
  const int64_t n_active = spec.stencil.active_sites.numel();
  const int64_t slice = slice_configs(batch, volume, shape.widest_site, g_st.element_size());
  const auto options = g_st.options();
  std::vector<torch::Tensor> g_hidden{torch::empty({slice * volume * shape.widest_site}, options),
                                      torch::empty({slice * volume * shape.widest_site}, options)};
  std::vector<torch::Tensor> g_wk(n), g_biases(n);
  for (int64_t l = 0; l < n && param_grad; ++l) {
    g_wk[l] = torch::zeros_like(shape.wk[l]);
    g_biases[l] = torch::zeros({shape.channels[l + 1]}, options);
  }
  if (input_grad) g_h0 = torch::empty({batch, volume}, options);
  for (int64_t b0 = 0; b0 < batch; b0 += slice) {
    const int64_t m = std::min(slice, batch - b0);
    const T* g = g_st.data_ptr<T>() + b0 * n_active * shape.channels[n];
    for (int64_t l = n - 1; l >= 0; --l) {
      const kernels::ConvShape conv = shape.conv(l, spec, m);
      const T* h = inputs[l].data_ptr<T>() + b0 * volume * conv.cin;
      if (param_grad) kernels::weight_gradient(conv, h, g, g_wk[l].data_ptr<T>(), g_biases[l].data_ptr<T>());
      if (l == 0 && !input_grad) break;
      T* g_h = l > 0 ? g_hidden[l % 2].data_ptr<T>() : g_h0.data_ptr<T>() + b0 * volume;
      kernels::input_gradient(conv, g, shape.wk[l].data_ptr<T>(), shape.wo[l].data_ptr<T>(), g_h);
      if (l > 0) kernels::leaky_relu_backward(g_h, h, m * volume * conv.cin, spec.negative_slope);
      g = g_h;
    }
  }
  std::vector<torch::Tensor> grads(params.size());
  if (!param_grad) return grads;
  for (int64_t l = 0; l < n; ++l) {
    const int64_t cout = params[2 * l].size(0);  // without the padding
    grads[2 * l] = weight_gradient(g_wk[l].narrow(1, 0, cout).contiguous(), params[2 * l]);
    grads[2 * l + 1] = g_biases[l].narrow(0, 0, cout).contiguous();
  }
  return grads;
}


template NetPass run_net<float>(const torch::Tensor&, const FusedCouplingSpec&, const NetShape&, bool);
template NetPass run_net<double>(const torch::Tensor&, const FusedCouplingSpec&, const NetShape&, bool);
template std::vector<torch::Tensor> backward_net<float>(const torch::Tensor&, const std::vector<torch::Tensor>&,
                                                        const std::vector<torch::Tensor>&, const FusedCouplingSpec&,
                                                        bool, bool, torch::Tensor&);
template std::vector<torch::Tensor> backward_net<double>(const torch::Tensor&, const std::vector<torch::Tensor>&,
                                                         const std::vector<torch::Tensor>&, const FusedCouplingSpec&,
                                                         bool, bool, torch::Tensor&);

void save_spec(torch::autograd::AutogradContext* ctx, const FusedCouplingSpec& spec) {
  ctx->saved_data["neighbours"] = spec.stencil.neighbours;
  ctx->saved_data["active_neighbours"] = spec.stencil.active_neighbours;
  ctx->saved_data["active_sites"] = spec.stencil.active_sites;
  ctx->saved_data["frozen"] = spec.stencil.frozen;
  ctx->saved_data["tanh"] = spec.activation == OutputActivation::Tanh;
  ctx->saved_data["slope"] = spec.negative_slope;
}

FusedCouplingSpec restore_spec(torch::autograd::AutogradContext* ctx) {
  FusedCouplingSpec spec;
  spec.stencil.neighbours = ctx->saved_data["neighbours"].toTensor();
  spec.stencil.active_neighbours = ctx->saved_data["active_neighbours"].toTensor();
  spec.stencil.active_sites = ctx->saved_data["active_sites"].toTensor();
  spec.stencil.frozen = ctx->saved_data["frozen"].toTensor();
  spec.stencil.volume = spec.stencil.frozen.numel();
  spec.stencil.taps = spec.stencil.neighbours.size(1);
  spec.activation = ctx->saved_data["tanh"].toBool() ? OutputActivation::Tanh : OutputActivation::None;
  spec.negative_slope = ctx->saved_data["slope"].toDouble();
  return spec;
}

}  // namespace fused_net

namespace {
using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

fused_net::NetPass forward_pass(const torch::Tensor& h0, const std::vector<torch::Tensor>& params,
                                const FusedCouplingSpec& spec, bool keep_inputs) {
  const int64_t batch = h0.size(0), volume = spec.stencil.volume;
  const fused_net::NetShape shape = fused_net::net_shape(params);
  fused_net::NetPass pass;
  const torch::Tensor input = h0.reshape({batch, volume, 1});
  AT_DISPATCH_FLOATING_TYPES(h0.scalar_type(), "flowlat_net", [&] {
    pass = fused_net::run_net<scalar_t>(input, spec, shape, keep_inputs);
  });
  return pass;
}

struct FusedConvNetFunction : public torch::autograd::Function<FusedConvNetFunction> {
  static variable_list forward(AutogradContext* ctx, const torch::Tensor& h0, at::TensorList params,
                               const FusedCouplingSpec* spec) {
    const std::vector<torch::Tensor> list(params.begin(), params.end());
    fused_net::NetPass pass = forward_pass(h0, list, *spec, true);
    ctx->save_for_backward(list);
    ctx->saved_data["inputs"] = pass.inputs;
    ctx->saved_data["out"] = pass.out;
    fused_net::save_spec(ctx, *spec);
    const int64_t n_active = spec->stencil.active_sites.numel();
    const int64_t channels = list[list.size() - 2].size(0);
    return {pass.out.view({h0.size(0), n_active, -1}).narrow(2, 0, channels)};
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const std::vector<torch::Tensor> params = ctx->get_saved_variables();
    const FusedCouplingSpec spec = fused_net::restore_spec(ctx);
    const std::vector<torch::Tensor> inputs = ctx->saved_data["inputs"].toTensorVector();
    const torch::Tensor out = ctx->saved_data["out"].toTensor();
    // The gradient in the kernels' padded layout (zero on padding channels).
    torch::Tensor g_out = torch::zeros_like(out);
    g_out.view({grads[0].size(0), grads[0].size(1), -1}).narrow(2, 0, grads[0].size(2)).copy_(grads[0]);
    // The gradient before the final tanh.
    if (spec.activation == OutputActivation::Tanh) g_out = g_out * (1 - out * out);
    const bool input_grad = ctx->needs_input_grad(0);
    bool param_grad = false;
    for (size_t i = 1; i <= params.size(); ++i) param_grad = param_grad || ctx->needs_input_grad(i);
    torch::Tensor g_h0;
    std::vector<torch::Tensor> param_grads;
    AT_DISPATCH_FLOATING_TYPES(out.scalar_type(), "flowlat_net_backward", [&] {
      param_grads = fused_net::backward_net<scalar_t>(g_out, inputs, params, spec, input_grad, param_grad, g_h0);
    });
    variable_list result{input_grad ? g_h0 : torch::Tensor()};
    result.insert(result.end(), param_grads.begin(), param_grads.end());
    result.emplace_back();  // spec
    return result;
  }
};

}  // namespace

torch::Tensor fused_conv_net(const torch::Tensor& h0, const std::vector<torch::Tensor>& params,
                             const FusedCouplingSpec& spec) {
  if (!h0.device().is_cpu()) throw std::invalid_argument("fused_conv_net: CPU tensors only");
  if (h0.scalar_type() != torch::kFloat32 && h0.scalar_type() != torch::kFloat64) {
    throw std::invalid_argument("fused_conv_net: float32 or float64 only");
  }
  if (h0.numel() != h0.size(0) * spec.stencil.volume) throw std::invalid_argument("fused_conv_net: wrong lattice");
  const torch::Tensor input = h0.contiguous();
  bool record = torch::GradMode::is_enabled() && input.requires_grad();
  for (const auto& p : params) record = record || (torch::GradMode::is_enabled() && p.requires_grad());
  if (!record) {
    const int64_t n_active = spec.stencil.active_sites.numel();
    const int64_t channels = params[params.size() - 2].size(0);
    return forward_pass(input, params, spec, false).out.view({input.size(0), n_active, -1}).narrow(2, 0, channels);
  }
  return FusedConvNetFunction::apply(input, at::TensorList(params), &spec)[0];
}

}  // namespace flowlat
