#pragma once
// Second pass over a finished ensemble file (rank 0, serial): runs the
// independence-Metropolis chain, writes /mcmc, and stores ESS, acceptance
// and log Z with its jackknife error as root attributes. Streams log w in
// chunks, so memory does not grow with the ensemble.
#include <cstdint>
#include <string>

namespace flowlat {

struct EnsembleSummary {
  int64_t n = 0;
  double ess = 0;          // (sum w)^2 / (N sum w^2)
  double accept_rate = 0;  // accepted / (N - 1)
  double log_z = 0;        // logsumexp(log w) - log N
  double log_z_error = 0;  // blocked jackknife
};

// Computes the chain and summary for rows [0, n_written) and writes them
// into the file. Local (call on one rank with the file closed elsewhere).
EnsembleSummary summarize_ensemble(const std::string& path, uint64_t chain_seed, int64_t chunk_rows = 1 << 16);

}  // namespace flowlat
