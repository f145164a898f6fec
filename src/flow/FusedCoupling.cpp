#include "flow/FusedCoupling.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <type_traits>

// OpenBLAS (Debian's libopenblas0-pthread) runs its own thread pool, sized
// from the environment, not from at::set_num_threads: left alone it spins
// two threads per rank on a 2-core machine. Weak: absent with another BLAS.
extern "C" int openblas_get_num_threads(void) __attribute__((weak));
extern "C" void openblas_set_num_threads(int) __attribute__((weak));

namespace flowlat {
namespace {
using torch::autograd::AutogradContext;

void match_blas_threads() {
  if (openblas_get_num_threads == nullptr || openblas_set_num_threads == nullptr) return;
  const int threads = at::get_num_threads();
  if (openblas_get_num_threads() != threads) openblas_set_num_threads(threads);
}
using torch::autograd::variable_list;

// Conv weight [Cout, Cin, k...] as the GEMM operand [taps * Cin, Cout],
// rows ordered (tap, channel) like a gathered row.
torch::Tensor weight_matrix(const torch::Tensor& w) {
  std::vector<int64_t> order;
  for (int64_t d = 2; d < w.dim(); ++d) order.push_back(d);
  order.push_back(1);
  order.push_back(0);
  return w.permute(order).reshape({-1, w.size(0)});
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

// C > 0: channels known at compile time (vectorised copies); 0: `channels`.
template <typename T, int64_t C>
void gather_kernel(const T* h, int64_t batch, int64_t volume, int64_t channels, const int64_t* table, int64_t entries,
                   T* cols) {
  const int64_t n = C > 0 ? C : channels;
  for (int64_t b = 0; b < batch; ++b) {
    const T* hb = h + b * volume * n;
    for (int64_t i = 0; i < entries; ++i, cols += n) {
      const T* source = hb + table[i] * n;
      for (int64_t c = 0; c < n; ++c) cols[c] = source[c];
    }
  }
}

template <typename T, int64_t C>
void scatter_kernel(const T* cols, int64_t batch, int64_t volume, int64_t channels, const int64_t* table,
                    int64_t entries, T* g) {
  // Fixed order over (site, tap) per sample: results do not depend on the batch.
  const int64_t n = C > 0 ? C : channels;
  for (int64_t b = 0; b < batch; ++b) {
    T* gb = g + b * volume * n;
    for (int64_t i = 0; i < entries; ++i, cols += n) {
      T* target = gb + table[i] * n;
      for (int64_t c = 0; c < n; ++c) target[c] += cols[c];
    }
  }
}

// Calls kernel<C>() with the channel count as a template argument where common.
template <typename F>
void with_channels(int64_t channels, F&& kernel) {
  switch (channels) {
    case 1: kernel(std::integral_constant<int64_t, 1>{}); break;
    case 2: kernel(std::integral_constant<int64_t, 2>{}); break;
    case 4: kernel(std::integral_constant<int64_t, 4>{}); break;
    case 8: kernel(std::integral_constant<int64_t, 8>{}); break;
    case 16: kernel(std::integral_constant<int64_t, 16>{}); break;
    default: kernel(std::integral_constant<int64_t, 0>{});
  }
}

// h [B, V, C] -> im2col rows [B * S, taps * C] for the S sites of `table`.
torch::Tensor gather(const torch::Tensor& h, const torch::Tensor& table) {
  const int64_t batch = h.size(0), volume = h.size(1), channels = h.size(2);
  torch::Tensor cols = torch::empty({batch * table.size(0), table.size(1) * channels}, h.options());
  AT_DISPATCH_FLOATING_TYPES(h.scalar_type(), "flowlat_gather", [&] {
    with_channels(channels, [&](auto c) {
      gather_kernel<scalar_t, decltype(c)::value>(h.data_ptr<scalar_t>(), batch, volume, channels,
                                                  table.data_ptr<int64_t>(), table.numel(), cols.data_ptr<scalar_t>());
    });
  });
  return cols;
}

// Adjoint of gather: rows [B * S, taps * C] summed back into [B, V, C].
torch::Tensor scatter(const torch::Tensor& cols, const torch::Tensor& table, int64_t batch, int64_t volume) {
  const int64_t channels = cols.size(1) / table.size(1);
  torch::Tensor g = torch::zeros({batch, volume, channels}, cols.options());
  AT_DISPATCH_FLOATING_TYPES(cols.scalar_type(), "flowlat_scatter", [&] {
    with_channels(channels, [&](auto c) {
      scatter_kernel<scalar_t, decltype(c)::value>(cols.data_ptr<scalar_t>(), batch, volume, channels,
                                                   table.data_ptr<int64_t>(), table.numel(), g.data_ptr<scalar_t>());
    });
  });
  return g;
}

struct NetPass {
  std::vector<torch::Tensor> inputs;  // input of convolution l: [B, V, C_l]
  torch::Tensor out;                  // (s, t) on the active sites: [B * Va, 2]
};

NetPass run_net(const torch::Tensor& h0, const std::vector<torch::Tensor>& params, const FusedCouplingSpec& spec) {
  const int64_t batch = h0.size(0), n = static_cast<int64_t>(params.size()) / 2;
  NetPass pass;
  torch::Tensor h = h0;
  for (int64_t l = 0; l < n; ++l) {
    pass.inputs.push_back(h);
    const bool last = l + 1 == n;
    const torch::Tensor& table = last ? spec.stencil.active_neighbours : spec.stencil.neighbours;
    torch::Tensor a = torch::addmm(params[2 * l + 1], gather(h, table), weight_matrix(params[2 * l]));
    if (!last) {
      at::leaky_relu_(a, spec.negative_slope);
      h = a.view({batch, table.size(0), -1});
    } else {
      if (spec.activation == OutputActivation::Tanh) a.tanh_();
      pass.out = a;
    }
  }
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

// g *= LeakyReLU'(a), read off its output h (h > 0 exactly where a > 0).
void leaky_relu_backward_(torch::Tensor& g, const torch::Tensor& h, double slope) {
  AT_DISPATCH_FLOATING_TYPES(g.scalar_type(), "flowlat_leaky_backward", [&] {
    scalar_t* gp = g.data_ptr<scalar_t>();
    const scalar_t* hp = h.data_ptr<scalar_t>();
    const auto s = static_cast<scalar_t>(slope);
    for (int64_t i = 0, n = g.numel(); i < n; ++i) {
      if (!(hp[i] > 0)) gp[i] *= s;
    }
  });
}

struct CouplingPass {
  torch::Tensor y, log_det;
  NetPass net;
};

CouplingPass run_coupling(const torch::Tensor& x, const std::vector<torch::Tensor>& params,
                          const FusedCouplingSpec& spec, CouplingDirection direction) {
  const int64_t batch = x.size(0), volume = spec.stencil.volume;
  const torch::Tensor flat = x.reshape({batch, volume});
  const torch::Tensor frozen = spec.stencil.frozen.to(x.scalar_type());
  CouplingPass pass;
  pass.net = run_net((flat * frozen).view({batch, volume, 1}), params, spec);
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
// undefined when `input_grad` is false), from g_out at its output.
std::vector<torch::Tensor> backward_net(torch::Tensor g_a, const std::vector<torch::Tensor>& inputs,
                                        const std::vector<torch::Tensor>& params, const FusedCouplingSpec& spec,
                                        bool input_grad, torch::Tensor& g_h0) {
  const int64_t n = static_cast<int64_t>(params.size()) / 2;
  const int64_t batch = inputs[0].size(0), volume = spec.stencil.volume;
  std::vector<torch::Tensor> grads(params.size());
  for (int64_t l = n - 1; l >= 0; --l) {
    const torch::Tensor& table = l + 1 == n ? spec.stencil.active_neighbours : spec.stencil.neighbours;
    const torch::Tensor& w = params[2 * l];
    grads[2 * l] = weight_gradient(torch::mm(gather(inputs[l], table).t(), g_a), w);
    grads[2 * l + 1] = g_a.sum(0);
    if (l == 0 && !input_grad) break;
    torch::Tensor g_h = scatter(torch::mm(g_a, weight_matrix(w).t()), table, batch, volume);
    if (l > 0) {
      leaky_relu_backward_(g_h, inputs[l], spec.negative_slope);
      g_a = g_h.view({batch * volume, -1});
    } else {
      g_h0 = g_h.view({batch, volume});
    }
  }
  return grads;
}

struct FusedCouplingFunction : public torch::autograd::Function<FusedCouplingFunction> {
  static variable_list forward(AutogradContext* ctx, const torch::Tensor& x, at::TensorList params,
                               const FusedCouplingSpec* spec, int64_t direction) {
    const std::vector<torch::Tensor> list(params.begin(), params.end());
    CouplingPass pass = run_coupling(x, list, *spec, static_cast<CouplingDirection>(direction));
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
    const std::vector<torch::Tensor> param_grads = backward_net(g_st, inputs, params, *spec, input_grad, g_h0);
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
  match_blas_threads();
  const torch::Tensor input = x.contiguous();
  bool record = torch::GradMode::is_enabled() && input.requires_grad();
  for (const auto& p : params) record = record || (torch::GradMode::is_enabled() && p.requires_grad());
  if (!record) {
    CouplingPass pass = run_coupling(input, params, spec, direction);
    return {pass.y, pass.log_det};
  }
  const variable_list out =
      FusedCouplingFunction::apply(input, at::TensorList(params), &spec, static_cast<int64_t>(direction));
  return {out[0], out[1]};
}

}  // namespace flowlat
