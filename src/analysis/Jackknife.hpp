#pragma once
// Blocked jackknife for derived quantities of Monte Carlo data, e.g. the
// self-normalised reweighting ratio sum(w O) / sum(w) or a Binder cumulant.
// Input: primary series [primary][sample], all of length N; f maps the vector
// of primary means to the derived quantity. The N samples are cut into
// n_blocks contiguous blocks; block b is [b N / n, (b+1) N / n), so the
// N mod n_blocks remainder is spread (sizes differ by at most one) and every
// sample enters the full-sample value. Blocks must be longer than the
// autocorrelation time for the error to be honest on Markov-chain data.
#include <functional>
#include <vector>

namespace flowlat {

struct JackknifeResult {
  double value = 0;           // f of the full-sample means
  double error = 0;           // sqrt((n-1)/n sum_j (f_j - f_bar)^2)
  double bias_corrected = 0;  // n value - (n-1) f_bar: removes the O(1/N) bias
  int n_blocks = 0;
};

// Jackknife of one derived quantity f(means). Throws std::invalid_argument
// for no primaries, unequal lengths, or n_blocks outside [2, N]. Local.
JackknifeResult jackknife(const std::vector<std::vector<double>>& primaries, int n_blocks,
                          const std::function<double(const std::vector<double>&)>& f);

// Jackknife of several derived quantities at once (e.g. C(t) for all t): one
// result per component of f(means), which must have the same length for the
// full sample and every block (else std::invalid_argument). Local.
std::vector<JackknifeResult> jackknife_vector(
    const std::vector<std::vector<double>>& primaries, int n_blocks,
    const std::function<std::vector<double>(const std::vector<double>&)>& f);

}  // namespace flowlat
