#pragma once
// Held-out evaluation during training (train.eval_every): the ESS and the
// independence-Metropolis acceptance of train.eval_size fresh
// configurations, drawn from their own keyed streams (train.seed,
// Evaluation, step, index) and split over the ranks like a training batch,
// without gradients. A training batch's ESS flatters: this is the number
// that predicts an ensemble's.
#include <torch/torch.h>

#include "action/Phi4Action.hpp"
#include "config/Config.hpp"
#include "flow/NormalizingFlow.hpp"
#include "parallel/Communicator.hpp"

namespace flowlat {

struct HeldOutResult {
  double ess = 0;         // (sum w)^2 / (N sum w^2) over all ranks' draws
  double acceptance = 0;  // of the chain over the draws in index order
};

// Evaluates `flow` after step `step`. Every rank returns the same result.
// Collective.
HeldOutResult evaluate_held_out(NormalizingFlow& flow, const Phi4Action& action, const TrainConfig& train,
                                int64_t step, const torch::TensorOptions& options, const Communicator& comm);

}  // namespace flowlat
