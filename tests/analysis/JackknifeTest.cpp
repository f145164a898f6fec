#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "analysis/Jackknife.hpp"

namespace flowlat {
namespace {

std::vector<double> normal_samples(std::size_t n, double mean, double sigma, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> normal(mean, sigma);
  std::vector<double> x(n);
  for (double& v : x) v = normal(rng);
  return x;
}

double mean_of(const std::vector<double>& x) {
  double sum = 0;
  for (double v : x) sum += v;
  return sum / x.size();
}

// Unbiased sample covariance.
double covariance(const std::vector<double>& x, const std::vector<double>& y) {
  const double mx = mean_of(x), my = mean_of(y);
  double sum = 0;
  for (std::size_t i = 0; i < x.size(); ++i) sum += (x[i] - mx) * (y[i] - my);
  return sum / (x.size() - 1.0);
}

const auto kFirstMean = [](const std::vector<double>& m) { return m[0]; };

TEST(Jackknife, MeanWithOneSampleBlocksIsTheStandardError) {
  const std::vector<double> x = normal_samples(1000, 1.5, 0.7, 1);
  const JackknifeResult r = jackknife({x}, 1000, kFirstMean);
  const double standard_error = std::sqrt(covariance(x, x) / x.size());
  EXPECT_NEAR(r.value, mean_of(x), 1e-14);
  EXPECT_NEAR(r.error, standard_error, 1e-12 * standard_error);
  EXPECT_NEAR(r.bias_corrected, mean_of(x), 1e-12);  // f linear: no bias
  EXPECT_EQ(r.n_blocks, 1000);
}

// Importance weights where one dominates (max-shifted: w = 1 once, 1e-25
// elsewhere): the leave-one-out mean without the dominant block is 1e-25,
// not total - block = 0, so log Z's error is finite and equals the
// closed form (it was NaN).
TEST(Jackknife, LogOfMeanWithOneDominantWeightHasAFiniteError) {
  std::vector<double> w(1000, 1e-25);
  w[0] = 1.0;
  const JackknifeResult r = jackknife({w}, 10, [](const std::vector<double>& m) { return std::log(m[0]); });
  std::vector<double> leave_one_out{std::log(1e-25)};
  for (int j = 1; j < 10; ++j) leave_one_out.push_back(std::log((1.0 + 899 * 1e-25) / 900.0));
  const double mean = mean_of(leave_one_out);
  double sum = 0;
  for (double v : leave_one_out) sum += (v - mean) * (v - mean);
  const double expected = std::sqrt(9.0 / 10.0 * sum);
  ASSERT_TRUE(std::isfinite(r.error));
  EXPECT_NEAR(r.error, expected, 1e-12 * expected);
  EXPECT_NEAR(r.value, std::log((1.0 + 999 * 1e-25) / 1000.0), 1e-14);
}

TEST(Jackknife, BlockedMeanIsTheStandardErrorOfBlockMeans) {
  const std::vector<double> x = normal_samples(1000, -0.3, 2.0, 2);
  const JackknifeResult r = jackknife({x}, 20, kFirstMean);
  std::vector<double> block_means;
  for (std::size_t b = 0; b < 20; ++b) {
    block_means.push_back(
        mean_of(std::vector<double>(x.begin() + 50 * b, x.begin() + 50 * (b + 1))));
  }
  const double expected = std::sqrt(covariance(block_means, block_means) / 20.0);
  EXPECT_NEAR(r.error, expected, 1e-12 * expected);
}

TEST(Jackknife, RemainderIsSpreadSoEverySampleCounts) {
  const std::vector<double> x = normal_samples(1003, 0.2, 1.0, 3);
  const JackknifeResult r = jackknife({x}, 10, kFirstMean);
  EXPECT_NEAR(r.value, mean_of(x), 1e-14);
  // Blocks [b N / 10, (b+1) N / 10): sizes 100 or 101.
  std::vector<double> f_j;
  for (std::size_t b = 0; b < 10; ++b) {
    const std::size_t begin = b * 1003 / 10, end = (b + 1) * 1003 / 10;
    double rest = 0;
    for (std::size_t i = 0; i < x.size(); ++i) rest += (i >= begin && i < end) ? 0.0 : x[i];
    f_j.push_back(rest / (1003 - (end - begin)));
  }
  const double expected = std::sqrt(9.0 * 9.0 / 10.0 * covariance(f_j, f_j));
  EXPECT_NEAR(r.error, expected, 1e-12 * expected);
}

TEST(Jackknife, BiasCorrectionOfSquaredMeanIsExact) {
  // For f = <x>^2 the one-sample jackknife gives xbar^2 - s^2/N: unbiased.
  const std::vector<double> x = normal_samples(1000, 0.1, 1.0, 4);
  const JackknifeResult r =
      jackknife({x}, 1000, [](const std::vector<double>& m) { return m[0] * m[0]; });
  const double xbar = mean_of(x);
  EXPECT_NEAR(r.value, xbar * xbar, 1e-15);
  EXPECT_NEAR(r.bias_corrected, xbar * xbar - covariance(x, x) / x.size(), 1e-12);
  EXPECT_GT(std::abs(r.bias_corrected - r.value), 1e-4);  // the correction is visible
}

TEST(Jackknife, ReweightingRatioMatchesDeltaMethod) {
  // Self-normalised reweighting: sum(w O) / sum(w), w and O correlated.
  const std::size_t n = 100000;
  const std::vector<double> g1 = normal_samples(n, 0.0, 1.0, 5);
  const std::vector<double> g2 = normal_samples(n, 0.0, 1.0, 6);
  std::vector<double> w(n), wo(n);
  for (std::size_t i = 0; i < n; ++i) {
    w[i] = std::exp(0.5 * g1[i]);
    wo[i] = w[i] * (1.0 + g2[i] + 0.8 * g1[i]);
  }
  const double a = mean_of(wo), b = mean_of(w), ratio = a / b;
  const double delta_var = covariance(wo, wo) - 2.0 * ratio * covariance(wo, w) +
                           ratio * ratio * covariance(w, w);
  const double delta_error = std::sqrt(delta_var / (b * b * n));
  const auto f = [](const std::vector<double>& m) { return m[1] / m[0]; };
  const JackknifeResult fine = jackknife({w, wo}, static_cast<int>(n), f);
  const JackknifeResult coarse = jackknife({w, wo}, 1000, f);
  std::printf("ratio %.6f: delta-method error %.6g, jackknife %.6g (N blocks), %.6g "
              "(1000 blocks)\n",
              ratio, delta_error, fine.error, coarse.error);
  EXPECT_NEAR(fine.value, ratio, 1e-12 * std::abs(ratio));
  EXPECT_NEAR(fine.error, delta_error, 0.01 * delta_error);
  EXPECT_NEAR(coarse.error, delta_error, 0.1 * delta_error);
  EXPECT_NEAR(fine.bias_corrected, ratio, 0.1 * delta_error);  // bias O(1/N) << error
}

TEST(Jackknife, VectorValuedFunctionMatchesScalarCalls) {
  const std::vector<double> x = normal_samples(500, 1.0, 0.5, 7);
  const std::vector<double> y = normal_samples(500, 2.0, 0.5, 8);
  const auto f = [](const std::vector<double>& m) {
    return std::vector<double>{m[0], m[1] / m[0], m[0] * m[1]};
  };
  const std::vector<JackknifeResult> all = jackknife_vector({x, y}, 25, f);
  ASSERT_EQ(all.size(), 3u);
  for (std::size_t k = 0; k < 3; ++k) {
    const JackknifeResult one =
        jackknife({x, y}, 25, [&f, k](const std::vector<double>& m) { return f(m)[k]; });
    EXPECT_DOUBLE_EQ(all[k].value, one.value);
    EXPECT_DOUBLE_EQ(all[k].error, one.error);
    EXPECT_DOUBLE_EQ(all[k].bias_corrected, one.bias_corrected);
    EXPECT_EQ(all[k].n_blocks, 25);
  }
}

// Expects std::invalid_argument whose message mentions `word`.
template <typename Call>
void expect_invalid(Call call, const std::string& word) {
  try {
    call();
    ADD_FAILURE() << "no exception; expected one naming " << word;
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find(word), std::string::npos) << e.what();
  }
}

TEST(Jackknife, RejectsInvalidInput) {
  const std::vector<double> x(10, 1.0), shorter(9, 1.0);
  expect_invalid([&] { jackknife({}, 2, kFirstMean); }, "no primary");
  expect_invalid([&] { jackknife({x, shorter}, 2, kFirstMean); }, "primary series 1 has 9");
  expect_invalid([&] { jackknife({x}, 1, kFirstMean); }, "n_blocks = 1");
  expect_invalid([&] { jackknife({x}, -3, kFirstMean); }, "n_blocks = -3");
  expect_invalid([&] { jackknife({x}, 11, kFirstMean); }, "[2, N = 10]");
  expect_invalid([&] { jackknife({std::vector<double>{}}, 2, kFirstMean); }, "n_blocks");
  int calls = 0;
  const auto ragged = [&calls](const std::vector<double>& m) {
    return std::vector<double>(++calls == 3 ? 1 : 2, m[0]);
  };
  expect_invalid([&] { jackknife_vector({x}, 5, ragged); }, "f returned 1 values");
}

}  // namespace
}  // namespace flowlat
