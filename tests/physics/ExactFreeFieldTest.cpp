// The exact test of the whole chain: for the free field (lambda = 0) log Z,
// chi2 and <S>/V are known in closed form, and a small flow trained,
// sampled and analysed by the real binary must reproduce them within 3
// standard errors, with errors small enough for that to mean something.
//
// Exact values for S = phi^T A phi, A = -Laplacian + m2 (README: action; no
// factor 1/2 in the kinetic term), i.e. e^{-S} = exp(-phi^T (2A) phi / 2):
//   Z = (2 pi)^{V/2} det(2A)^{-1/2}, so with A's eigenvalues
//   phat^2 + m2, phat^2 = sum_mu (2 - 2 cos p_mu), p_mu = 2 pi n / L_mu,
//   log Z = (V/2) log(pi) - (1/2) sum_p log(phat^2 + m2);
//   chi2 = <M^2>/V = 1/(2 A)_{p=0} = 1/(2 m2);
//   <S> = V/2 (equipartition of a quadratic form), so <S>/V = 1/2.
// (Checked against a dense determinant on 4x4 and a quadrature on 2 sites.)
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <vector>

#include "analysis/FreeFieldLogZ.hpp"
#include "physics/PhysicsTestSupport.hpp"

namespace flowlat {
namespace {

constexpr double kPi = 3.14159265358979323846;

TEST(ExactFreeField, ClosedFormLogZ) {
  // analysis/FreeFieldLogZ, the reference of every free-field test and of flowlat ti.
  // 1 site per axis of extent 2 in 1D: phat^2 in {0, 4}; by hand:
  // log Z = log(pi) - (log(m2) + log(4 + m2)) / 2.
  EXPECT_NEAR(free_field_log_z({2}, 0.7), std::log(kPi) - 0.5 * (std::log(0.7) + std::log(4.7)), 1e-14);
  // The dense determinant of 2A on 4x4, m2 = 1 (numpy slogdet): -2.858131814622059.
  EXPECT_NEAR(free_field_log_z({4, 4}, 1.0), -2.858131814622059, 1e-12);
}

void expect_within(const testing::ValueError& e, double exact, double max_error, const char* what) {
  std::printf("[ info     ] %-28s %.5f +- %.5f, exact %.5f (%.2f sigma)\n", what, e.value, e.error, exact,
              (e.value - exact) / e.error);
  EXPECT_GT(e.error, 0.0) << what;
  EXPECT_LT(e.error, max_error) << what;
  EXPECT_NEAR(e.value, exact, 3.0 * e.error) << what;
}

// A free-field (lambda = 0) input in `dir` with the given sections; returns its path.
std::string free_field_input(const std::string& dir, const std::string& shape, const std::string& m2,
                             const std::string& flow, const std::string& train, const std::string& precision,
                             const std::string& sample) {
  const std::string config = dir + "/free.yaml";
  testing::write_text(config, "lattice: {shape: " + shape + "}\n"
                              "action:  {kind: phi4, m2: " + m2 + ", lambda: 0.0}\n"
                              "flow:    " + flow + "\n"
                              "train:   " + train + "\n"
                              "run:     {output_dir: " + dir + "/run, device: cpu, precision: " + precision +
                              ", threads_per_rank: 1}\n"
                              "sample:  " + sample + "\n");
  return config;
}

// Train (1 rank), sample (2 ranks), analyze: 4x4, m2 = 1, a 4-layer flow.
TEST(ExactFreeField, TrainedFlowReproducesLogZChi2AndAction) {
  const double m2 = 1.0;
  const std::string dir = testing::scratch_directory("exact_free_field");
  const std::string config = free_field_input(
      dir, "[4, 4]", "1.0", "{n_layers: 4, hidden_channels: [8], kernel_size: 3, final_tanh: true}",
      "{steps: 400, batch_size: 64, lr: 3.0e-3, seed: 11, log_every: 100}", "float32",
      "{n_configs: 16384, batch_size: 1024, seed: 12}");
  testing::run_flowlat_ok("train " + config);
  testing::run_flowlat_ok("sample " + config, 2);
  if (HasFailure()) return;
  const nlohmann::json analysis = testing::analyze_json(dir + "/run/ensemble.h5");
  const double ess = analysis.at("ess").get<double>();
  std::printf("[ info     ] ESS %.3f over N = %lld\n", ess, analysis.at("n").get<long long>());
  EXPECT_GT(ess, 0.3);  // a trained flow; an untrained one has ESS ~ 0.01 here

  const double log_z = free_field_log_z({4, 4}, m2);
  // Bounds ~3x what a run gives (chi2 +- 0.011, log Z +- 0.006, <S>/V +- 0.0023):
  // tight enough that agreement within 3 sigma is a real check.
  expect_within(testing::estimate(analysis, "log_z", "reweighted"), log_z, 0.02, "log Z (reweighted)");
  expect_within(testing::estimate(analysis, "chi2", "reweighted"), 1.0 / (2.0 * m2), 0.025, "chi2 (reweighted)");
  expect_within(testing::estimate(analysis, "chi2", "chain"), 1.0 / (2.0 * m2), 0.04, "chi2 (chain)");
  expect_within(testing::estimate(analysis, "action_density", "reweighted"), 0.5, 0.006, "<S>/V (reweighted)");
  expect_within(testing::estimate(analysis, "action_density", "chain"), 0.5, 0.008, "<S>/V (chain)");
}

// Trains the free-field input `config` (2 ranks) with held-out evaluation,
// expects its best held-out ESS above 0.99, samples 16,384 configurations
// from the best model and returns their analysis (null after a failure).
nlohmann::json trained_to_exactness(const std::string& dir, const std::string& config, const std::string& what) {
  const std::string trained = testing::run_flowlat_ok("train " + config, 2);
  const size_t at = trained.find("best held-out ESS ");
  EXPECT_NE(at, std::string::npos) << trained;
  if (at == std::string::npos) return nullptr;
  const double held_out = std::stod(trained.substr(at + 18));
  std::printf("[ info     ] %s: held-out ESS after training: %.5f\n", what.c_str(), held_out);
  EXPECT_GT(held_out, 0.99) << what;
  testing::run_flowlat_ok("sample " + config + " --model " + dir + "/run/model_best.pt", 2);
  if (::testing::Test::HasFailure()) return nullptr;
  const nlohmann::json analysis = testing::analyze_json(dir + "/run/ensemble.h5");
  EXPECT_GT(analysis.at("ess").get<double>(), 0.99) << what;
  return analysis;
}

// The Fourier layer alone is the exact flow of the free field: started from
// a wrong mass (m^2 = 2 for m2 = 0.5) and trained, its held-out ESS must
// exceed 0.99 and log Z must be the closed form within its (small) error.
TEST(ExactFreeField, TrainedFourierLayerBecomesExact) {
  const double m2 = 0.5;
  const std::string dir = testing::scratch_directory("fourier_free_field");
  const std::string config = free_field_input(
      dir, "[8, 8]", "0.5", "{n_layers: 0, fourier_layer: diagonal, fourier_mass2: 2.0}",
      "{steps: 300, batch_size: 256, lr: 2.0e-2, seed: 5, log_every: 100, lr_schedule: cosine, eval_every: 300, "
      "eval_size: 8192}",
      "float64", "{n_configs: 16384, batch_size: 4096, seed: 6}");
  const nlohmann::json analysis = trained_to_exactness(dir, config, "Fourier layer");
  if (analysis.is_null()) return;
  expect_within(testing::estimate(analysis, "log_z", "reweighted"), free_field_log_z({8, 8}, m2), 0.002,
                "log Z (Fourier layer)");
  expect_within(testing::estimate(analysis, "chi2", "reweighted"), 1.0 / (2.0 * m2), 0.05, "chi2 (Fourier layer)");
}

// The same for the family built for criticality: the symmetric Fourier
// layer from the wrong mass, then the continuous layer with its global
// kernel (which starts as the identity and must stay consistent while both
// train): held-out ESS > 0.99 and log Z the closed form, in d = 1, 2, 3.
TEST(ExactFreeField, ContinuousFlowBecomesExact) {
  const std::vector<std::pair<std::string, std::vector<int64_t>>> shapes{
      {"[16]", {16}}, {"[8, 8]", {8, 8}}, {"[4, 4, 4]", {4, 4, 4}}};
  for (const auto& [text, shape] : shapes) {
    const double m2 = 0.5;
    const std::string dir = testing::scratch_directory("ode_free_field_d" + std::to_string(shape.size()));
    const std::string config = free_field_input(
        dir, text, "0.5",
        "{n_layers: 0, fourier_layer: symmetric, fourier_mass2: 2.0, ode_layer: global, ode_pieces: 4, "
        "ode_frequencies: 4, ode_channels: 4}",
        "{steps: 150, batch_size: 256, lr: 2.0e-2, seed: 5, log_every: 50, lr_schedule: cosine, eval_every: 150, "
        "eval_size: 8192}",
        "float64", "{n_configs: 16384, batch_size: 4096, seed: 6}");
    const nlohmann::json analysis = trained_to_exactness(dir, config, "continuous flow, lattice " + text);
    if (analysis.is_null()) return;
    expect_within(testing::estimate(analysis, "log_z", "reweighted"), free_field_log_z(shape, m2), 0.002,
                  "log Z (continuous flow)");
  }
}

}  // namespace
}  // namespace flowlat
