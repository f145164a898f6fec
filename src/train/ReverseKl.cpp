#include "train/ReverseKl.hpp"

namespace flowlat {
namespace {

// Sets requires_grad off on every parameter for its lifetime: the path
// gradient differentiates log q(x) in x only.
class ParametersFrozen {
 public:
  explicit ParametersFrozen(std::vector<torch::Tensor> parameters) : parameters_(std::move(parameters)) {
    for (auto& p : parameters_) p.requires_grad_(false);
  }
  ~ParametersFrozen() {
    for (auto& p : parameters_) p.requires_grad_(true);
  }
  ParametersFrozen(const ParametersFrozen&) = delete;
  ParametersFrozen& operator=(const ParametersFrozen&) = delete;

 private:
  std::vector<torch::Tensor> parameters_;
};

}  // namespace

ReverseKlBatch accumulate_reverse_kl_gradients(NormalizingFlow& flow, const Phi4Action& action, const torch::Tensor& z,
                                               GradientEstimator estimator, double normalisation) {
  const FlowSample sample = flow->forward(z);
  const torch::Tensor log_p = -action(sample.x);
  const torch::Tensor loss = (sample.log_q - log_p).sum() / normalisation;
  const torch::Tensor log_w = (log_p - sample.log_q).detach();
  if (estimator == GradientEstimator::Reparam) {
    loss.backward();
    return {loss.detach(), log_w};
  }
  const torch::Tensor x = sample.x.detach().requires_grad_(true);
  torch::Tensor g;
  {
    const ParametersFrozen frozen(flow->parameters());
    const torch::Tensor objective = (flow->log_q(x) + action(x)).sum();
    g = torch::autograd::grad({objective}, {x})[0];
  }
  ((sample.x * g).sum() / normalisation).backward();
  return {loss.detach(), log_w};
}

}  // namespace flowlat
