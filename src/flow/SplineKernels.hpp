#pragma once
// The rational-quadratic spline's forward map (x -> y, log dy/dx) on 8
// elements at a time, one per vector lane: knots, bin search, derivatives
// and value without a call to libm (exp and log as lane polynomials,
// accurate to a few units in the last place in float32 and float64).
// Sampling runs it on every active site of every spline coupling, and as
// one element at a time it took 30 % of a best-recipe sampling run (16
// scalar exps, two log1p and a log per element). Compiled per instruction
// set with the convolution loops (ConvKernels{Generic,Avx2,Avx512}.cpp)
// and dispatched with them. An element's result does not depend on the
// other lanes, so it is the same in every batch and on every rank.
// Torch-free: FusedSpline calls it for the forward direction.
#include <cstdint>

namespace flowlat::conv_kernels {

// The spline's constants (RationalQuadraticSpline.hpp).
struct SplineShape {
  int64_t bins = 0;
  double bound = 0;
  double min_bin_fraction = 0;
  double min_derivative = 0;
  double derivative_shift = 0;  // added to the raw derivative before the softplus
};

// The most bins the lane loops take.
inline constexpr int64_t kMaxLaneSplineBins = 64;

// Whether spline_forward beats FusedSpline's one-element loop with the
// instruction set this process runs. Measured per element at 8 bins:
// AVX-512 7x (float32) and 6x (float64) faster, AVX2 5x in float32 but 2x
// slower in float64 (8 double lanes fill two registers there, and the
// conversions to int64 are scalar), SSE 2x slower. Local.
bool spline_forward_in_lanes(bool float64);

// y, log_det [n] from x [n] and params [n, 3 bins - 1] (bins at most
// kMaxLaneSplineBins): the identity with log-det 0 outside [-bound, bound].
// Local.
void spline_forward(const SplineShape& shape, const float* x, const float* params, int64_t n, float* y,
                    float* log_det);
void spline_forward(const SplineShape& shape, const double* x, const double* params, int64_t n, double* y,
                    double* log_det);

}  // namespace flowlat::conv_kernels
