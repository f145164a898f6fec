#include "ensemble/EnsembleSummary.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "ensemble/EnsembleWriter.hpp"
#include "ensemble/IndependenceMetropolis.hpp"

namespace flowlat {
namespace {

constexpr int64_t kJackknifeBlocks = 100;

// log Z = shift + log(S / N) with jackknife over contiguous blocks. The
// leave-one-out sums are sums of the other blocks (prefix + suffix), not
// S minus the block: when one weight dominates, that difference cancels to
// zero or below and gave log_Z_error = NaN.
void jackknife_log_z(const std::vector<double>& block_sums, const std::vector<int64_t>& block_sizes,
                     double shift, EnsembleSummary& out) {
  const size_t k = block_sums.size();
  std::vector<double> suffix(k + 1, 0.0);
  for (size_t b = k; b-- > 0;) suffix[b] = suffix[b + 1] + block_sums[b];
  int64_t n = 0;
  for (int64_t size : block_sizes) n += size;
  out.log_z = shift + std::log(suffix[0] / static_cast<double>(n));
  if (k < 2) return;
  std::vector<double> leave_one_out(k);
  double mean = 0;
  double prefix = 0;
  for (size_t b = 0; b < k; ++b) {
    leave_one_out[b] = std::log((prefix + suffix[b + 1]) / static_cast<double>(n - block_sizes[b]));
    prefix += block_sums[b];
    mean += leave_one_out[b] / static_cast<double>(k);
  }
  double variance = 0;
  for (double v : leave_one_out) variance += (v - mean) * (v - mean);
  out.log_z_error = std::sqrt(variance * static_cast<double>(k - 1) / static_cast<double>(k));
}

}  // namespace

EnsembleSummary summarize_ensemble(const std::string& path, uint64_t chain_seed, int64_t chunk_rows) {
  EnsembleWriter file = EnsembleWriter::reopen(path, Communicator::self());
  EnsembleSummary out;
  out.n = file.n_written();

  // Pass 1: the largest log w, so that every exp() below is <= 1.
  double shift = -std::numeric_limits<double>::infinity();
  for (int64_t offset = 0; offset < out.n; offset += chunk_rows) {
    for (double v : file.read_log_w(offset, std::min(chunk_rows, out.n - offset))) shift = std::max(shift, v);
  }

  // Pass 2: sums of w and w^2, jackknife blocks, and the chain.
  IndependenceMetropolis chain(chain_seed);
  const int64_t blocks = std::min<int64_t>(kJackknifeBlocks, out.n);
  std::vector<double> block_sums(static_cast<size_t>(blocks), 0.0);
  std::vector<int64_t> block_sizes(static_cast<size_t>(blocks), 0);
  double sum_w = 0, sum_w2 = 0;
  for (int64_t offset = 0; offset < out.n; offset += chunk_rows) {
    const int64_t count = std::min(chunk_rows, out.n - offset);
    const std::vector<double> lw = file.read_log_w(offset, count);
    std::vector<int64_t> states(static_cast<size_t>(count));
    std::vector<uint8_t> flags(static_cast<size_t>(count));
    for (int64_t i = 0; i < count; ++i) {
      const double w = std::exp(lw[i] - shift);
      sum_w += w;
      sum_w2 += w * w;
      const int64_t block = (offset + i) * blocks / out.n;
      block_sums[block] += w;
      ++block_sizes[block];
      const auto step = chain.offer(offset + i, lw[i]);
      states[i] = step.state;
      flags[i] = step.accepted ? 1 : 0;
    }
    file.write_chain(offset, count, states.data(), flags.data());
  }
  out.ess = sum_w * sum_w / (static_cast<double>(out.n) * sum_w2);
  out.accept_rate = out.n > 1 ? static_cast<double>(chain.accepted_count()) / static_cast<double>(out.n - 1) : 0.0;
  jackknife_log_z(block_sums, block_sizes, shift, out);

  file.set_attribute("ess", out.ess);
  file.set_attribute("accept_rate", out.accept_rate);
  file.set_attribute("log_Z", out.log_z);
  file.set_attribute("log_Z_error", out.log_z_error);
  file.set_attribute("mcmc_seed", static_cast<int64_t>(chain_seed));
  file.close();
  return out;
}

}  // namespace flowlat
