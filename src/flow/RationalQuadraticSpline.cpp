#include "flow/RationalQuadraticSpline.hpp"

#include <cmath>

namespace flowlat {
namespace {

// Knot positions [..., K + 1] from raw bin sizes [..., K]: -B, ..., B exactly.
torch::Tensor knots(const torch::Tensor& raw, int64_t bins, double bound) {
  const torch::Tensor fractions = kSplineMinBinFraction + (1 - kSplineMinBinFraction * bins) * torch::softmax(raw, -1);
  const torch::Tensor inner = 2 * bound * torch::cumsum(fractions, -1).narrow(-1, 0, bins - 1) - bound;
  auto end = [&](double value) { return torch::full_like(raw.narrow(-1, 0, 1), value); };
  return torch::cat({end(-bound), inner, end(bound)}, -1);
}

// Values at the bin of each element: index [..., 1] into [..., n].
torch::Tensor at_bin(const torch::Tensor& values, const torch::Tensor& index) {
  return values.gather(-1, index).squeeze(-1);
}

}  // namespace

SplineResult rational_quadratic_spline(const torch::Tensor& x, const torch::Tensor& params, int64_t bins,
                                       double bound, SplineDirection direction) {
  TORCH_CHECK(params.size(-1) == spline_parameter_count(bins), "rational_quadratic_spline: expected ",
              spline_parameter_count(bins), " parameters per element, got ", params.size(-1));
  const double shift = spline_derivative_shift();
  const torch::Tensor x_knots = knots(params.narrow(-1, 0, bins), bins, bound);
  const torch::Tensor y_knots = knots(params.narrow(-1, bins, bins), bins, bound);
  const torch::Tensor inner = kSplineMinDerivative + torch::softplus(params.narrow(-1, 2 * bins, bins - 1) + shift);
  const torch::Tensor ones = torch::ones_like(params.narrow(-1, 0, 1));
  const torch::Tensor derivatives = torch::cat({ones, inner, ones}, -1);  // [..., K + 1]

  const torch::Tensor inside = (x >= -bound) & (x <= bound);
  const torch::Tensor v = x.clamp(-bound, bound).unsqueeze(-1);
  const torch::Tensor& search_knots = direction == SplineDirection::Forward ? x_knots : y_knots;
  const torch::Tensor bin = torch::searchsorted(search_knots.narrow(-1, 1, bins - 1).contiguous(), v,
                                                /*out_int32=*/false, /*right=*/true);
  const torch::Tensor x0 = at_bin(x_knots, bin), y0 = at_bin(y_knots, bin);
  const torch::Tensor width = at_bin(x_knots, bin + 1) - x0;
  const torch::Tensor height = at_bin(y_knots, bin + 1) - y0;
  const torch::Tensor d0 = at_bin(derivatives, bin), d1 = at_bin(derivatives, bin + 1);
  const torch::Tensor slope = height / width;
  const torch::Tensor curvature = d1 + d0 - 2 * slope;

  torch::Tensor theta, y;
  if (direction == SplineDirection::Forward) {
    theta = (v.squeeze(-1) - x0) / width;
    const torch::Tensor mixed = theta * (1 - theta);
    y = y0 + height * (slope * theta * theta + d0 * mixed) / (slope + curvature * mixed);
  } else {
    // theta solves a theta^2 + b theta + c = 0; the root in [0, 1] in its
    // cancellation-free form.
    const torch::Tensor offset = v.squeeze(-1) - y0;
    const torch::Tensor a = height * (slope - d0) + offset * curvature;
    const torch::Tensor b = height * d0 - offset * curvature;
    const torch::Tensor c = -slope * offset;
    const torch::Tensor discriminant = (b * b - 4 * a * c).clamp_min(0);
    theta = (2 * c) / (-b - torch::sqrt(discriminant));
    y = x0 + theta * width;
  }
  const torch::Tensor mixed = theta * (1 - theta);
  const torch::Tensor denominator = slope + curvature * mixed;
  const torch::Tensor derivative =
      slope * slope * (d1 * theta * theta + 2 * slope * mixed + d0 * (1 - theta) * (1 - theta)) /
      (denominator * denominator);
  const torch::Tensor log_det = direction == SplineDirection::Forward ? torch::log(derivative) : -torch::log(derivative);
  return {torch::where(inside, y, x), torch::where(inside, log_det, torch::zeros_like(log_det))};
}

}  // namespace flowlat
