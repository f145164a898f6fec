// Sampling a distribution whose ESS is known exactly: free field on 2x2
// (m2 = 2, lambda = 0) proposed by a flow that is exactly q = N(0, sigma^2)
// per site. ESS_inf = prod_k sqrt(2 a_k - 1/sigma^2) / (a_k sigma) with
// a_k = 2 (lap_k + m2) the eigenvalues of the action's quadratic form:
// lap_k in {0, 4, 4, 8} -> a = {4, 12, 12, 20}; sigma = 1/2 gives 1/3.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

#include "action/Phi4Action.hpp"
#include "config/Config.hpp"
#include "flow/NormalizingFlow.hpp"
#include "ensemble/EnsembleFormat.hpp"
#include "ensemble/EnsembleReader.hpp"
#include "sample/SampleJob.hpp"
#include "support/TestSupport.hpp"
#include "train/EffectiveSampleSize.hpp"

namespace flowlat {
namespace {

constexpr double kSigma = 0.5;

// Every conv weight zero; the last conv's bias makes s = log(sigma), t = 0,
// so each coupling scales its active sites by sigma: phi = sigma z overall.
void make_scaling_flow(NormalizingFlow& flow) {
  torch::NoGradGuard no_grad;
  for (auto& p : flow->parameters()) p.zero_();
  for (auto& item : flow->named_parameters()) {
    if (item.key().find("net.2.bias") != std::string::npos) item.value()[0] = std::atanh(std::log(kSigma));
  }
}

// Exact acceptance of the independence sampler, E_{x~p, y~q} min(1, w(y)/w(x)),
// by a large independent Monte Carlo with exact draws from p (Cholesky).
double reference_acceptance(const Config& config) {
  torch::manual_seed(99);
  const int64_t n = 1 << 21;
  const Phi4Action action(config.action.m2, config.action.lambda);
  torch::Tensor quadratic = torch::zeros({4, 4}, torch::kFloat64);  // S = phi^T K phi, K = A/2
  for (int64_t i = 0; i < 4; ++i) {
    for (int64_t j = 0; j < 4; ++j) {
      torch::Tensor e = torch::zeros({1, 2, 2}, torch::kFloat64);
      e.view({-1})[i] += 1;
      e.view({-1})[j] += 1;
      quadratic[i][j] = action(e).item<double>();
    }
  }
  // S(2 e_i) = 4 K_ii and S(e_i + e_j) = K_ii + K_jj + 2 K_ij (i != j).
  torch::Tensor k = torch::zeros({4, 4}, torch::kFloat64);
  for (int64_t i = 0; i < 4; ++i) k[i][i] = quadratic[i][i] / 4.0;
  for (int64_t i = 0; i < 4; ++i)
    for (int64_t j = 0; j < 4; ++j)
      if (i != j) k[i][j] = (quadratic[i][j] - k[i][i] - k[j][j]) / 2.0;
  const torch::Tensor covariance = torch::linalg_inv(2.0 * k);
  const torch::Tensor x = torch::randn({n, 4}, torch::kFloat64).matmul(torch::linalg_cholesky(covariance).t());
  const torch::Tensor y = kSigma * torch::randn({n, 4}, torch::kFloat64);
  auto log_w = [&](const torch::Tensor& phi) {
    return -action(phi.view({-1, 2, 2})) + 0.5 * (phi * phi).sum(1) / (kSigma * kSigma);
  };
  return torch::clamp_max((log_w(y) - log_w(x)).exp(), 1.0).mean().item<double>();
}

TEST(KnownDistribution, EssAndAcceptanceMatchExactValues) {
  const std::string dir = testing::scratch_directory("known_distribution");
  const Config config = parse_config(
      "lattice: {shape: [2, 2]}\n"
      "action: {kind: phi4, m2: 2.0, lambda: 0.0}\n"
      "flow: {n_layers: 2, hidden_channels: [2], kernel_size: 3, final_tanh: true}\n"
      "run: {output_dir: " + dir + ", device: cpu, precision: float64}\n"
      "sample: {n_configs: 60000, batch_size: 4096, seed: 5, mcmc_seed: 6}\n",
      "known.yaml");
  NormalizingFlow flow(FlowArchitecture::from_config(config));
  make_scaling_flow(flow);
  flow->save_to(dir + "/model.pt");
  run_sampling(config, Communicator::self(), SampleOptions{});

  const EnsembleReader reader(dir + "/ensemble.h5");
  const int64_t n = reader.n_written();
  ASSERT_EQ(n, 60000);
  const std::vector<double> log_w = reader.read_column(ensemble::kLogW, 0, n);
  // Jackknife error of the ESS over 50 blocks.
  const int blocks = 50;
  std::vector<double> leave_out;
  for (int b = 0; b < blocks; ++b) {
    std::vector<double> rest;
    for (int64_t i = 0; i < n; ++i)
      if (i * blocks / n != b) rest.push_back(log_w[i]);
    leave_out.push_back(effective_sample_size(torch::tensor(rest, torch::kFloat64)));
  }
  double mean = 0, var = 0;
  for (double v : leave_out) mean += v / blocks;
  for (double v : leave_out) var += (v - mean) * (v - mean);
  const double ess_error = std::sqrt(var * (blocks - 1) / blocks);
  const double ess = reader.attribute_double("ess");
  EXPECT_NEAR(ess, 1.0 / 3.0, 4 * ess_error) << "ESS " << ess << " +- " << ess_error;
  EXPECT_LT(ess_error, 0.02);

  // Acceptance: binned error of the accepted flags (blocks of 600 steps).
  const std::vector<uint8_t> accepted = reader.read_chain_accepted(0, n);
  std::vector<double> block_rates(100, 0.0);
  for (int64_t i = 1; i < n; ++i) block_rates[static_cast<size_t>(i * 100 / n)] += accepted[i] / (n / 100.0);
  double rate = 0, rate_var = 0;
  for (double r : block_rates) rate += r / 100;
  for (double r : block_rates) rate_var += (r - rate) * (r - rate) / (99.0 * 100.0);
  const double expected = reference_acceptance(config);
  EXPECT_NEAR(reader.attribute_double("accept_rate"), rate, 1e-3);
  EXPECT_NEAR(rate, expected, 4 * std::sqrt(rate_var) + 2e-3) << "acceptance " << rate << " vs " << expected;
}

}  // namespace
}  // namespace flowlat
