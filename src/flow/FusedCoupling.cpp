#include "flow/FusedCoupling.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "flow/ConvKernels.hpp"

namespace flowlat {
namespace {
using torch::autograd::AutogradContext;
using torch::autograd::variable_list;
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

// The network's convolutions, read off the parameters and the stencil.
struct NetShape {
  std::vector<torch::Tensor> wk;      // weight_matrix of each convolution
  std::vector<torch::Tensor> wo;      // its transpose, contiguous
  std::vector<torch::Tensor> biases;  // contiguous
  std::vector<int64_t> channels;      // C_0 = 1, ..., C_n = 2
  int64_t widest_site = 0;            // max C_l
  int64_t layers() const { return static_cast<int64_t>(wk.size()); }
  const torch::Tensor& table(int64_t l, const FusedCouplingSpec& spec) const {
    return l + 1 == layers() ? spec.stencil.active_neighbours : spec.stencil.neighbours;
  }
  kernels::ConvShape conv(int64_t l, const FusedCouplingSpec& spec, int64_t batch) const {
    const torch::Tensor& t = table(l, spec);
    return {batch, spec.stencil.volume, t.size(0), t.size(1), channels[l], channels[l + 1], t.data_ptr<int64_t>()};
  }
};

NetShape net_shape(const std::vector<torch::Tensor>& params) {
  NetShape shape;
  for (size_t l = 0; l < params.size(); l += 2) {
    shape.wk.push_back(weight_matrix(params[l]));
    shape.wo.push_back(shape.wk.back().t().contiguous());
    shape.biases.push_back(params[l + 1].contiguous());
    shape.channels.push_back(params[l].size(1));
    shape.widest_site = std::max(shape.widest_site, params[l].size(1));
  }
  shape.channels.push_back(params[params.size() - 2].size(0));
  shape.widest_site = std::max(shape.widest_site, shape.channels.back());
  return shape;
}

// Configurations per slice: a slice's activations (one layer) stay in the
// per-core L2 cache while it runs through all convolutions.
int64_t slice_configs(int64_t batch, int64_t volume, int64_t widest_site, int64_t element_size) {
  return std::clamp<int64_t>(kSliceBytes / (volume * widest_site * element_size), 1, std::max<int64_t>(batch, 1));
}

struct NetPass {
  std::vector<torch::Tensor> inputs;  // input of convolution l: [B, V, C_l] (kept for backward only)
  torch::Tensor out;                  // (s, t) on the active sites: [B * Va, 2]
};

// The CNN on h0 [B, V, 1], slice by slice; `keep_inputs` keeps every layer's
// input for the backward pass (otherwise two slice-sized buffers are reused).
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
      // The final tanh runs afterwards as one vectorised LibTorch op.
      const auto activation = last ? kernels::Activation::None : kernels::Activation::LeakyRelu;
      kernels::forward(conv, h, shape.wk[l].data_ptr<T>(), shape.wo[l].data_ptr<T>(), shape.biases[l].data_ptr<T>(),
                       activation, spec.negative_slope, out);
      h = out;
    }
  }
  if (spec.activation == OutputActivation::Tanh) pass.out.tanh_();
  return pass;
}

template <typename T>
void affine_kernel(const T* x, const T* st, int64_t batch, int64_t volume, const int64_t* active, int64_t n_active,
                   CouplingDirection direction, T* y, double* log_det) {
  std::copy(x, x + batch * volume, y);
  for (int64_t b = 0; b < batch; ++b, x += volume, y += volume, st += 2 * n_active) {
    double sum = 0;
    for (int64_t j = 0; j < n_active; ++j) {
      const int64_t v = active[j];
      const T s = st[2 * j], t = st[2 * j + 1];
      if (direction == CouplingDirection::Forward) {
        y[v] = x[v] * std::exp(s) + t;
        sum += static_cast<double>(s);
      } else {
        y[v] = (x[v] - t) * std::exp(-s);
        sum -= static_cast<double>(s);
      }
    }
    log_det[b] = sum;
  }
}

// Gradients of the affine update: g_x (frozen sites pass g_y through) and
// g_st, the gradient at the network's output before its activation.
template <typename T>
void affine_backward_kernel(const T* x, const T* st, const T* g_y, const double* g_log_det, int64_t batch,
                            int64_t volume, const int64_t* active, int64_t n_active, CouplingDirection direction,
                            OutputActivation activation, T* g_x, T* g_st) {
  for (int64_t b = 0; b < batch; ++b, x += volume, g_x += volume, st += 2 * n_active, g_st += 2 * n_active) {
    if (g_y) std::copy(g_y + b * volume, g_y + (b + 1) * volume, g_x);
    else std::fill(g_x, g_x + volume, T(0));
    const T gl = g_log_det ? static_cast<T>(g_log_det[b]) : T(0);
    for (int64_t j = 0; j < n_active; ++j) {
      const int64_t v = active[j];
      const T s = st[2 * j], t = st[2 * j + 1], gy = g_x[v];
      T gs, gt;
      if (direction == CouplingDirection::Forward) {
        const T e = std::exp(s);
        g_x[v] = gy * e;
        gs = gy * x[v] * e + gl;
        gt = gy;
      } else {
        const T e = std::exp(-s);
        g_x[v] = gy * e;
        gt = -gy * e;
        gs = -gy * (x[v] - t) * e - gl;
      }
      if (activation == OutputActivation::Tanh) {
        gs *= T(1) - s * s;
        gt *= T(1) - t * t;
      }
      g_st[2 * j] = gs;
      g_st[2 * j + 1] = gt;
    }
  }
}

