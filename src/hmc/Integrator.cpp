#include "hmc/Integrator.hpp"

namespace flowlat {
namespace {

void leapfrog(const ForceFunction& force, torch::Tensor& phi, torch::Tensor& momenta, double eps, int64_t n_steps) {
  momenta.sub_(force(phi), 0.5 * eps);
  for (int64_t step = 0; step < n_steps; ++step) {
    phi.add_(momenta, eps);
    momenta.sub_(force(phi), step + 1 == n_steps ? 0.5 * eps : eps);
  }
}

void omelyan(const ForceFunction& force, torch::Tensor& phi, torch::Tensor& momenta, double eps, int64_t n_steps) {
  const double lambda = kOmelyanLambda;
  momenta.sub_(force(phi), lambda * eps);
  for (int64_t step = 0; step < n_steps; ++step) {
    phi.add_(momenta, 0.5 * eps);
    momenta.sub_(force(phi), (1.0 - 2.0 * lambda) * eps);
    phi.add_(momenta, 0.5 * eps);
    momenta.sub_(force(phi), step + 1 == n_steps ? lambda * eps : 2.0 * lambda * eps);
  }
}

}  // namespace

void integrate(HmcParameters::Integrator integrator, const ForceFunction& force, torch::Tensor& phi,
               torch::Tensor& momenta, double step_size, int64_t n_steps) {
  TORCH_CHECK(phi.sizes() == momenta.sizes(), "integrate: phi and momenta differ in shape");
  TORCH_CHECK(n_steps >= 1, "integrate: n_steps must be >= 1");
  switch (integrator) {
    case HmcParameters::Integrator::Leapfrog:
      leapfrog(force, phi, momenta, step_size, n_steps);
      return;
    case HmcParameters::Integrator::Omelyan:
      omelyan(force, phi, momenta, step_size, n_steps);
      return;
  }
}

int64_t force_evaluations(HmcParameters::Integrator integrator, int64_t n_steps) {
  return integrator == HmcParameters::Integrator::Leapfrog ? n_steps + 1 : 2 * n_steps + 1;
}

}  // namespace flowlat
