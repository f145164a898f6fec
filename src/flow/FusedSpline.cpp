#include "flow/FusedSpline.hpp"

#include <ATen/Dispatch.h>
#include <ATen/Parallel.h>

#include <cmath>
#include <vector>

#include "flow/SplineKernels.hpp"

namespace flowlat {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

// torch::softplus with its default threshold (the identity above 20), so
// that both kernels give the same derivatives.
constexpr double kSoftplusThreshold = 20;

template <typename T>
T softplus(T r) {
  return r > T(kSoftplusThreshold) ? r : std::log1p(std::exp(r));
}

template <typename T>
T softplus_derivative(T r) {
  return r > T(kSoftplusThreshold) ? T(1) : T(1) / (T(1) + std::exp(-r));
}

// One element's spline, from its 3K - 1 raw parameters: the softmax of the
// widths and heights, the knots (x_k, y_k) and the derivatives d_k.
template <typename T>
struct Knots {
  Knots(int64_t bins, T bound)
      : bins(bins), bound(bound), soft_x(bins), soft_y(bins), x(bins + 1), y(bins + 1) {}

  void set(const T* raw) {
    place(raw, soft_x.data(), x.data());
    place(raw + bins, soft_y.data(), y.data());
    derivatives = raw + 2 * bins;
  }

  // d_k: 1 at the end knots. Only the two of an element's bin are needed,
  // so they are computed on demand (the softplus is the costly part).
  T derivative(int64_t knot) const {
    if (knot == 0 || knot == bins) return T(1);
    return T(kSplineMinDerivative) + softplus(derivatives[knot - 1] + shift());
  }

  static T shift() { return T(spline_derivative_shift()); }

  int64_t bins;
  T bound;
  std::vector<T> soft_x, soft_y, x, y;
  const T* derivatives = nullptr;  // the K - 1 raw inner derivatives

 private:
  void place(const T* raw, T* soft, T* knots) const {
    T largest = raw[0];
    for (int64_t i = 1; i < bins; ++i) largest = std::max(largest, raw[i]);
    T sum = 0;
    for (int64_t i = 0; i < bins; ++i) sum += soft[i] = std::exp(raw[i] - largest);
    for (int64_t i = 0; i < bins; ++i) soft[i] /= sum;
    const T floor = T(kSplineMinBinFraction), scale = T(1 - kSplineMinBinFraction * bins);
    T cumulative = 0;
    knots[0] = -bound;
    for (int64_t i = 0; i + 1 < bins; ++i) {
      cumulative += floor + scale * soft[i];
      knots[i + 1] = 2 * bound * cumulative - bound;
    }
    knots[bins] = bound;
  }
};

// The bin an element falls in, and the spline there.
template <typename T>
struct Bin {
  Bin(const Knots<T>& k, T v, SplineDirection direction) {
    const std::vector<T>& search = direction == SplineDirection::Forward ? k.x : k.y;
    for (int64_t j = 1; j < k.bins && search[j] <= v; ++j) index = j;
    x0 = k.x[index];
    width = k.x[index + 1] - x0;
    y0 = k.y[index];
    height = k.y[index + 1] - y0;
    d0 = k.derivative(index);
    d1 = k.derivative(index + 1);
  }

  // theta in [0, 1] whose image is v (the root of a quadratic in its
  // cancellation-free form).
  T inverse_theta(T v) const {
    const T slope = height / width, curvature = d0 + d1 - 2 * slope, offset = v - y0;
    const T a = height * (slope - d0) + offset * curvature;
    const T b = height * d0 - offset * curvature;
    const T c = -slope * offset;
    const T discriminant = std::max(b * b - 4 * a * c, T(0));
    return (2 * c) / (-b - std::sqrt(discriminant));
  }

  // The spline's value at theta and dy/dx there.
  void evaluate(T theta, T& value, T& derivative) const {
    const T slope = height / width, mixed = theta * (1 - theta);
    const T denominator = slope + (d0 + d1 - 2 * slope) * mixed;
    value = y0 + height * (slope * theta * theta + d0 * mixed) / denominator;
    derivative = slope * slope * (d1 * theta * theta + 2 * slope * mixed + d0 * (1 - theta) * (1 - theta)) /
                 (denominator * denominator);
  }

