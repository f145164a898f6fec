// The two reverse-KL gradient estimators estimate the same gradient
// (averaged over many independent batches, within errors), and near
// convergence the path gradient's variance is far below the
// reparameterisation gradient's.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <cstdio>

#include "train/ReverseKl.hpp"

namespace flowlat {
namespace {

FlowArchitecture small_flow(double fourier_mass2) {
  FlowArchitecture a;
  a.lattice_shape = {4, 4};
  a.n_layers = 2;
  a.hidden_channels = {4};
  a.coupling = {CouplingKind::Spline, CouplingKind::Affine};
  a.spline_bins = 4;
  a.spline_bound = 3.0;
  a.fourier_layer = FourierLayerKind::Diagonal;
  a.fourier_mass2 = fourier_mass2;
  return a;
}

// Per-batch gradients (flattened over all parameters) of `batches` batches
// of `size` configurations: [batches, parameters].
torch::Tensor batch_gradients(NormalizingFlow& flow, const Phi4Action& action, GradientEstimator estimator,
                              int64_t batches, int64_t size, uint64_t seed) {
  std::vector<torch::Tensor> rows;
  torch::manual_seed(seed);
  for (int64_t b = 0; b < batches; ++b) {
    flow->zero_grad();
    const torch::Tensor z = torch::randn({size, 4, 4}, torch::kFloat64);
    accumulate_reverse_kl_gradients(flow, action, z, estimator, static_cast<double>(size));
    std::vector<torch::Tensor> pieces;
    for (const auto& p : flow->parameters()) pieces.push_back(p.grad().flatten().clone());
    rows.push_back(torch::cat(pieces));
  }
  return torch::stack(rows);
}

TEST(ReverseKl, PathAndReparameterisationGradientsAgreeOnAverage) {
  torch::manual_seed(4);
  NormalizingFlow flow(small_flow(1.0));
  flow->to(torch::kFloat64);
  const Phi4Action action(-4.0, 8.0);
  const int64_t batches = 400, size = 16;
  // The same batches for both: their difference has a small variance.
  const torch::Tensor reparam = batch_gradients(flow, action, GradientEstimator::Reparam, batches, size, 11);
  const torch::Tensor path = batch_gradients(flow, action, GradientEstimator::Path, batches, size, 11);
  const torch::Tensor difference = reparam - path;
  const torch::Tensor mean = difference.mean(0);
  const torch::Tensor error = difference.std(0) / std::sqrt(static_cast<double>(batches));
  const torch::Tensor z_scores = mean / error;
  const double chi2_per_component = (z_scores * z_scores).mean().item<double>();
  std::printf("[ info     ] %lld components: max |z| %.2f, mean z^2 %.3f (1 expected)\n",
              static_cast<long long>(z_scores.numel()), z_scores.abs().max().item<double>(), chi2_per_component);
  EXPECT_LT(z_scores.abs().max().item<double>(), 5.0);
  EXPECT_GT(chi2_per_component, 0.4);  // the components are correlated: their mean z^2 scatters
  EXPECT_LT(chi2_per_component, 1.6);
  // And the averages are far from zero: the comparison is not trivial.
  const torch::Tensor signal = reparam.mean(0) / (reparam.std(0) / std::sqrt(static_cast<double>(batches)));
  EXPECT_GT(signal.abs().max().item<double>(), 10.0);
}

TEST(ReverseKl, PathGradientVarianceVanishesNearConvergence) {
  // Free field, lambda = 0: the Fourier layer with the free mass is exact;
  // nudge the parameters slightly away from the optimum.
  torch::manual_seed(6);
  const double m2 = 0.8;
  NormalizingFlow flow(small_flow(m2));
  flow->to(torch::kFloat64);
  {
    torch::NoGradGuard no_grad;
    for (auto& p : flow->parameters()) p.mul_(0.02);  // couplings near the identity
    for (auto& item : flow->named_parameters()) {
      if (item.key() == "fourier.log_sigma") item.value().copy_(FourierLayerImpl::free_log_sigma(Lattice({4, 4}), m2) + 0.01);
    }
  }
  const Phi4Action action(m2, 0.0);
  const int64_t batches = 100, size = 16;
  const torch::Tensor reparam = batch_gradients(flow, action, GradientEstimator::Reparam, batches, size, 3);
  const torch::Tensor path = batch_gradients(flow, action, GradientEstimator::Path, batches, size, 3);
  const double reparam_variance = reparam.var(0).sum().item<double>();
  const double path_variance = path.var(0).sum().item<double>();
  std::printf("[ info     ] summed gradient variance near convergence: reparam %.4e, path %.4e (ratio %.1f)\n",
              reparam_variance, path_variance, reparam_variance / path_variance);
  EXPECT_LT(path_variance, 0.05 * reparam_variance);
}

}  // namespace
}  // namespace flowlat
