#pragma once
// Gradients of the reverse Kullback-Leibler divergence KL(q || p) of a flow,
// from one batch of prior draws z (README: the loss is mean(log q - log p)).
//   Reparam: the gradient of sum(log q(x) - log p(x)) / B through x = f(z)
//            and through log q's dependence on the parameters.
//   Path:    (Vaitl et al. 2022) only through the sample: with
//            g = d/dx [log q(x) - log p(x)] at fixed parameters, the
//            gradient of sum(x . g) / B. Both are unbiased; the path
//            gradient drops the score term (zero in expectation), so its
//            variance vanishes as q -> p. It costs a reverse pass more.
#include <torch/torch.h>

#include "action/Phi4Action.hpp"
#include "config/Config.hpp"
#include "flow/NormalizingFlow.hpp"

namespace flowlat {

struct ReverseKlBatch {
  torch::Tensor loss;   // sum(log q - log p) / normalisation, a detached scalar
  torch::Tensor log_w;  // log p - log q per configuration, float64, detached
};

// Adds the gradient of this batch's share of the loss, sum over the batch
// divided by `normalisation` (the global batch size), to the parameters'
// .grad. Local.
ReverseKlBatch accumulate_reverse_kl_gradients(NormalizingFlow& flow, const Phi4Action& action, const torch::Tensor& z,
                                               GradientEstimator estimator, double normalisation);

}  // namespace flowlat
