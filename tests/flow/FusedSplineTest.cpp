// The fused rational-quadratic spline against LibTorch's composite one:
// values, log-derivatives and the gradients of both with respect to the
// input and every raw parameter, in both directions (the inverse with
// gradients is what the path-gradient estimator differentiates).
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <algorithm>

#include "flow/FusedSpline.hpp"
#include "flow/RationalQuadraticSpline.hpp"

namespace flowlat {
namespace {

double max_abs(const torch::Tensor& t) { return t.abs().max().item<double>(); }

double relative(const torch::Tensor& a, const torch::Tensor& b) {
  return max_abs(a - b) / std::max(1.0, max_abs(b));
}

struct Evaluation {
  torch::Tensor y, log_det, g_x, g_params;
};

// Values, and the gradient of sum(a y + b log_det) for fixed random a, b.
template <typename Spline>
Evaluation evaluate(Spline spline, const torch::Tensor& x, const torch::Tensor& params, int64_t bins,
                    SplineDirection direction, bool log_det_only = false) {
  const torch::Tensor xi = x.clone().requires_grad_(true), pi = params.clone().requires_grad_(true);
  const SplineResult out = spline(xi, pi, bins, 3.0, direction);
  torch::manual_seed(11);
  const torch::Tensor a = torch::randn_like(out.y), b = torch::randn_like(out.y);
  torch::Tensor loss = (b * out.log_det).sum();
  if (!log_det_only) loss = loss + (a * out.y).sum();
  loss.backward();
  return {out.y.detach(), out.log_det.detach(), xi.grad(), pi.grad()};
}

// Inputs spread over the spline's interval [-3, 3] and its linear tails.
std::pair<torch::Tensor, torch::Tensor> inputs(int64_t bins, torch::ScalarType dtype) {
  torch::manual_seed(3);
  const torch::Tensor x = (torch::rand({64, 37}, torch::kFloat64) * 8 - 4).to(dtype);
  const torch::Tensor params = (torch::randn({64, 37, spline_parameter_count(bins)}, torch::kFloat64) * 1.5).to(dtype);
  return {x, params};
}

TEST(FusedSpline, MatchesTheReferenceInBothDirectionsInFloat64) {
  for (int64_t bins : {2, 5, 8}) {
    for (SplineDirection direction : {SplineDirection::Forward, SplineDirection::Inverse}) {
      const std::string what = "bins " + std::to_string(bins) +
                               (direction == SplineDirection::Forward ? " forward" : " inverse");
      const auto [x, params] = inputs(bins, torch::kFloat64);
      for (bool log_det_only : {false, true}) {
        const Evaluation fused = evaluate(fused_rational_quadratic_spline, x, params, bins, direction, log_det_only);
        const Evaluation reference = evaluate(rational_quadratic_spline, x, params, bins, direction, log_det_only);
        EXPECT_LT(relative(fused.y, reference.y), 1e-13) << what;
        EXPECT_LT(relative(fused.log_det, reference.log_det), 1e-12) << what;
        EXPECT_LT(relative(fused.g_x, reference.g_x), 1e-10) << what;
        EXPECT_LT(relative(fused.g_params, reference.g_params), 1e-10) << what;
      }
    }
  }
}

TEST(FusedSpline, MatchesTheReferenceInFloat32) {
  const int64_t bins = 8;
  for (SplineDirection direction : {SplineDirection::Forward, SplineDirection::Inverse}) {
    const auto [x, params] = inputs(bins, torch::kFloat32);
    const Evaluation fused = evaluate(fused_rational_quadratic_spline, x, params, bins, direction);
    const Evaluation reference = evaluate(rational_quadratic_spline, x, params, bins, direction);
    EXPECT_LT(relative(fused.y, reference.y), 1e-5);
    EXPECT_LT(relative(fused.log_det, reference.log_det), 1e-4);
    EXPECT_LT(relative(fused.g_x, reference.g_x), 1e-3);
    EXPECT_LT(relative(fused.g_params, reference.g_params), 1e-3);
  }
}

TEST(FusedSpline, GradientsAgreeWithFiniteDifferences) {
  // Independent of the reference: central differences of the fused values.
  const int64_t bins = 6;
  auto [x, params] = inputs(bins, torch::kFloat64);
  x = x.narrow(0, 0, 2);
  params = params.narrow(0, 0, 2);
  const std::vector<SplineDirection> directions{SplineDirection::Forward, SplineDirection::Inverse};
  for (SplineDirection direction : directions) {
    auto objective = [&](const torch::Tensor& xs, const torch::Tensor& ps) {
      const SplineResult out = fused_rational_quadratic_spline(xs, ps, bins, 3.0, direction);
      return (out.y.sum() + 0.5 * out.log_det.sum()).item<double>();
    };
    const torch::Tensor xi = x.clone().requires_grad_(true), pi = params.clone().requires_grad_(true);
    const SplineResult out = fused_rational_quadratic_spline(xi, pi, bins, 3.0, direction);
    (out.y.sum() + 0.5 * out.log_det.sum()).backward();
    const double h = 1e-6;
    for (int64_t i = 0; i < pi.numel(); i += 7) {
      torch::Tensor plus = params.clone(), minus = params.clone();
      plus.view(-1)[i] += h;
      minus.view(-1)[i] -= h;
      const double numeric = (objective(x, plus) - objective(x, minus)) / (2 * h);
      EXPECT_NEAR(pi.grad().view(-1)[i].item<double>(), numeric, 1e-6 * std::max(1.0, std::abs(numeric)));
    }
    for (int64_t i = 0; i < xi.numel(); ++i) {
      torch::Tensor plus = x.clone(), minus = x.clone();
      plus.view(-1)[i] += h;
      minus.view(-1)[i] -= h;
      const double numeric = (objective(plus, params) - objective(minus, params)) / (2 * h);
      EXPECT_NEAR(xi.grad().view(-1)[i].item<double>(), numeric, 1e-6 * std::max(1.0, std::abs(numeric)));
    }
  }
}

}  // namespace
}  // namespace flowlat
