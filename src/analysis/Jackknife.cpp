#include "analysis/Jackknife.hpp"

#include <cmath>
#include <cstddef>
#include <stdexcept>
#include <string>

namespace flowlat {
namespace {

void validate(const std::vector<std::vector<double>>& primaries, int n_blocks) {
  if (primaries.empty()) {
    throw std::invalid_argument("jackknife: no primary series given");
  }
  const std::size_t n = primaries[0].size();
  for (std::size_t a = 1; a < primaries.size(); ++a) {
    if (primaries[a].size() != n) {
      throw std::invalid_argument("jackknife: primary series " + std::to_string(a) + " has " +
                                  std::to_string(primaries[a].size()) +
                                  " samples but series 0 has " + std::to_string(n));
    }
  }
  if (n_blocks < 2 || static_cast<std::size_t>(n_blocks) > n) {
    throw std::invalid_argument("jackknife: n_blocks = " + std::to_string(n_blocks) +
                                " is outside the allowed range [2, N = " + std::to_string(n) +
                                "]");
  }
}

// Means [1 + n_blocks][primary]: row 0 over all samples, row 1 + j over all
// samples but block j. The sum without block j is the sum of the blocks
// before it plus those after it, never total - block: when one sample
// dominates (importance weights), that difference cancels to 0 and
// log-type estimators gave NaN errors. Sums are long double.
std::vector<std::vector<double>> leave_one_out_means(
    const std::vector<std::vector<double>>& primaries, std::size_t n_blocks) {
  const std::size_t n = primaries[0].size();
  std::vector<std::vector<double>> means(n_blocks + 1, std::vector<double>(primaries.size()));
  std::vector<long double> block_sum(n_blocks);
  for (std::size_t a = 0; a < primaries.size(); ++a) {
    for (std::size_t j = 0; j < n_blocks; ++j) {
      long double sum = 0;
      for (std::size_t i = j * n / n_blocks; i < (j + 1) * n / n_blocks; ++i) {
        sum += primaries[a][i];
      }
      block_sum[j] = sum;
    }
    std::vector<long double> suffix(n_blocks + 1, 0.0L);
    for (std::size_t j = n_blocks; j-- > 0;) suffix[j] = suffix[j + 1] + block_sum[j];
    means[0][a] = static_cast<double>(suffix[0] / n);
    long double prefix = 0;
    for (std::size_t j = 0; j < n_blocks; ++j) {
      const std::size_t block_size = (j + 1) * n / n_blocks - j * n / n_blocks;
      means[j + 1][a] = static_cast<double>((prefix + suffix[j + 1]) / (n - block_size));
      prefix += block_sum[j];
    }
  }
  return means;
}

}  // namespace

std::vector<JackknifeResult> jackknife_vector(
    const std::vector<std::vector<double>>& primaries, int n_blocks,
    const std::function<std::vector<double>(const std::vector<double>&)>& f) {
  validate(primaries, n_blocks);
  const std::size_t n = static_cast<std::size_t>(n_blocks);
  const std::vector<std::vector<double>> means = leave_one_out_means(primaries, n);
  const std::vector<double> full = f(means[0]);
  // Work with d_j = f_j - value: small numbers, so that n value - (n-1) f_bar
  // does not lose digits to cancellation when n is large.
  std::vector<std::vector<double>> d(n);
  std::vector<double> d_bar(full.size(), 0.0);
  for (std::size_t j = 0; j < n; ++j) {
    d[j] = f(means[j + 1]);
    if (d[j].size() != full.size()) {
      throw std::invalid_argument("jackknife_vector: f returned " + std::to_string(d[j].size()) +
                                  " values for block " + std::to_string(j) + " but " +
                                  std::to_string(full.size()) + " for the full sample");
    }
    for (std::size_t k = 0; k < full.size(); ++k) {
      d[j][k] -= full[k];
      d_bar[k] += d[j][k] / n;
    }
  }
  std::vector<JackknifeResult> results(full.size());
  for (std::size_t k = 0; k < full.size(); ++k) {
    double sum_sq = 0;
    for (std::size_t j = 0; j < n; ++j) sum_sq += (d[j][k] - d_bar[k]) * (d[j][k] - d_bar[k]);
    results[k].value = full[k];
    results[k].error = std::sqrt((n - 1.0) / n * sum_sq);
    results[k].bias_corrected = full[k] - (n - 1.0) * d_bar[k];
    results[k].n_blocks = n_blocks;
  }
  return results;
}

JackknifeResult jackknife(const std::vector<std::vector<double>>& primaries, int n_blocks,
                          const std::function<double(const std::vector<double>&)>& f) {
  return jackknife_vector(primaries, n_blocks, [&f](const std::vector<double>& means) {
    return std::vector<double>{f(means)};
  })[0];
}

}  // namespace flowlat
