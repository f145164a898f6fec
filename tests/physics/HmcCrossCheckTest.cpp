// Cross-check of the flow against the project's own HMC at the tutorial's
// couplings (m2 = -4, lambda = 8) on 4x4: the flow's reweighted chi2 and
// <|M|>/V must agree with HMC's within 3 combined standard errors. Both
// observables are even in phi, so the check holds even where a flow
// under-samples one of the two minima (their weights are the same).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <string>

#include "physics/PhysicsTestSupport.hpp"

namespace flowlat {
namespace {

void expect_agree(const testing::ValueError& flow, const testing::ValueError& hmc, const char* what) {
  const double sigma = std::hypot(flow.error, hmc.error);
  std::printf("[ info     ] %-10s flow %.4f +- %.4f, HMC %.4f +- %.4f: %.2f combined sigma\n", what, flow.value,
              flow.error, hmc.value, hmc.error, (flow.value - hmc.value) / sigma);
  EXPECT_GT(flow.error, 0.0) << what;
  EXPECT_GT(hmc.error, 0.0) << what;
  EXPECT_LT(std::abs(flow.value - hmc.value), 3.0 * sigma) << what;
}

TEST(HmcCrossCheck, FlowAgreesWithHmcAtTheTutorialCouplings) {
  const std::string dir = testing::scratch_directory("hmc_cross_check");
  const std::string config = dir + "/phi4.yaml";
  testing::write_text(
      config,
      "lattice: {shape: [4, 4]}\n"
      "action:  {kind: phi4, m2: -4.0, lambda: 8.0}\n"
      "flow:    {n_layers: 8, hidden_channels: [8, 8], kernel_size: 3, final_tanh: true}\n"
      "train:   {steps: 600, batch_size: 64, lr: 3.0e-3, seed: 21, log_every: 100}\n"
      "run:     {output_dir: " + dir + "/run, device: cpu, precision: float32, threads_per_rank: 1}\n"
      "sample:  {n_configs: 16384, batch_size: 1024, seed: 22}\n"
      "hmc:     {n_trajectories: 1000, n_thermalization: 100, step_size: 0.1, n_md_steps: 10, n_chains: 8, "
      "seed: 23}\n");
  testing::run_flowlat_ok("train " + config);
  testing::run_flowlat_ok("sample " + config);
  const std::string hmc_output = testing::run_flowlat_ok("hmc " + config, 2);  // 2 ranks x 8 chains
  if (HasFailure()) return;
  const nlohmann::json flow = testing::analyze_json(dir + "/run/ensemble.h5");
  const nlohmann::json hmc = testing::analyze_json(dir + "/run/hmc.h5");
  EXPECT_EQ(hmc.at("source"), "hmc");
  EXPECT_EQ(hmc.at("n").get<int64_t>(), 16 * 1000);
  const double acceptance = hmc.at("accept_rate").get<double>();
  std::printf("[ info     ] flow ESS %.3f; HMC acceptance %.3f\n", flow.at("ess").get<double>(), acceptance);
  EXPECT_GT(acceptance, 0.6);

  for (const char* key : {"chi2", "abs_magnetization"}) {
    const testing::ValueError f = testing::estimate(flow, key, "reweighted");
    // HMC: the trajectory sequence with the Gamma method's autocorrelation-aware error.
    const testing::ValueError h = testing::estimate(hmc, key, "chain");
    expect_agree(f, h, key);
    // Not absurdly large: a few percent (flow chi2 +- 0.04 of 0.70 here, HMC +- 0.008).
    EXPECT_LT(f.error, 0.10 * std::abs(h.value)) << key;
    EXPECT_LT(h.error, 0.02 * std::abs(h.value)) << key;
  }
}

}  // namespace
}  // namespace flowlat