struct CouplingPass {
  torch::Tensor y, log_det;
  NetPass net;
};

CouplingPass run_coupling(const torch::Tensor& x, const std::vector<torch::Tensor>& params,
                          const FusedCouplingSpec& spec, CouplingDirection direction, bool keep_inputs) {
  const int64_t batch = x.size(0), volume = spec.stencil.volume;
  const torch::Tensor flat = x.reshape({batch, volume});
  const torch::Tensor frozen = spec.stencil.frozen.to(x.scalar_type());
  CouplingPass pass;
  const torch::Tensor h0 = (flat * frozen).view({batch, volume, 1});
  const NetShape shape = net_shape(params);
  AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "flowlat_net", [&] {
    pass.net = run_net<scalar_t>(h0, spec, shape, keep_inputs);
  });
  torch::Tensor y = torch::empty_like(flat);
  pass.log_det = torch::empty({batch}, x.options().dtype(torch::kFloat64));
  AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "flowlat_affine", [&] {
    affine_kernel(flat.data_ptr<scalar_t>(), pass.net.out.data_ptr<scalar_t>(), batch, volume,
                  spec.stencil.active_sites.data_ptr<int64_t>(), spec.stencil.active_sites.numel(), direction,
                  y.data_ptr<scalar_t>(), pass.log_det.data_ptr<double>());
  });
  pass.y = y.view(x.sizes());
  return pass;
}

// Gradients of the network's parameters and of its input h0 (g_h0 is left
// undefined when `input_grad` is false), from g_st at its output, slice by
// slice like run_net.
template <typename T>
std::vector<torch::Tensor> backward_net(const torch::Tensor& g_st, const std::vector<torch::Tensor>& inputs,
                                        const std::vector<torch::Tensor>& params, const FusedCouplingSpec& spec,
                                        bool input_grad, torch::Tensor& g_h0) {
  const NetShape shape = net_shape(params);
  const int64_t n = shape.layers(), batch = inputs[0].size(0), volume = spec.stencil.volume;
  const int64_t n_active = spec.stencil.active_sites.numel();
  const int64_t slice = slice_configs(batch, volume, shape.widest_site, g_st.element_size());
  const auto options = g_st.options();
  std::vector<torch::Tensor> g_hidden{torch::empty({slice * volume * shape.widest_site}, options),
                                      torch::empty({slice * volume * shape.widest_site}, options)};
  std::vector<torch::Tensor> g_wk(n), g_biases(n);
  for (int64_t l = 0; l < n; ++l) {
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
      kernels::weight_gradient(conv, h, g, g_wk[l].data_ptr<T>(), g_biases[l].data_ptr<T>());
      if (l == 0 && !input_grad) break;
      T* g_h = l > 0 ? g_hidden[l % 2].data_ptr<T>() : g_h0.data_ptr<T>() + b0 * volume;
      kernels::input_gradient(conv, g, shape.wk[l].data_ptr<T>(), shape.wo[l].data_ptr<T>(), g_h);
      if (l > 0) kernels::leaky_relu_backward(g_h, h, m * volume * conv.cin, spec.negative_slope);
      g = g_h;
    }
  }
  std::vector<torch::Tensor> grads(params.size());
  for (int64_t l = 0; l < n; ++l) {
    grads[2 * l] = weight_gradient(g_wk[l], params[2 * l]);
    grads[2 * l + 1] = g_biases[l];
  }
  return grads;
}

