// The Pareto tail shape of importance weights against distributions whose
// shape is known: generalised Pareto samples (k = 0.8, 0.2, 0, -1 for a
// uniform), and Gaussian reweighting, where a proposal of width sigma_q for
// a target of width sigma_p has weights with the tail shape
// 1 - sigma_q^2 / sigma_p^2 (heavy when the proposal is too narrow, bounded
// when it is wider than the target).
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "analysis/WeightTail.hpp"

namespace flowlat {
namespace {

// log x for N draws of the generalised Pareto distribution of shape k, scale 1.
std::vector<double> pareto_logs(double k, int n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> uniform(0.0, 1.0);
  std::vector<double> logs(n);
  for (double& value : logs) {
    const double u = uniform(rng);
    value = std::log(k == 0 ? -std::log1p(-u) : (std::pow(1 - u, -k) - 1) / k);
  }
  return logs;
}

TEST(WeightTail, RecoversTheShapeOfGeneralisedParetoSamples) {
  for (const double k : {0.8, 0.5, 0.2, 0.0}) {
    for (uint64_t seed : {1u, 2u, 3u}) {
      EXPECT_NEAR(pareto_tail_shape(pareto_logs(k, 40000, seed)), k, 0.12) << "k = " << k << ", seed " << seed;
    }
  }
}

TEST(WeightTail, BoundedValuesHaveANegativeShape) {
  std::mt19937_64 rng(5);
  std::uniform_real_distribution<double> uniform(0.0, 1.0);
  std::vector<double> logs(40000);
  for (double& value : logs) value = std::log(uniform(rng));
  EXPECT_LT(pareto_tail_shape(logs), -0.6);  // a uniform is the generalised Pareto of shape -1
}

TEST(WeightTail, TellsAProposalTooNarrowFromOneWideEnough) {
  // One Gaussian degree of freedom: w = p / q with q = N(0, sq^2), p = N(0, sp^2).
  const auto shape = [](double sq, double sp, uint64_t seed) {
    std::mt19937_64 rng(seed);
    std::normal_distribution<double> normal(0.0, sq);
    std::vector<double> log_w(40000);
    for (double& value : log_w) {
      const double phi = normal(rng);
      value = 0.5 * phi * phi * (1 / (sq * sq) - 1 / (sp * sp));
    }
    return pareto_tail_shape(log_w);
  };
  // The tail P(w > t) ~ t^-1/k / sqrt(log t) approaches its power law
  // slowly: at N = 40000 the fit sees k about 0.1 below the limit.
  for (uint64_t seed : {7u, 8u, 9u}) {
    const double narrow = shape(1.0, 3.0, seed), borderline = shape(1.0, std::sqrt(2.0), seed);
    EXPECT_GT(narrow, kUntrustedTailShape) << seed;  // limit 0.89: flagged
    EXPECT_LT(narrow, 1 - 1.0 / 9 + 0.05) << seed;
    EXPECT_GT(borderline, 0.25) << seed;  // limit 0.5: the variance of w just infinite
    EXPECT_LT(borderline, 0.55) << seed;
    EXPECT_LT(shape(1.2, 1.0, seed), 0.0) << seed;  // a wider proposal: bounded weights
  }
}

TEST(WeightTail, UndefinedForEqualOrTooFewValues) {
  EXPECT_TRUE(std::isnan(pareto_tail_shape(std::vector<double>(1000, 0.0))));
  EXPECT_TRUE(std::isnan(pareto_tail_shape({0.1, 0.5, 0.2})));
}

}  // namespace
}  // namespace flowlat
