#include "flow/FusedCoupling.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "flow/ConvKernels.hpp"
#include "flow/FusedNet.hpp"

namespace flowlat {
namespace {
using torch::autograd::AutogradContext;
using torch::autograd::variable_list;
using fused_net::NetPass;
using fused_net::NetShape;

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
  const NetShape shape = fused_net::net_shape(params);
  AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "flowlat_net", [&] {
    pass.net = fused_net::run_net<scalar_t>(h0, spec, shape, keep_inputs);
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
    fused_net::save_spec(ctx, *spec);
    return {pass.y, pass.log_det};
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const variable_list saved = ctx->get_saved_variables();
    const torch::Tensor& x = saved[0];
    const std::vector<torch::Tensor> params(saved.begin() + 1, saved.end());
    const FusedCouplingSpec spec_copy = fused_net::restore_spec(ctx);
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
    bool want_param_grads = false;
    for (size_t i = 1; i <= params.size(); ++i) want_param_grads = want_param_grads || ctx->needs_input_grad(i);
    variable_list result{torch::Tensor()};
    std::vector<torch::Tensor> param_grads;
    AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "flowlat_net_backward", [&] {
      param_grads = fused_net::backward_net<scalar_t>(g_st, inputs, params, *spec, input_grad, want_param_grads, g_h0);
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