struct FusedCouplingFunction : public torch::autograd::Function<FusedCouplingFunction> {
  static variable_list forward(AutogradContext* ctx, const torch::Tensor& x, at::TensorList params,
                               const FusedCouplingSpec* spec, int64_t direction) {
    const std::vector<torch::Tensor> list(params.begin(), params.end());
    CouplingPass pass = run_coupling(x, list, *spec, static_cast<CouplingDirection>(direction), true);
    std::vector<torch::Tensor> saved{x};
    saved.insert(saved.end(), list.begin(), list.end());
    ctx->save_for_backward(saved);
    ctx->saved_data["inputs"] = pass.net.inputs;
    ctx->saved_data["out"] = pass.net.out;
    ctx->saved_data["direction"] = direction;
    // The spec belongs to the layer: keep what backward reads alive here.
    ctx->saved_data["neighbours"] = spec->stencil.neighbours;
    ctx->saved_data["active_neighbours"] = spec->stencil.active_neighbours;
    ctx->saved_data["active_sites"] = spec->stencil.active_sites;
    ctx->saved_data["frozen"] = spec->stencil.frozen;
    ctx->saved_data["tanh"] = spec->activation == OutputActivation::Tanh;
    ctx->saved_data["slope"] = spec->negative_slope;
    return {pass.y, pass.log_det};
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const variable_list saved = ctx->get_saved_variables();
    const torch::Tensor& x = saved[0];
    const std::vector<torch::Tensor> params(saved.begin() + 1, saved.end());
    FusedCouplingSpec spec_copy;
    spec_copy.stencil.neighbours = ctx->saved_data["neighbours"].toTensor();
    spec_copy.stencil.active_neighbours = ctx->saved_data["active_neighbours"].toTensor();
    spec_copy.stencil.active_sites = ctx->saved_data["active_sites"].toTensor();
    spec_copy.stencil.frozen = ctx->saved_data["frozen"].toTensor();
    spec_copy.stencil.volume = spec_copy.stencil.frozen.numel();
    spec_copy.stencil.taps = spec_copy.stencil.neighbours.size(1);
    spec_copy.activation = ctx->saved_data["tanh"].toBool() ? OutputActivation::Tanh : OutputActivation::None;
    spec_copy.negative_slope = ctx->saved_data["slope"].toDouble();
    const FusedCouplingSpec* spec = &spec_copy;
    const auto direction = static_cast<CouplingDirection>(ctx->saved_data["direction"].toInt());
    const std::vector<torch::Tensor> inputs = ctx->saved_data["inputs"].toTensorVector();
    const torch::Tensor out = ctx->saved_data["out"].toTensor();
    const int64_t batch = x.size(0), volume = spec->stencil.volume;
    const torch::Tensor flat = x.reshape({batch, volume});
    const torch::Tensor g_y = grads[0].defined() ? grads[0].reshape({batch, volume}).contiguous() : torch::Tensor();
    const torch::Tensor g_ld = grads[1].defined() ? grads[1].to(torch::kFloat64).contiguous() : torch::Tensor();
    torch::Tensor g_x = torch::empty_like(flat);
    torch::Tensor g_st = torch::empty_like(out);
    AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "flowlat_affine_backward", [&] {
      affine_backward_kernel(flat.data_ptr<scalar_t>(), out.data_ptr<scalar_t>(),
                             g_y.defined() ? g_y.data_ptr<scalar_t>() : nullptr,
                             g_ld.defined() ? g_ld.data_ptr<double>() : nullptr, batch, volume,
                             spec->stencil.active_sites.data_ptr<int64_t>(), spec->stencil.active_sites.numel(),
                             direction, spec->activation, g_x.data_ptr<scalar_t>(), g_st.data_ptr<scalar_t>());
    });
    torch::Tensor g_h0;
    const bool input_grad = ctx->needs_input_grad(0);
    variable_list result{torch::Tensor()};
    std::vector<torch::Tensor> param_grads;
    AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "flowlat_net_backward", [&] {
      param_grads = backward_net<scalar_t>(g_st, inputs, params, *spec, input_grad, g_h0);
    });
    if (input_grad) result[0] = (g_x + g_h0 * spec->stencil.frozen.to(x.scalar_type())).view(x.sizes());
    result.insert(result.end(), param_grads.begin(), param_grads.end());
    result.emplace_back();  // spec
    result.emplace_back();  // direction
    return result;
  }
};

}  // namespace

std::pair<torch::Tensor, torch::Tensor> fused_coupling(const torch::Tensor& x, const std::vector<torch::Tensor>& params,
                                                       const FusedCouplingSpec& spec, CouplingDirection direction) {
  if (!x.device().is_cpu()) throw std::invalid_argument("fused_coupling: CPU tensors only");
  if (x.scalar_type() != torch::kFloat32 && x.scalar_type() != torch::kFloat64) {
    throw std::invalid_argument("fused_coupling: float32 or float64 only");
  }
  if (x.numel() != x.size(0) * spec.stencil.volume) throw std::invalid_argument("fused_coupling: wrong lattice");
  const torch::Tensor input = x.contiguous();
  bool record = torch::GradMode::is_enabled() && input.requires_grad();
  for (const auto& p : params) record = record || (torch::GradMode::is_enabled() && p.requires_grad());
  if (!record) {
    CouplingPass pass = run_coupling(input, params, spec, direction, false);
    return {pass.y, pass.log_det};
  }
  const variable_list out =
      FusedCouplingFunction::apply(input, at::TensorList(params), &spec, static_cast<int64_t>(direction));
  return {out[0], out[1]};
}

}  // namespace flowlat
