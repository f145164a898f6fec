#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <random>
#include <stdexcept>
#include <vector>

#include "analysis/GammaMethod.hpp"

namespace flowlat {
namespace {

// x_t = rho x_{t-1} + sqrt(1 - rho^2) eps_t, started in equilibrium: unit
// variance, Gamma(t) = rho^|t|, tau_int = (1 + rho) / (2 (1 - rho)).
std::vector<double> ar1_series(double rho, std::size_t n, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> normal;
  std::vector<double> x(n);
  x[0] = normal(rng);
  const double noise = std::sqrt(1.0 - rho * rho);
  for (std::size_t t = 1; t < n; ++t) x[t] = rho * x[t - 1] + noise * normal(rng);
  return x;
}

void expect_matches_exact_ar1(double rho, std::size_t n, std::uint64_t seed) {
  const GammaMethodResult r = gamma_method(ar1_series(rho, n, seed));
  const double tau_exact = (1.0 + rho) / (2.0 * (1.0 - rho));
  const double error_exact = std::sqrt(2.0 * tau_exact / n);
  std::printf("rho = %.2f: tau_int = %.4f +- %.4f (exact %.4f), error = %.6g (exact %.6g), "
              "W = %d\n",
              rho, r.tau_int, r.tau_int_error, tau_exact, r.error, error_exact, r.window);
  EXPECT_NEAR(r.tau_int, tau_exact, 3.0 * r.tau_int_error);
  EXPECT_NEAR(r.error, error_exact, 0.1 * error_exact);
  EXPECT_NEAR(r.value, 0.0, 4.0 * error_exact);
  // The window must cover several exponential times -1/ln(rho) (truncation
  // bias exp(-W/tau_exp)) yet stay far below N/2.
  const double tau_exp = -1.0 / std::log(rho);
  EXPECT_GT(r.window, 4.0 * tau_exp);
  EXPECT_LT(r.window, 30.0 * tau_exp);
  EXPECT_NEAR(r.error_of_error, r.error * std::sqrt((r.window + 0.5) / n), 1e-15);
  // Madras-Sokal: sigma(tau_int) ~ 2 tau_int sqrt((W + 1/2 - tau_int) / N).
  EXPECT_NEAR(r.tau_int_error, 2.0 * tau_exact * std::sqrt((r.window + 0.5 - tau_exact) / n),
              0.1 * r.tau_int_error);
}

TEST(GammaMethod, Ar1WithRhoHalfMatchesExactTauInt) {
  expect_matches_exact_ar1(0.5, 1 << 19, 12345);
}

TEST(GammaMethod, Ar1WithRhoPointNineMatchesExactTauInt) {
  expect_matches_exact_ar1(0.9, 1 << 19, 67890);
}

TEST(GammaMethod, UncorrelatedDataHaveTauIntOneHalf) {
  std::mt19937_64 rng(2024);
  std::normal_distribution<double> normal(3.0, 2.0);
  std::vector<double> x(100000);
  for (double& v : x) v = normal(rng);
  const GammaMethodResult r = gamma_method(x);
  std::printf("iid: tau_int = %.4f +- %.4f, W = %d\n", r.tau_int, r.tau_int_error, r.window);
  EXPECT_NEAR(r.tau_int, 0.5, r.tau_int_error);
  EXPECT_NEAR(r.error, 2.0 / std::sqrt(x.size()), 0.05 * 2.0 / std::sqrt(x.size()));
  EXPECT_LE(r.window, 5);
}

// Two short correlated series from a 32-bit LCG, reproducible bit for bit in
// any language: x_t = 0.9 x_{t-1} + e, y_t = 2 + x_t / 2 + u_t, u_t = 0.3 u_{t-1} + e'.
struct ShortSeries {
  std::vector<double> x, y;
};
ShortSeries lcg_series(std::size_t n) {
  std::uint64_t state = 12345;
  const auto draw = [&state] {
    state = (1664525 * state + 1013904223) % 4294967296;
    return static_cast<double>(state) / 4294967296.0 - 0.5;
  };
  ShortSeries s;
  double v = 0, u = 0;
  for (std::size_t t = 0; t < n; ++t) {
    v = 0.9 * v + draw();
    u = 0.3 * u + draw();
    s.x.push_back(v);
    s.y.push_back(2.0 + 0.5 * v + u);
  }
  return s;
}

// Reference numbers from a direct-sum Python port of Wolff's UWerr.m (V6, one
// replicum) on lcg_series(400); N is small so that the bias correction of
// Gamma_F and the window choice matter at these tolerances.
TEST(GammaMethod, ReproducesWolffUwerrOnShortSeries) {
  const ShortSeries s = lcg_series(400);
  const GammaMethodResult r = gamma_method(s.x);
  EXPECT_NEAR(r.value, 0.3473511579766984, 1e-14);
  EXPECT_NEAR(r.error, 0.15922616322075017, 1e-12);
  EXPECT_NEAR(r.error_of_error, 0.04324097148807565, 1e-12);
  EXPECT_NEAR(r.tau_int, 10.356312798301966, 1e-10);
  EXPECT_NEAR(r.tau_int_error, 4.531249270403815, 1e-10);
  EXPECT_EQ(r.window, 29);
  const GammaMethodResult s3 = gamma_method(s.x, 3.0);
  EXPECT_NEAR(s3.error, 0.16734335820466364, 1e-12);
  EXPECT_NEAR(s3.tau_int, 11.422349317149722, 1e-10);
  EXPECT_NEAR(s3.tau_int_error, 6.667918163067708, 1e-10);
  EXPECT_EQ(s3.window, 45);
}

TEST(GammaMethod, ReproducesWolffUwerrForRatioWithNumericalGradient) {
  const ShortSeries s = lcg_series(400);
  const GammaMethodResult r =
      gamma_method({s.x, s.y}, [](const std::vector<double>& a) { return a[0] / a[1]; });
  EXPECT_NEAR(r.value, 0.15994742720676156, 1e-14);
  EXPECT_NEAR(r.error, 0.06865920299837995, 1e-9);
  EXPECT_NEAR(r.error_of_error, 0.018645746271803924, 1e-9);
  EXPECT_NEAR(r.tau_int, 10.356832397857746, 1e-7);
  EXPECT_NEAR(r.tau_int_error, 4.531415116117439, 1e-7);
  EXPECT_EQ(r.window, 29);
}

TEST(GammaMethod, RatioErrorMatchesAnalyticGradientProjection) {
  // Two correlated chains; f = <x>/<y> with gradient (1/y, -x/y^2).
  const std::vector<double> u = ar1_series(0.7, 200000, 11);
  const std::vector<double> v = ar1_series(0.4, 200000, 12);
  std::vector<double> x(u.size()), y(u.size());
  for (std::size_t i = 0; i < u.size(); ++i) {
    x[i] = 1.0 + 0.5 * u[i];
    y[i] = 3.0 + 0.3 * u[i] + 0.4 * v[i];
  }
  const GammaMethodResult r =
      gamma_method({x, y}, [](const std::vector<double>& a) { return a[0] / a[1]; });
  const GammaMethodResult mx = gamma_method(x), my = gamma_method(y);
  std::vector<double> projected(x.size());
  for (std::size_t i = 0; i < x.size(); ++i) {
    projected[i] =
        (x[i] - mx.value) / my.value - mx.value / (my.value * my.value) * (y[i] - my.value);
  }
  const GammaMethodResult p = gamma_method(projected);
  EXPECT_DOUBLE_EQ(r.value, mx.value / my.value);
  EXPECT_NEAR(r.error, p.error, 1e-6 * p.error);
  EXPECT_NEAR(r.tau_int, p.tau_int, 1e-6 * p.tau_int);
  EXPECT_EQ(r.window, p.window);
}

TEST(GammaMethod, ConstantSeriesHasNoErrorAndTauOneHalf) {
  const GammaMethodResult r = gamma_method(std::vector<double>(1000, 0.1));
  EXPECT_EQ(r.value, 0.1);
  EXPECT_EQ(r.error, 0.0);
  EXPECT_EQ(r.error_of_error, 0.0);
  EXPECT_EQ(r.tau_int, 0.5);
  EXPECT_EQ(r.tau_int_error, 0.0);
  EXPECT_EQ(r.window, 0);
  // A constant primary next to a fluctuating one simply does not contribute.
  const std::vector<double> x = ar1_series(0.5, 10000, 3);
  const GammaMethodResult d = gamma_method(
      {x, std::vector<double>(x.size(), 2.0)},
      [](const std::vector<double>& a) { return a[0] * a[1]; });
  const GammaMethodResult m = gamma_method(x);
  EXPECT_NEAR(d.error, 2.0 * m.error, 1e-9 * m.error);
  EXPECT_EQ(d.window, m.window);
}

TEST(GammaMethod, SZeroAssumesNoAutocorrelation) {
  const std::vector<double> x = ar1_series(0.9, 10000, 5);
  const GammaMethodResult r = gamma_method(x, 0.0);
  double var = 0;
  for (double v : x) var += (v - r.value) * (v - r.value);
  var /= x.size();
  EXPECT_EQ(r.window, 0);
  EXPECT_DOUBLE_EQ(r.tau_int, 0.5);
  // Naive error with the W = 0 bias correction Gamma(0) (1 + 1/N).
  EXPECT_NEAR(r.error, std::sqrt(var * (1.0 + 1.0 / x.size()) / x.size()), 1e-12);
}

TEST(GammaMethod, RejectsTooShortOrInconsistentInput) {
  EXPECT_THROW(gamma_method(std::vector<double>{1.0}), std::invalid_argument);
  EXPECT_THROW(gamma_method(std::vector<double>{}), std::invalid_argument);
  EXPECT_THROW(gamma_method(std::vector<double>{1.0, 2.0, 3.0}, -1.0), std::invalid_argument);
  EXPECT_THROW(gamma_method(std::vector<double>{1.0, NAN, 3.0}), std::invalid_argument);
  const auto first = [](const std::vector<double>& a) { return a[0]; };
  EXPECT_THROW(gamma_method(std::vector<std::vector<double>>{}, first), std::invalid_argument);
  EXPECT_THROW(gamma_method({{1.0, 2.0, 3.0}, {1.0, 2.0}}, first), std::invalid_argument);
}

TEST(GammaMethod, WindowOfTooShortChainStopsNearNOverESquared) {
  // A random walk has tau ~ N: the criterion closes anyway, by W ~ N/e^2,
  // and the error must still exceed the naive one by a large factor.
  std::mt19937_64 rng(7);
  std::normal_distribution<double> normal;
  std::vector<double> walk(1000);
  for (std::size_t t = 1; t < walk.size(); ++t) walk[t] = walk[t - 1] + normal(rng);
  const GammaMethodResult r = gamma_method(walk);
  const GammaMethodResult naive = gamma_method(walk, 0.0);
  std::printf("random walk: W = %d, tau_int = %.2f\n", r.window, r.tau_int);
  EXPECT_LE(r.window, 1000 / std::exp(2.0) + 1);
  EXPECT_GT(r.window, 20);
  EXPECT_GT(r.error, 5.0 * naive.error);
}

}  // namespace
}  // namespace flowlat

