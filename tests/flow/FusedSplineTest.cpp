// The fused rational-quadratic spline against LibTorch's composite one:
// values, log-derivatives and the gradients of both with respect to the
// input and every raw parameter, in both directions (the inverse with
// gradients is what the path-gradient estimator differentiates).
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "flow/ConvKernels.hpp"
#include "flow/FusedSpline.hpp"
#include "flow/SplineKernels.hpp"
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

// The lane loops (SplineKernels.hpp) of every instruction set this CPU
// runs, whether or not FusedSpline picks them there: against LibTorch's
// composite spline (float64 to 1e-12 on raw parameters up to +-30, where
// softmax and softplus reach their extremes; float32 as the fused float32
// above), the tails exactly the identity, and an element's result the same
// bits whatever its lane and neighbours (n = 2367 is no multiple of 8).
TEST(SplineKernels, EveryInstructionSetMatchesTheReferenceWhateverTheLane) {
  const std::string best = conv_kernels::instruction_set();
  for (int64_t bins : {1, 3, 8, 17}) {
    for (double scale : {1.5, 10.0}) {
      torch::manual_seed(7);
      const torch::Tensor x = torch::rand({2367}, torch::kFloat64) * 8 - 4;
      const torch::Tensor params = torch::randn({2367, spline_parameter_count(bins)}, torch::kFloat64) * scale;
      const SplineResult reference = rational_quadratic_spline(x, params, bins, 3.0, SplineDirection::Forward);
      const conv_kernels::SplineShape shape = spline_shape(bins, 3.0);
      for (const char* set : {"generic", "avx2", "avx512"}) {
        if (!conv_kernels::use_instruction_set(set)) continue;
        const std::string what = std::string(set) + " bins " + std::to_string(bins) + " scale " + std::to_string(scale);
        torch::Tensor y = torch::empty_like(x), log_det = torch::empty_like(x);
        conv_kernels::spline_forward(shape, x.data_ptr<double>(), params.data_ptr<double>(), x.numel(),
                                     y.data_ptr<double>(), log_det.data_ptr<double>());
        EXPECT_LT(relative(y, reference.y), 1e-12) << what;
        EXPECT_LT(relative(log_det, reference.log_det), 1e-11) << what;
        const torch::Tensor outside = x.abs() > 3.0;
        EXPECT_TRUE(torch::equal(y.masked_select(outside), x.masked_select(outside))) << what;
        EXPECT_EQ(max_abs(log_det.masked_select(outside)), 0.0) << what;
        // The same elements from offset 3: other lanes, other neighbours.
        torch::Tensor y3 = torch::empty({x.numel() - 3}, torch::kFloat64), log_det3 = torch::empty_like(y3);
        conv_kernels::spline_forward(shape, x.data_ptr<double>() + 3, params.data_ptr<double>() + 3 * params.size(1),
                                     x.numel() - 3, y3.data_ptr<double>(), log_det3.data_ptr<double>());
        EXPECT_TRUE(torch::equal(y3, y.narrow(0, 3, x.numel() - 3))) << what;
        EXPECT_TRUE(torch::equal(log_det3, log_det.narrow(0, 3, x.numel() - 3))) << what;
        // float32 against the float64 reference, as the fused float32 spline.
        const torch::Tensor x32 = x.to(torch::kFloat32), params32 = params.to(torch::kFloat32);
        torch::Tensor y32 = torch::empty_like(x32), log_det32 = torch::empty_like(x32);
        conv_kernels::spline_forward(shape, x32.data_ptr<float>(), params32.data_ptr<float>(), x.numel(),
                                     y32.data_ptr<float>(), log_det32.data_ptr<float>());
        const SplineResult composite32 =
            rational_quadratic_spline(x32, params32, bins, 3.0, SplineDirection::Forward);
        const double error32 = relative(composite32.y.to(torch::kFloat64), reference.y);
        EXPECT_LT(relative(y32.to(torch::kFloat64), reference.y), 4 * error32 + 1e-5) << what << " float32";
        const double log_error32 = relative(composite32.log_det.to(torch::kFloat64), reference.log_det);
        EXPECT_LT(relative(log_det32.to(torch::kFloat64), reference.log_det), 4 * log_error32 + 1e-4)
            << what << " float32";
      }
      ASSERT_TRUE(conv_kernels::use_instruction_set(best.c_str()));
    }
  }
}

// The affine couplings' final tanh in float32 lanes: within 4 units in the
// last place of the float64 tanh rounded to float, on every instruction set,
// exactly +-1 far out, odd, NaN kept; an element's bits do not depend on the
// tail handling (n not a multiple of 8).
TEST(ConvKernels, TanhInLanesIsTanhToAFewUnitsInTheLastPlace) {
  const std::string best = conv_kernels::instruction_set();
  std::vector<float> x;
  for (int i = -300000; i <= 300000; ++i) x.push_back(static_cast<float>(i) * 1e-4f);  // [-30, 30]
  for (float v : {1e-30f, -1e-30f, 0.0f, 1e-7f, 0.6249f, 0.6251f, 8.99f, 9.01f, 100.0f, -100.0f}) x.push_back(v);
  x.push_back(std::numeric_limits<float>::quiet_NaN());
  for (const char* set : {"generic", "avx2", "avx512"}) {
    if (!conv_kernels::use_instruction_set(set)) continue;
    std::vector<float> y = x;
    conv_kernels::tanh_in_place(y.data(), static_cast<int64_t>(y.size()));
    double worst_ulp = 0;
    for (size_t i = 0; i + 1 < x.size(); ++i) {
      const float exact = static_cast<float>(std::tanh(static_cast<double>(x[i])));
      const float ulp = std::nextafter(std::fabs(exact), 2.0f) - std::fabs(exact);
      worst_ulp = std::max(worst_ulp, std::fabs(static_cast<double>(y[i]) - exact) / ulp);
    }
    EXPECT_LT(worst_ulp, 4.0) << set;
    EXPECT_EQ(y[x.size() - 3], 1.0f) << set;   // tanh(100)
    EXPECT_EQ(y[x.size() - 2], -1.0f) << set;  // tanh(-100)
    EXPECT_TRUE(std::isnan(y.back())) << set;
    for (size_t i = 0; i < 300000; ++i) EXPECT_EQ(y[i], -y[x.size() - 12 - i]) << set << " odd at " << x[i];
    std::vector<float> head(x.begin() + 5, x.begin() + 16);  // 11 values: one vector and a tail of 3
    conv_kernels::tanh_in_place(head.data(), 11);
    for (size_t i = 0; i < head.size(); ++i) EXPECT_EQ(head[i], y[5 + i]) << set;
  }
  ASSERT_TRUE(conv_kernels::use_instruction_set(best.c_str()));
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