  int64_t index = 0;
  T x0, width, y0, height, d0, d1;
};

// Gradients with respect to theta and the bin's quantities.
template <typename T>
struct BinGradient {
  T theta = 0, x0 = 0, width = 0, y0 = 0, height = 0, d0 = 0, d1 = 0;
};

// Adds to g the gradient of g_value * y + g_log * log(dy/dx), both taken
// as functions of (theta, width, height, y0, d0, d1): reverse mode through
// slope = height / width, mixed = theta (1 - theta), the numerator, the
// denominator and the polynomial of the derivative.
template <typename T>
void accumulate_bin_gradient(const Bin<T>& b, T theta, T g_value, T g_log, BinGradient<T>& g) {
  const T slope = b.height / b.width, mixed = theta * (1 - theta);
  const T curvature = b.d0 + b.d1 - 2 * slope;
  const T numerator = slope * theta * theta + b.d0 * mixed;
  const T denominator = slope + curvature * mixed;
  const T poly = b.d1 * theta * theta + 2 * slope * mixed + b.d0 * (1 - theta) * (1 - theta);
  // value = y0 + height numerator / denominator;
  // log(dy/dx) = 2 log slope + log poly - 2 log denominator.
  const T g_numerator = g_value * b.height / denominator;
  const T g_denominator = -g_value * b.height * numerator / (denominator * denominator) - 2 * g_log / denominator;
  const T g_poly = g_log / poly;
  T g_slope = 2 * g_log / slope, g_mixed = 0, g_theta = 0;
  g.y0 += g_value;
  g.height += g_value * numerator / denominator;
  g_slope += g_numerator * theta * theta;
  g_theta += g_numerator * 2 * slope * theta;
  g.d0 += g_numerator * mixed;
  g_mixed += g_numerator * b.d0;
  g_slope += g_denominator;
  const T g_curvature = g_denominator * mixed;
  g_mixed += g_denominator * curvature;
  g.d1 += g_poly * theta * theta;
  g_theta += g_poly * (2 * b.d1 * theta - 2 * b.d0 * (1 - theta));
  g_slope += g_poly * 2 * mixed;
  g_mixed += g_poly * 2 * slope;
  g.d0 += g_poly * (1 - theta) * (1 - theta) + g_curvature;
  g.d1 += g_curvature;
  g_slope -= 2 * g_curvature;
  g_theta += g_mixed * (1 - 2 * theta);
  g.height += g_slope / b.width;
  g.width -= g_slope * slope / b.width;
  g.theta += g_theta;
}

// The raw parameters' gradient from the bin's: scatter onto the knots, then
// back through the cumulative sums, the softmax and the softplus.
template <typename T>
void raw_gradient(const Knots<T>& k, const Bin<T>& b, const BinGradient<T>& g, const T* raw, std::vector<T>& scratch,
                  T* g_raw) {
  const int64_t bins = k.bins;
  scratch.assign(2 * (bins + 1), T(0));
  T* g_x = scratch.data();
  T* g_y = g_x + bins + 1;
  g_x[b.index] += g.x0 - g.width;
  g_x[b.index + 1] += g.width;
  g_y[b.index] += g.y0 - g.height;
  g_y[b.index + 1] += g.height;
  auto knots_to_raw = [&](const T* g_knots, const std::vector<T>& soft, T* out) {
    // knot j (0 < j < K) = 2B (sum_{i < j} fraction_i) - B; the end knots are fixed.
    const T scale = 2 * k.bound * T(1 - kSplineMinBinFraction * bins);
    T suffix = 0, dot = 0;
    for (int64_t i = bins - 1; i >= 0; --i) {
      out[i] = scale * suffix;  // d loss / d softmax_i
      dot += out[i] * soft[i];
      if (i >= 1) suffix += g_knots[i];
    }
    for (int64_t i = 0; i < bins; ++i) out[i] = soft[i] * (out[i] - dot);
  };
  knots_to_raw(g_x, k.soft_x, g_raw);
  knots_to_raw(g_y, k.soft_y, g_raw + bins);
  // Only the derivatives at the bin's two knots were used (the end ones are fixed).
  T* g_derivatives = g_raw + 2 * bins;
  std::fill(g_derivatives, g_derivatives + bins - 1, T(0));
  auto derivative_to_raw = [&](int64_t knot, T g_knot) {
    if (knot == 0 || knot == bins) return;
    g_derivatives[knot - 1] = g_knot * softplus_derivative(raw[2 * bins + knot - 1] + Knots<T>::shift());
  };
  derivative_to_raw(b.index, g.d0);
  derivative_to_raw(b.index + 1, g.d1);
}

template <typename T>
void spline_forward_kernel(const T* x, const T* params, int64_t n, int64_t bins, T bound, SplineDirection direction,
                           T* y, T* log_det) {
  const int64_t count = spline_parameter_count(bins);
  if (direction == SplineDirection::Forward && bins <= conv_kernels::kMaxLaneSplineBins &&
      conv_kernels::spline_forward_in_lanes(sizeof(T) == sizeof(double))) {
    const conv_kernels::SplineShape shape = spline_shape(bins, static_cast<double>(bound));
    at::parallel_for(0, n, 512, [&](int64_t begin, int64_t end) {
      conv_kernels::spline_forward(shape, x + begin, params + begin * count, end - begin, y + begin, log_det + begin);
    });
    return;
  }
  at::parallel_for(0, n, 512, [&](int64_t begin, int64_t end) {
    Knots<T> k(bins, bound);
    for (int64_t i = begin; i < end; ++i) {
      const T v = x[i];
      if (!(v >= -bound && v <= bound)) {  // linear tails
        y[i] = v;
        log_det[i] = 0;
        continue;
      }
      k.set(params + i * count);
      const Bin<T> b(k, v, direction);
      T value, derivative;
      if (direction == SplineDirection::Forward) {
        b.evaluate((v - b.x0) / b.width, value, derivative);
        y[i] = value;
        log_det[i] = std::log(derivative);
      } else {
        const T theta = b.inverse_theta(v);
        b.evaluate(theta, value, derivative);
        y[i] = b.x0 + theta * b.width;
        log_det[i] = -std::log(derivative);
      }
    }
  });
}

// g_y, g_log_det may be null (no gradient flows from that output).
template <typename T>
void spline_backward_kernel(const T* x, const T* params, const T* g_y, const T* g_log_det, int64_t n, int64_t bins,
                            T bound, SplineDirection direction, T* g_x, T* g_params) {
  const int64_t count = spline_parameter_count(bins);
  at::parallel_for(0, n, 512, [&](int64_t begin, int64_t end) {
    Knots<T> k(bins, bound);
    std::vector<T> scratch;
    for (int64_t i = begin; i < end; ++i) {
      const T v = x[i];
      const T gy = g_y ? g_y[i] : T(0), gl = g_log_det ? g_log_det[i] : T(0);
      T* g_raw = g_params + i * count;
      if (!(v >= -bound && v <= bound)) {
        g_x[i] = gy;
        std::fill(g_raw, g_raw + count, T(0));
        continue;
      }
      const T* raw = params + i * count;
      k.set(raw);
      const Bin<T> b(k, v, direction);
      BinGradient<T> g;
      if (direction == SplineDirection::Forward) {
        const T theta = (v - b.x0) / b.width;
        accumulate_bin_gradient(b, theta, gy, gl, g);
        g_x[i] = g.theta / b.width;
        g.x0 -= g.theta / b.width;
        g.width -= g.theta * theta / b.width;
      } else {
        // out = x0 + theta width and -log(dy/dx) at theta, where theta
        // solves y(theta) = v: d theta = (dv - dy|_theta) / (dy/dtheta).
        const T theta = b.inverse_theta(v);
        T value, derivative;
        b.evaluate(theta, value, derivative);
        g.x0 += gy;
        g.width += gy * theta;
        accumulate_bin_gradient(b, theta, T(0), -gl, g);
        const T g_theta = gy * b.width + g.theta;
        const T dy_dtheta = derivative * b.width;
        g_x[i] = g_theta / dy_dtheta;
        accumulate_bin_gradient(b, theta, -g_theta / dy_dtheta, T(0), g);
      }
      raw_gradient(k, b, g, raw, scratch, g_raw);
    }
  });
}

void check_inputs(const torch::Tensor& x, const torch::Tensor& params, int64_t bins) {
  TORCH_CHECK(x.device().is_cpu() && params.device().is_cpu(), "fused spline: CPU tensors only");
  TORCH_CHECK(x.scalar_type() == params.scalar_type(), "fused spline: x and params differ in dtype");
  TORCH_CHECK(params.size(-1) == spline_parameter_count(bins), "fused spline: expected ",
              spline_parameter_count(bins), " parameters per element, got ", params.size(-1));
  TORCH_CHECK(params.numel() == x.numel() * params.size(-1), "fused spline: params do not match x's shape");
}

struct FusedSplineFunction : public torch::autograd::Function<FusedSplineFunction> {
  static variable_list forward(AutogradContext* ctx, const torch::Tensor& x, const torch::Tensor& params,
                               int64_t bins, double bound, int64_t direction) {
    const torch::Tensor xc = x.contiguous(), pc = params.contiguous();
    torch::Tensor y = torch::empty_like(xc), log_det = torch::empty_like(xc);
    AT_DISPATCH_FLOATING_TYPES(xc.scalar_type(), "flowlat_spline", [&] {
      spline_forward_kernel<scalar_t>(xc.data_ptr<scalar_t>(), pc.data_ptr<scalar_t>(), xc.numel(), bins,
                                      static_cast<scalar_t>(bound), static_cast<SplineDirection>(direction),
                                      y.data_ptr<scalar_t>(), log_det.data_ptr<scalar_t>());
    });
    ctx->save_for_backward({xc, pc});
    ctx->saved_data["bins"] = bins;
    ctx->saved_data["bound"] = bound;
    ctx->saved_data["direction"] = direction;
    return {y, log_det};
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const variable_list saved = ctx->get_saved_variables();
    const torch::Tensor& x = saved[0];
    const torch::Tensor& params = saved[1];
    const int64_t bins = ctx->saved_data["bins"].toInt();
    const double bound = ctx->saved_data["bound"].toDouble();
    const auto direction = static_cast<SplineDirection>(ctx->saved_data["direction"].toInt());
    const torch::Tensor g_y = grads[0].defined() ? grads[0].to(x.scalar_type()).contiguous() : torch::Tensor();
    const torch::Tensor g_ld = grads[1].defined() ? grads[1].to(x.scalar_type()).contiguous() : torch::Tensor();
    torch::Tensor g_x = torch::empty_like(x), g_params = torch::empty_like(params);
    AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "flowlat_spline_backward", [&] {
      spline_backward_kernel<scalar_t>(x.data_ptr<scalar_t>(), params.data_ptr<scalar_t>(),
                                       g_y.defined() ? g_y.data_ptr<scalar_t>() : nullptr,
                                       g_ld.defined() ? g_ld.data_ptr<scalar_t>() : nullptr, x.numel(), bins,
                                       static_cast<scalar_t>(bound), direction, g_x.data_ptr<scalar_t>(),
                                       g_params.data_ptr<scalar_t>());
    });
    return {g_x, g_params, torch::Tensor(), torch::Tensor(), torch::Tensor()};
  }
};

}  // namespace

SplineResult fused_rational_quadratic_spline(const torch::Tensor& x, const torch::Tensor& params, int64_t bins,
                                             double bound, SplineDirection direction) {
  check_inputs(x, params, bins);
  const variable_list out =
      FusedSplineFunction::apply(x, params, bins, bound, static_cast<int64_t>(direction));
  return {out[0], out[1]};
}

}  // namespace flowlat
