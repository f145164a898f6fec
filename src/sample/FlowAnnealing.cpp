#include "sample/FlowAnnealing.hpp"

#include <ATen/CPUGeneratorImpl.h>

#include <vector>

namespace flowlat {
namespace {

// A point of the latent space with what a move needs there.
struct LatentPoint {
  torch::Tensor z;     // network dtype
  torch::Tensor x;     // f(z)
  torch::Tensor l;     // float64 [B]: -S(f(z)) - log q(f(z))
  torch::Tensor grad;  // dl/dz, network dtype
};

LatentPoint evaluate(NormalizingFlowImpl& flow, const Phi4Action& action, const torch::Tensor& z) {
  torch::AutoGradMode grad_mode(true);
  const torch::Tensor leaf = z.detach().requires_grad_(true);
  const FlowSample sample = flow.push_forward(leaf);
  const torch::Tensor l = -action(sample.x) - sample.log_q;
  const torch::Tensor grad = torch::autograd::grad({l.sum()}, {leaf})[0];
  return {leaf.detach(), sample.x.detach(), l.detach(), grad.detach()};
}

torch::Tensor squared_norm(const torch::Tensor& v) { return v.to(torch::kFloat64).square().flatten(1).sum(1); }

// -log pi_beta(z) + const, float64 [B].
torch::Tensor potential(const LatentPoint& p, double beta) { return 0.5 * squared_norm(p.z) - beta * p.l; }

// d/dz of the potential.
torch::Tensor force(const LatentPoint& p, double beta) { return p.z - beta * p.grad; }

LatentPoint select(const torch::Tensor& accept, const LatentPoint& trial, const LatentPoint& current) {
  std::vector<int64_t> view(static_cast<size_t>(current.z.dim()), 1);
  view[0] = current.z.size(0);
  const torch::Tensor mask = accept.view(view);
  return {torch::where(mask, trial.z, current.z), torch::where(mask, trial.x, current.x),
          torch::where(accept, trial.l, current.l), torch::where(mask, trial.grad, current.grad)};
}

}  // namespace

AnnealedSample anneal_from_flow(NormalizingFlowImpl& flow, const Phi4Action& action, const torch::Tensor& z,
                                const AnnealingSchedule& schedule, uint64_t key) {
  if (z.size(0) == 0) return {z, torch::zeros({0}, z.options().dtype(torch::kFloat64)), 1.0};
  LatentPoint point = evaluate(flow, action, z);
  torch::Tensor log_w = torch::zeros_like(point.l);
  if (schedule.steps == 0) return {point.x, point.l, 1.0};
  auto generator = at::make_generator<at::CPUGeneratorImpl>(key);
  const auto host = torch::TensorOptions().dtype(torch::kFloat64);
  const double eps = schedule.step_size;
  int64_t accepted = 0;
  for (int64_t k = 1; k <= schedule.steps; ++k) {
    const double beta = static_cast<double>(k) / static_cast<double>(schedule.steps);
    log_w = log_w + point.l / static_cast<double>(schedule.steps);
    const torch::Tensor p0 = torch::randn(z.sizes(), generator, host).to(z.options());
    const torch::Tensor h_start = 0.5 * squared_norm(p0) + potential(point, beta);
    torch::Tensor momenta = p0 - (0.5 * eps) * force(point, beta);
    LatentPoint trial = point;
    for (int64_t s = 1; s <= schedule.md_steps; ++s) {
      trial = evaluate(flow, action, trial.z + eps * momenta);
      momenta = momenta - (s == schedule.md_steps ? 0.5 * eps : eps) * force(trial, beta);
    }
    const torch::Tensor h_end = 0.5 * squared_norm(momenta) + potential(trial, beta);
    const torch::Tensor uniforms = torch::rand({z.size(0)}, generator, host);
    // u < exp(-dH) accepts with probability min(1, exp(-dH)); a NaN rejects.
    const torch::Tensor accept = (uniforms < torch::exp(-(h_end - h_start).to(torch::kCPU))).to(z.device());
    accepted += accept.sum().item<int64_t>();
    point = select(accept, trial, point);
  }
  const double moves = static_cast<double>(schedule.steps * z.size(0));
  return {point.x, log_w, moves > 0 ? static_cast<double>(accepted) / moves : 1.0};
}

double annealing_passes_per_sample(const AnnealingSchedule& schedule, int64_t flow_passes) {
  // One evaluation with its gradient at the start and after every leapfrog step.
  return 2.0 * static_cast<double>(flow_passes) * static_cast<double>(1 + schedule.steps * schedule.md_steps);
}

}  // namespace flowlat
