#pragma once
// The rational-quadratic spline of RationalQuadraticSpline as one CPU loop
// over the elements with a hand-written backward. LibTorch's composite
// version launches about 60 element-wise kernels per call, each streaming
// [B, Va, 3K - 1] tensors through memory, and half of a spline training
// step went there; here every element's knots, bin, value, log-derivative
// and gradients are computed in registers and a small scratch buffer.
// Same parameterisation, same outputs up to rounding (tested against the
// reference in float64, both directions, values and gradients).
#include <torch/torch.h>

#include <cstdint>

#include "flow/RationalQuadraticSpline.hpp"

namespace flowlat {

// rational_quadratic_spline for contiguous CPU float32/float64 tensors:
// x [...] and params [..., 3 bins - 1]. Differentiable (first order) in x
// and the parameters in both directions. Local.
SplineResult fused_rational_quadratic_spline(const torch::Tensor& x, const torch::Tensor& params, int64_t bins,
                                             double bound, SplineDirection direction);

}  // namespace flowlat
