// flowlat ti through the real binary: on free fields (lambda = 0) in d = 1,
// 2, 3 the integrated log Z must equal the closed form within 3 of its
// errors (with errors small enough for that to mean something) and the
// two rules must agree within their statistics; a node-by-node run (as
// a SLURM array runs it, 2 ranks) and its combination with --resume must
// give exactly the whole run's numbers, and node files keep the sums of
// phi^2 and phi^4 but no configurations; a fixed trajectory length and an
// existing node file are refused.
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <string>

#include "analysis/FreeFieldLogZ.hpp"
#include "ensemble/EnsembleFormat.hpp"
#include "ensemble/EnsembleReader.hpp"
#include "physics/PhysicsTestSupport.hpp"

namespace flowlat {
namespace {

// A free-field integration input in `dir`: from m2 = 2 to m2 = 0.5.
std::string ti_input(const std::string& dir, const std::string& shape, int nodes) {
  const std::string config = dir + "/ti.yaml";
  testing::write_text(config, "lattice: {shape: " + shape + "}\n"
                              "action:  {kind: phi4, m2: 0.5, lambda: 0.0}\n"
                              "run:     {output_dir: " + dir + "/run, device: cpu, threads_per_rank: 1}\n"
                              "hmc:     {n_trajectories: 400, n_thermalization: 50, step_size: 0.25, n_md_steps: 4, "
                              "step_jitter: 0.2, n_chains: 16, seed: 5}\n"
                              "ti:      {nodes: " + std::to_string(nodes) + ", m2_start: 2.0}\n");
  return config;
}

nlohmann::json read_json(const std::string& path) {
  std::ifstream in(path);
  return nlohmann::json::parse(in);
}

TEST(ThermodynamicIntegration, FreeFieldLogZIsTheClosedFormInOneTwoAndThreeDimensions) {
  for (const auto& [shape, text] : {std::pair<std::vector<int64_t>, std::string>{{16}, "[16]"},
                                    {{4, 4}, "[4, 4]"},
                                    {{2, 4, 2}, "[2, 4, 2]"}}) {
    const std::string dir = testing::scratch_directory("ti_free_" + std::to_string(shape.size()) + "d");
    const std::string config = ti_input(dir, text, 6);
    testing::run_flowlat_ok("ti " + config + " --json " + dir + "/ti.json");
    if (HasFailure()) return;
    const nlohmann::json result = read_json(dir + "/ti.json");
    const double value = result.at("log_z").at("value").get<double>();
    const double error = result.at("log_z").at("error").get<double>();
    const double exact = free_field_log_z(shape, 0.5);
    const nlohmann::json& rules = result.at("quadrature_error_estimate");
    std::printf("[ info     ] d = %zu: log Z %.5f +- %.5f, exact %.5f (%.2f sigma), rules differ by %.2g +- %.2g\n",
                shape.size(), value, error, exact, (value - exact) / error, rules.at("value").get<double>(),
                rules.at("error").get<double>());
    // The start is the closed form of m2 = 2; the path moves log Z by about 0.6 V.
    EXPECT_NEAR(result.at("log_z_start").get<double>(), free_field_log_z(shape, 2.0), 1e-12);
    EXPECT_GT(error, 0.0);
    EXPECT_LT(error, 0.05);
    EXPECT_NEAR(value, exact, 3.0 * error);
    // The integrand is smooth: 6 and 3 nodes agree within their statistics.
    EXPECT_LT(rules.at("value").get<double>(), 3.0 * rules.at("error").get<double>());
    EXPECT_EQ(result.at("nodes").size(), 9u);  // 6 + 3
    EXPECT_GT(result.at("seconds").get<double>(), 0.0);
  }
}

TEST(ThermodynamicIntegration, NodeByNodeAndCombinedEqualsTheWholeRun) {
  const std::string whole = testing::scratch_directory("ti_whole");
  testing::run_flowlat_ok("ti " + ti_input(whole, "[4, 4]", 2) + " --json " + whole + "/ti.json", 2);
  const std::string parts = testing::scratch_directory("ti_parts");
  const std::string config = ti_input(parts, "[4, 4]", 2);
  for (int node = 0; node < 3; ++node) testing::run_flowlat_ok("ti " + config + " --node " + std::to_string(node), 2);
  // Without --resume an existing node file is refused, and nothing changes.
  const std::string refused = testing::run_flowlat("ti " + config).output;
  EXPECT_NE(refused.find("pass --resume"), std::string::npos) << refused;
  testing::run_flowlat_ok("ti " + config + " --resume --json " + parts + "/ti.json");
  if (HasFailure()) return;
  const nlohmann::json a = read_json(whole + "/ti.json"), b = read_json(parts + "/ti.json");
  EXPECT_EQ(a.at("log_z").at("value").get<double>(), b.at("log_z").at("value").get<double>());
  EXPECT_EQ(a.at("log_z").at("error").get<double>(), b.at("log_z").at("error").get<double>());
  EXPECT_EQ(a.at("log_z_half_rule").at("value").get<double>(), b.at("log_z_half_rule").at("value").get<double>());
  // A node file keeps each row's sums of phi^2 and phi^4, which are all <dS/dt> needs, not the configurations
  // (the fine L = 32 integration would have stored about 50 GB of them).
  const EnsembleReader node(parts + "/run/ti/n2_k00.h5");
  EXPECT_FALSE(node.has_configs());
  EXPECT_TRUE(node.has_moment_sums());
  EXPECT_GT(node.read_column(ensemble::kSumPhi2, 0, 1)[0], 0.0);
}

TEST(ThermodynamicIntegration, FixedTrajectoryLengthIsRefused) {
  const std::string dir = testing::scratch_directory("ti_fixed_length");
  const std::string config = ti_input(dir, "[4, 4]", 2);
  const testing::CommandResult r = testing::run_flowlat("ti " + config + " --set hmc.step_jitter=0");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("hmc.step_jitter > 0"), std::string::npos) << r.output;
}

}  // namespace
}  // namespace flowlat
