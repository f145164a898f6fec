// log Z of an interacting theory (4x4, m2 = -0.5, lambda = 1) by the three
// methods, through the real binary: the flow's importance weights, the
// same flow annealed to exp(-S) (sample.anneal_steps, Jarzynski weights) and
// HMC with thermodynamic integration from the free field. Each pair must
// agree within 3 combined errors; annealing must raise the flow's ESS. The
// bracket <log w>_q <= log Z <= <log p - log q>_p of `analyze --versus HMC
// --model` holds the exact log Z of free fields and TI's of the interacting case.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <string>

#include "analysis/FreeFieldLogZ.hpp"
#include "physics/PhysicsTestSupport.hpp"

namespace flowlat {
namespace {

nlohmann::json read_json(const std::string& path) {
  std::ifstream in(path);
  return nlohmann::json::parse(in);
}

// The bracket of `flowlat analyze FLOW --versus HMC --model MODEL --json`:
// lower bound, log Z and upper bound must be ordered within 3 combined
// errors, and `value` (the exact or an independent log Z) inside.
void expect_bracket(const std::string& dir, double value, double value_error) {
  testing::run_flowlat_ok("analyze " + dir + "/run/ensemble.h5 --versus " + dir + "/run/hmc.h5 --model " + dir +
                          "/run/model.pt --json " + dir + "/bracket.json");
  if (::testing::Test::HasFailure()) return;
  std::ifstream in(dir + "/bracket.json");
  const nlohmann::json bracket = nlohmann::json::parse(in).at("log_z_bracket");
  const double lower = bracket.at("lower").at("value").get<double>(), lower_error = bracket.at("lower").at("error").get<double>();
  const double upper = bracket.at("upper").at("value").get<double>(), upper_error = bracket.at("upper").at("error").get<double>();
  std::printf("[ info     ] bracket: %.5f +- %.5f <= %.5f +- %.5f <= %.5f +- %.5f\n", lower, lower_error, value,
              value_error, upper, upper_error);
  EXPECT_GT(lower_error, 0.0);
  EXPECT_GT(upper_error, 0.0);
  EXPECT_LT(lower, value + 3.0 * std::hypot(lower_error, value_error));
  EXPECT_GT(upper, value - 3.0 * std::hypot(upper_error, value_error));
  // A flow of a few steps is far from exact: both gaps are visible.
  EXPECT_GT(upper - lower, 0.05);
  EXPECT_TRUE(bracket.at("log_z_inside").get<bool>());
}

TEST(FreeEnergyMethods, BoundsBracketTheExactFreeFieldLogZ) {
  const std::string dir = testing::scratch_directory("free_energy_bracket");
  const std::string config = dir + "/free.yaml";
  testing::write_text(
      config,
      "lattice: {shape: [4, 4]}\n"
      "action:  {kind: phi4, m2: 0.5, lambda: 0.0}\n"
      "flow:    {n_layers: 2, hidden_channels: [8], kernel_size: 3, final_tanh: true}\n"
      "train:   {steps: 150, batch_size: 64, lr: 3.0e-3, seed: 31, log_every: 100}\n"
      "run:     {output_dir: " + dir + "/run, device: cpu, precision: float64, threads_per_rank: 1}\n"
      "sample:  {n_configs: 16384, batch_size: 1024, seed: 32}\n"
      "hmc:     {n_trajectories: 1000, n_thermalization: 50, step_size: 0.25, n_md_steps: 4, step_jitter: 0.2, "
      "n_chains: 16, seed: 33}\n");
  testing::run_flowlat_ok("train " + config);
  testing::run_flowlat_ok("sample " + config);
  testing::run_flowlat_ok("hmc " + config, 2);
  if (HasFailure()) return;
  expect_bracket(dir, free_field_log_z({4, 4}, 0.5), 0.0);
  // Another model than the ensemble's is refused, naming both files.
  testing::run_flowlat_ok("train " + config + " --set train.steps=5 --set run.output_dir=" + dir + "/other");
  const testing::CommandResult wrong = testing::run_flowlat("analyze " + dir + "/run/ensemble.h5 --versus " + dir +
                                                            "/run/hmc.h5 --model " + dir + "/other/model.pt");
  EXPECT_NE(wrong.exit_code, 0);
  EXPECT_NE(wrong.output.find("is not the model " + dir + "/run/ensemble.h5 was sampled from"), std::string::npos)
      << wrong.output;
}

struct Method {
  const char* name;
  double value, error;
};

TEST(FreeEnergyMethods, FlowAnnealedFlowAndThermodynamicIntegrationAgree) {
  const std::string dir = testing::scratch_directory("free_energy_methods");
  const std::string config = dir + "/phi4.yaml";
  testing::write_text(
      config,
      "lattice: {shape: [4, 4]}\n"
      "action:  {kind: phi4, m2: -0.5, lambda: 1.0}\n"
      "flow:    {n_layers: 2, hidden_channels: [8], kernel_size: 3, final_tanh: true}\n"
      "train:   {steps: 300, batch_size: 64, lr: 3.0e-3, seed: 21, log_every: 100}\n"
      "run:     {output_dir: " + dir + "/run, device: cpu, precision: float64, threads_per_rank: 1}\n"
      "sample:  {n_configs: 16384, batch_size: 1024, seed: 22, anneal_md_steps: 3, anneal_step_size: 0.3}\n"
      "hmc:     {n_trajectories: 1600, n_thermalization: 50, step_size: 0.25, n_md_steps: 4, step_jitter: 0.2, "
      "n_chains: 16, seed: 5}\n"
      "ti:      {nodes: 6, m2_start: 2.0}\n");
  testing::run_flowlat_ok("train " + config);
  testing::run_flowlat_ok("sample " + config + " --json " + dir + "/flow.json");
  testing::run_flowlat_ok("sample " + config + " --set sample.anneal_steps=20 --output " + dir +
                              "/run/annealed.h5 --json " + dir + "/annealed.json",
                          2);
  testing::run_flowlat_ok("ti " + config + " --json " + dir + "/ti.json", 2);
  testing::run_flowlat_ok("hmc " + config, 2);
  if (HasFailure()) return;
  const nlohmann::json flow = read_json(dir + "/flow.json"), annealed = read_json(dir + "/annealed.json"),
                       ti = read_json(dir + "/ti.json");
  const Method methods[] = {
      {"flow", flow.at("log_z").get<double>(), flow.at("log_z_error").get<double>()},
      {"annealed flow", annealed.at("log_z").get<double>(), annealed.at("log_z_error").get<double>()},
      {"HMC + TI", ti.at("log_z").at("value").get<double>(), ti.at("log_z").at("error").get<double>()}};
  for (const Method& m : methods) {
    std::printf("[ info     ] %-14s log Z %.5f +- %.5f\n", m.name, m.value, m.error);
    EXPECT_GT(m.error, 0.0) << m.name;
    EXPECT_LT(m.error, 0.03) << m.name;
  }
  for (size_t i = 0; i < 3; ++i) {
    for (size_t j = i + 1; j < 3; ++j) {
      const double sigma = std::hypot(methods[i].error, methods[j].error);
      EXPECT_LT(std::abs(methods[i].value - methods[j].value), 3.0 * sigma)
          << methods[i].name << " vs " << methods[j].name;
    }
  }
  const double ess = flow.at("ess").get<double>(), annealed_ess = annealed.at("ess").get<double>();
  std::printf("[ info     ] ESS: flow %.3f, annealed %.3f (acceptance %.3f)\n", ess, annealed_ess,
              annealed.at("anneal_acceptance").get<double>());
  EXPECT_GT(annealed_ess, 2.0 * ess);
  EXPECT_LT(annealed.at("log_z_error").get<double>(), flow.at("log_z_error").get<double>());
  expect_bracket(dir, methods[2].value, methods[2].error);
}

}  // namespace
}  // namespace flowlat
