#pragma once
// Monotone rational-quadratic splines (Durkan, Bekasov, Murray, Papamakarios,
// "Neural Spline Flows", NeurIPS 2019) with identity ("linear") tails: on
// [-B, B] a spline of K bins whose knots (x_k, y_k) and derivatives d_k are
// set by unconstrained parameters, the identity outside. Exact inverse
// (the root of a quadratic) and exact log-derivative.
//
// Parameters per element, last axis of size 3K - 1:
//   [0, K)       bin widths, through softmax (each >= kMinBinFraction of 2B)
//   [K, 2K)      bin heights, likewise
//   [2K, 3K-1)   derivatives at the K - 1 inner knots, through softplus
//                (>= kMinDerivative); the end knots have derivative 1,
// shifted so that all-zero parameters give the identity map.
// Mirroring (reversing each of the three groups) gives the spline
// x -> -f(-x): the Z2-equivariant coupling uses it (SplineCoupling).
#include <torch/torch.h>

#include <cmath>
#include <cstdint>

#include "flow/SplineKernels.hpp"

namespace flowlat {

enum class SplineDirection { Forward, Inverse };

struct SplineResult {
  torch::Tensor y;        // transformed values, shape of x
  torch::Tensor log_det;  // log |dy/dx| per element, shape of x (0 outside [-B, B])
};

// Applies the spline of each element of x [...] with parameters
// [..., 3 bins - 1] (same leading shape, same dtype). Differentiable in x
// and the parameters. Local.
SplineResult rational_quadratic_spline(const torch::Tensor& x, const torch::Tensor& params, int64_t bins,
                                       double bound, SplineDirection direction);

// Smallest bin size (a fraction of 2B) and smallest inner derivative.
inline constexpr double kSplineMinBinFraction = 1e-3;
inline constexpr double kSplineMinDerivative = 1e-3;
// softplus(r + shift) + kSplineMinDerivative = 1 at r = 0: zero parameters
// give the identity map. Local.
inline double spline_derivative_shift() {
  static const double shift = std::log(std::expm1(1.0 - kSplineMinDerivative));
  return shift;
}

// Number of parameters of one spline of `bins` bins. Local.
inline int64_t spline_parameter_count(int64_t bins) { return 3 * bins - 1; }

// The constants of this spline for the lane kernels (flow/SplineKernels).
// Local.
inline conv_kernels::SplineShape spline_shape(int64_t bins, double bound) {
  return {bins, bound, kSplineMinBinFraction, kSplineMinDerivative, spline_derivative_shift()};
}

}  // namespace flowlat