namespace flowlat {
namespace {

// R independent AR(1) replicas (each started in equilibrium) analysed
// together: tau_int and the error of the mean match the exact values, and
// the lags never cross from one replicum into the next (concatenating
// replicas of a process with a nonzero mean per replicum would show it).
TEST(GammaMethod, SeveralReplicasMatchTheExactAr1TauInt) {
  const double rho = 0.8, tau_exact = (1.0 + rho) / (2.0 * (1.0 - rho));
  const std::size_t replicas = 16, length = 20000;
  std::vector<double> all;
  std::vector<std::size_t> lengths;
  for (std::size_t r = 0; r < replicas; ++r) {
    const std::vector<double> x = ar1_series(rho, length, 1000 + r);
    all.insert(all.end(), x.begin(), x.end());
    lengths.push_back(length);
  }
  const auto identity = [](const std::vector<double>& m) { return m[0]; };
  const GammaMethodResult r = gamma_method({all}, identity, lengths);
  const double error_exact = std::sqrt(2.0 * tau_exact / static_cast<double>(all.size()));
  std::printf("[ info     ] %zu replicas: tau_int = %.4f +- %.4f (exact %.4f), error %.6g (exact %.6g)\n", replicas,
              r.tau_int, r.tau_int_error, tau_exact, r.error, error_exact);
  EXPECT_NEAR(r.tau_int, tau_exact, 3.0 * r.tau_int_error);
  EXPECT_NEAR(r.error, error_exact, 0.1 * error_exact);
  EXPECT_NEAR(r.value, 0.0, 4.0 * error_exact);

  // Replicas of unequal length are allowed.
  const GammaMethodResult unequal =
      gamma_method({std::vector<double>(all.begin(), all.begin() + 30000)}, identity, {10000, 20000});
  EXPECT_NEAR(unequal.tau_int, tau_exact, 4.0 * unequal.tau_int_error);
  EXPECT_THROW(gamma_method({all}, identity, std::vector<std::size_t>{length}), std::invalid_argument);  // lengths do not add up
  EXPECT_THROW(gamma_method({all}, identity, std::vector<std::size_t>{all.size() - 1, 1}), std::invalid_argument);
}

}  // namespace
}  // namespace flowlat
