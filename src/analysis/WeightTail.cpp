#include "analysis/WeightTail.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace flowlat {
namespace {

// The generalised Pareto shape of `exceedances` (sorted, > 0) by Zhang and
// Stephens' empirical-Bayes fit with the weakly informative prior of PSIS
// (towards k = 0.5, worth 10 observations). Local.
double generalized_pareto_shape(const std::vector<double>& x) {
  const auto n = static_cast<double>(x.size());
  const int grid = 30 + static_cast<int>(std::sqrt(n));
  const double quartile = x[static_cast<size_t>(std::max(0.0, std::floor(n / 4 + 0.5) - 1))];
  std::vector<double> theta(grid), log_likelihood(grid);
  for (int j = 0; j < grid; ++j) {
    theta[j] = 1 / x.back() + (1 - std::sqrt(grid / (j + 0.5))) / (3 * quartile);
    double k = 0;
    for (double xi : x) k += std::log1p(-theta[j] * xi);
    k /= n;  // the profile maximum of k for this theta (k = -mean log(1 - theta x))
    log_likelihood[j] = n * (std::log(-theta[j] / k) - k - 1);
  }
  // Posterior mean of theta: weights exp(l_j) normalised without overflow.
  double theta_mean = 0, total = 0;
  for (int j = 0; j < grid; ++j) {
    double inverse = 0;
    for (int m = 0; m < grid; ++m) inverse += std::exp(log_likelihood[m] - log_likelihood[j]);
    const double weight = 1 / inverse;
    if (weight < 10 * std::numeric_limits<double>::epsilon()) continue;
    theta_mean += weight * theta[j];
    total += weight;
  }
  theta_mean /= total;
  double k = 0;
  for (double xi : x) k += std::log1p(-theta_mean * xi);
  k /= n;
  const double prior_k = 10;
  return (n * k + prior_k * 0.5) / (n + prior_k);
}

}  // namespace

double pareto_tail_shape(const std::vector<double>& log_values) {
  const size_t n = log_values.size();
  if (n < 10) return std::numeric_limits<double>::quiet_NaN();
  std::vector<double> sorted(log_values);
  std::sort(sorted.begin(), sorted.end());
  const double top = sorted.back();
  const auto tail = static_cast<size_t>(std::ceil(std::min(0.2 * n, 3 * std::sqrt(static_cast<double>(n)))));
  const double threshold = std::max(sorted[n - tail - 1] - top, std::log(std::numeric_limits<double>::min()));
  std::vector<double> exceedances;
  for (size_t i = n - tail; i < n; ++i) {
    if (sorted[i] - top > threshold) exceedances.push_back(std::exp(sorted[i] - top) - std::exp(threshold));
  }
  if (exceedances.size() <= 4) return std::numeric_limits<double>::quiet_NaN();
  return generalized_pareto_shape(exceedances);
}

}  // namespace flowlat
