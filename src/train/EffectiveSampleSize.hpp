#pragma once
// Effective sample size of importance weights w = p/q, from log w, in
// float64 via logsumexp so that no weight over- or underflows:
//   ESS = (sum w)^2 / (N sum w^2)  in (0, 1]   (README: conventions)
#include <torch/torch.h>

#include "parallel/Communicator.hpp"

namespace flowlat {

// ESS of this tensor of log weights. Local.
double effective_sample_size(const torch::Tensor& log_w);

// Shifted sums of the weights held by all ranks; combine ranks by adding.
struct WeightSums {
  double shift = 0;    // common max of log w over all ranks
  double sum_w = 0;    // sum exp(log w - shift)
  double sum_w2 = 0;   // sum exp(2 (log w - shift))
  double count = 0;
  double ess() const { return sum_w * sum_w / (count * sum_w2); }
  // log (1/N sum w): the standard estimate of log Z for normalised q.
  double log_mean_w() const;
};

// Sums over every rank's log weights: one MAX and one SUM allreduce.
// `extra` doubles are summed along in the same call. Collective.
WeightSums global_weight_sums(const torch::Tensor& log_w, const Communicator& comm,
                              std::vector<double>* extra = nullptr);

}  // namespace flowlat
