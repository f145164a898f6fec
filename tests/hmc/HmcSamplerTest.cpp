// HMC: the analytic force against autograd, reversibility and the step^2
// scaling of dH for both integrators, <exp(-dH)> = 1, independence of how
// chains are batched, and chi2 = <M^2>/V against the exact free-field value
// and the tutorial's value (m2 = -4, lambda = 8, 8x8: 0.75 +- 0.01).
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <tuple>
#include <cstdio>
#include <vector>

#include "action/Phi4Action.hpp"
#include "analysis/GammaMethod.hpp"
#include "config/Config.hpp"
#include "config/ConfigError.hpp"
#include "hmc/HmcSampler.hpp"
#include "hmc/HmcTuning.hpp"
#include "hmc/Integrator.hpp"
#include "ensemble/EnsembleFormat.hpp"
#include "ensemble/EnsembleReader.hpp"
#include "support/TestSupport.hpp"

namespace flowlat {
namespace {

using Integrator = HmcParameters::Integrator;

std::vector<int64_t> batch_shape(int64_t batch, const std::vector<int64_t>& shape) {
  std::vector<int64_t> out{batch};
  out.insert(out.end(), shape.begin(), shape.end());
  return out;
}

HmcParameters parameters(Integrator integrator, double step_size, int64_t n_steps, int64_t chains, uint64_t seed) {
  HmcParameters p;
  p.integrator = integrator;
  p.step_size = step_size;
  p.n_steps = n_steps;
  p.n_chains_per_rank = chains;
  p.seed = seed;
  p.n_thermalization = 0;
  return p;
}

// Equilibrium fields of the tutorial's theory on 8x8, for the MD tests.
torch::Tensor tutorial_fields(int64_t chains) {
  HmcSampler sampler(Phi4Action(-4.0, 8.0), Lattice({8, 8}), parameters(Integrator::Omelyan, 0.1, 10, chains, 99), 0);
  for (int t = 0; t < 100; ++t) sampler.trajectory();
  return sampler.fields().clone();
}

// The tuning's step sizes: the smallest whole number of steps whose step is
// at most the wanted one. From one step of 0.94 (beyond the stability of a
// stiff node) a wish for 0.7 of it must give two steps: rounding to the
// nearest gave one again, and the tuning stayed at acceptance ~0.
TEST(HmcTuning, StepsNeverLongerThanWanted) {
  EXPECT_EQ(md_steps_for(0.94, 0.7 * 0.94), 2);
  EXPECT_EQ(md_steps_for(0.94, 0.99 * 0.94), 2);
  EXPECT_EQ(md_steps_for(0.94, 0.94), 1);  // an exact multiple stays
  EXPECT_EQ(md_steps_for(1.0, 0.1), 10);
  EXPECT_EQ(md_steps_for(1.0, 0.3), 4);
  EXPECT_EQ(md_steps_for(0.5, 2.0), 1);
  for (double length : {0.3, 1.0, 7.7}) {
    for (double step : {0.01, 0.07, 0.2, 0.5}) {
      const int64_t n = md_steps_for(length, step);
      EXPECT_LE(length / static_cast<double>(n), step * (1 + 1e-9)) << length << " " << step;
      if (n > 1) {
        EXPECT_GT(length / static_cast<double>(n - 1), step) << length << " " << step;
      }
    }
  }
}

TEST(HmcForce, EqualsAutogradGradientOfTheAction) {
  torch::manual_seed(11);
  for (const std::vector<int64_t>& shape : {std::vector<int64_t>{6}, {4, 6}, {2, 4, 4}, {2, 2}}) {
    for (const auto& [m2, lambda] : {std::pair{-4.0, 8.0}, std::pair{1.3, 0.0}, std::pair{0.5, 0.2}}) {
      const Phi4Action action(m2, lambda);
      const torch::Tensor phi = torch::randn(batch_shape(3, shape), torch::kFloat64).requires_grad_(true);
      const torch::Tensor gradient = torch::autograd::grad({action(phi).sum()}, {phi})[0];
      const torch::Tensor force = phi4_force(action, phi.detach());
      EXPECT_EQ(force.sizes(), phi.sizes());
      const double scale = gradient.abs().max().item<double>();
      EXPECT_LT((force - gradient).abs().max().item<double>(), 1e-13 * scale)
          << shape.size() << "d, m2 " << m2 << ", lambda " << lambda;
    }
  }
}

TEST(HmcIntegrator, ForwardFlipForwardReturnsToTheStart) {
  const Phi4Action action(-4.0, 8.0);
  const ForceFunction force = [&](const torch::Tensor& x) { return phi4_force(action, x); };
  const torch::Tensor phi0 = tutorial_fields(8);
  torch::manual_seed(5);
  const torch::Tensor p0 = torch::randn(phi0.sizes(), torch::kFloat64);
  for (Integrator integrator : {Integrator::Leapfrog, Integrator::Omelyan}) {
    torch::Tensor phi = phi0.clone(), p = p0.clone();
    integrate(integrator, force, phi, p, 0.1, 10);
    const double moved = (phi - phi0).abs().max().item<double>();
    EXPECT_GT(moved, 0.1) << to_string(integrator);  // the trajectory went somewhere
    p.neg_();
    integrate(integrator, force, phi, p, 0.1, 10);
    EXPECT_LT((phi - phi0).abs().max().item<double>(), 1e-12) << to_string(integrator);
    EXPECT_LT((p + p0).abs().max().item<double>(), 1e-12) << to_string(integrator);
  }
}

// At fixed trajectory length, dH = eps^2 C(phi, p) + O(eps^4) for each
// start, so halving the step divides <|dH|> by 4.
TEST(HmcIntegrator, EnergyErrorScalesAsStepSquared) {
  const Phi4Action action(-4.0, 8.0);
  const ForceFunction force = [&](const torch::Tensor& x) { return phi4_force(action, x); };
  const torch::Tensor phi0 = tutorial_fields(64);
  torch::manual_seed(6);
  const torch::Tensor p0 = torch::randn(phi0.sizes(), torch::kFloat64);
  const torch::Tensor h0 = kinetic_energy(p0) + action(phi0);
  auto mean_abs_dh = [&](Integrator integrator, double step, int64_t n_steps) {
    torch::Tensor phi = phi0.clone(), p = p0.clone();
    integrate(integrator, force, phi, p, step, n_steps);
    return (kinetic_energy(p) + action(phi) - h0).abs().mean().item<double>();
  };
  std::vector<double> at_coarse_step;
  for (Integrator integrator : {Integrator::Leapfrog, Integrator::Omelyan}) {
    const double coarse = mean_abs_dh(integrator, 0.05, 20);
    const double fine = mean_abs_dh(integrator, 0.025, 40);
    const double finer = mean_abs_dh(integrator, 0.0125, 80);
    std::printf("[ info     ] %s <|dH|>: step 0.05 %.3e, 0.025 %.3e, 0.0125 %.3e; ratios %.3f %.3f\n",
                to_string(integrator), coarse, fine, finer, coarse / fine, fine / finer);
    EXPECT_NEAR(coarse / fine, 4.0, 0.4) << to_string(integrator);
    EXPECT_NEAR(fine / finer, 4.0, 0.2) << to_string(integrator);
    at_coarse_step.push_back(coarse);
  }
  // Omelyan's minimum-norm split has a much smaller error coefficient.
  EXPECT_LT(at_coarse_step[1], 0.5 * at_coarse_step[0]);
}

// Mean over chains at each trajectory: one series whose autocorrelation the
// Gamma method accounts for.
std::vector<double> chain_means(const std::vector<torch::Tensor>& per_trajectory) {
  std::vector<double> series;
  series.reserve(per_trajectory.size());
  for (const torch::Tensor& values : per_trajectory) series.push_back(values.mean().item<double>());
  return series;
}

TEST(HmcSampler, ExpMinusDeltaHAveragesToOne) {
  HmcParameters p = parameters(Integrator::Leapfrog, 0.1, 8, 64, 21);
  p.n_thermalization = 50;
  HmcSampler sampler(Phi4Action(-4.0, 8.0), Lattice({8, 8}), p, 0);
  sampler.thermalize();
  std::vector<torch::Tensor> exp_minus_dh;
  int64_t accepted = 0;
  const int64_t n = 300;
  for (int64_t t = 0; t < n; ++t) {
    const TrajectoryResult result = sampler.trajectory();
    exp_minus_dh.push_back(torch::exp(-result.delta_h));
    accepted += result.accepted.sum().item<int64_t>();
  }
  const double acceptance = static_cast<double>(accepted) / static_cast<double>(n * p.n_chains_per_rank);
  const GammaMethodResult mean = gamma_method(chain_means(exp_minus_dh));
  std::printf("[ info     ] leapfrog 0.1 x 8 on 8x8: acceptance %.3f, <exp(-dH)> = %.4f +- %.4f (tau_int %.2f)\n",
              acceptance, mean.value, mean.error, mean.tau_int);
  // dH is far from negligible here, so the identity is a real check.
  EXPECT_LT(acceptance, 0.95);
  EXPECT_GT(acceptance, 0.3);
  EXPECT_LT(mean.error, 0.03);
  EXPECT_NEAR(mean.value, 1.0, 3.0 * mean.error);
}

// A chain's history depends on its global index only: chains 0..3 in one
// batch equal chains 0..1 and 2..3 in two (as on two ranks).
TEST(HmcSampler, ChainsDoNotDependOnBatching) {
  const Phi4Action action(-4.0, 8.0);
  const Lattice lattice({4, 6});
  HmcSampler together(action, lattice, parameters(Integrator::Omelyan, 0.2, 5, 4, 3), 0);
  HmcSampler first(action, lattice, parameters(Integrator::Omelyan, 0.2, 5, 2, 3), 0);
  HmcSampler second(action, lattice, parameters(Integrator::Omelyan, 0.2, 5, 2, 3), 2);
  int64_t rejected = 0;
  for (int t = 0; t < 20; ++t) {
    const TrajectoryResult all = together.trajectory();
    const TrajectoryResult a = first.trajectory();
    const TrajectoryResult b = second.trajectory();
    EXPECT_TRUE(torch::equal(all.accepted, torch::cat({a.accepted, b.accepted}))) << t;
    EXPECT_TRUE(torch::equal(all.delta_h, torch::cat({a.delta_h, b.delta_h}))) << t;
    rejected += (~all.accepted).sum().item<int64_t>();
  }
  EXPECT_TRUE(torch::equal(together.fields(), torch::cat({first.fields(), second.fields()})));
  EXPECT_GT(rejected, 0);  // both branches of the Metropolis step were taken
  // Another seed gives other chains.
  HmcSampler other(action, lattice, parameters(Integrator::Omelyan, 0.2, 5, 4, 4), 0);
  EXPECT_FALSE(torch::equal(other.fields(), HmcSampler(action, lattice, parameters(Integrator::Omelyan, 0.2, 5, 4, 3), 0).fields()));
}

struct Chi2Estimate {
  GammaMethodResult chi2;
  double acceptance;
  double seconds;
};

// chi2 = <M^2>/V, M = sum_x phi(x), over every chain and measured trajectory.
Chi2Estimate measure_chi2(const Phi4Action& action, const Lattice& lattice, const HmcParameters& p) {
  const auto start = std::chrono::steady_clock::now();
  HmcSampler sampler(action, lattice, p, 0);
  sampler.thermalize();
  std::vector<torch::Tensor> chi2;
  int64_t accepted = 0;
  for (int64_t t = 0; t < p.n_trajectories; ++t) {
    accepted += sampler.trajectory().accepted.sum().item<int64_t>();
    const torch::Tensor m = sampler.fields().flatten(1).sum(1);
    chi2.push_back(m * m / static_cast<double>(lattice.volume()));
  }
  Chi2Estimate out;
  out.chi2 = gamma_method(chain_means(chi2));
  out.acceptance = static_cast<double>(accepted) / static_cast<double>(p.n_trajectories * p.n_chains_per_rank);
  out.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return out;
}

// Free field, lambda = 0: chi2 = 1/(2 m2) exactly (README). The leapfrog run
// takes large steps (acceptance ~0.7): without a correct Metropolis step it
// would sample its shadow Hamiltonian, whose zero mode has the variance
// 1/(2 m2 (1 - eps^2 omega^2 / 4)), omega^2 = 2 m2: chi2 = 0.524, 6 errors off.
TEST(HmcSampler, FreeFieldChi2IsExact) {
  const double m2 = 1.0;
  // Trajectories 0.7 and 0.6 long: no mode (omega = sqrt(2 K), K = 1..9) near omega tau = pi.
  for (const auto& [integrator, step, n_steps, n_trajectories] :
       {std::tuple{Integrator::Omelyan, 0.1, 7, 1000}, std::tuple{Integrator::Leapfrog, 0.3, 2, 2000}}) {
    HmcParameters p = parameters(integrator, step, n_steps, 64, 31);
    p.n_thermalization = 20;
    p.n_trajectories = n_trajectories;
    const Chi2Estimate e = measure_chi2(Phi4Action(m2, 0.0), Lattice({4, 4}), p);
    std::printf("[ info     ] free 4x4, m2 = 1, %s %g x %d: chi2 = %.4f +- %.4f (exact 0.5), tau_int %.2f, "
                "acceptance %.3f, %.1f s\n",
                to_string(integrator), step, n_steps, e.chi2.value, e.chi2.error, e.chi2.tau_int, e.acceptance,
                e.seconds);
    EXPECT_LT(e.chi2.error, 0.005);
    EXPECT_NEAR(e.chi2.value, 1.0 / (2.0 * m2), 3.0 * e.chi2.error) << to_string(integrator);
  }
}

// A trajectory exactly one period of the free field's zero mode (omega =
// sqrt(2 m2)) brings M back to where it started, trajectory after
// trajectory: the chains keep the tiny M of their N(0, 0.1^2) start and
// chi2 comes out near 0 instead of 1/(2 m2) (the other modes' periods are
// incommensurate and mix). hmc.step_jitter varies the length and repairs it.
TEST(HmcSampler, StepJitterMakesAPeriodicTrajectoryErgodic) {
  const double m2 = 1.0, period = 2 * 3.14159265358979323846 / std::sqrt(2 * m2);
  HmcParameters p = parameters(Integrator::Omelyan, period / 50, 50, 64, 37);
  p.n_thermalization = 20;
  p.n_trajectories = 400;
  const Chi2Estimate fixed = measure_chi2(Phi4Action(m2, 0.0), Lattice({4, 4}), p);
  p.step_jitter = 0.2;
  const Chi2Estimate jittered = measure_chi2(Phi4Action(m2, 0.0), Lattice({4, 4}), p);
  std::printf("[ info     ] free 4x4, trajectory = zero-mode period: chi2 = %.4f +- %.4f fixed, %.4f +- %.4f with "
              "step_jitter 0.2 (exact 0.5)\n",
              fixed.chi2.value, fixed.chi2.error, jittered.chi2.value, jittered.chi2.error);
  EXPECT_LT(fixed.chi2.value, 0.05);
  EXPECT_LT(jittered.chi2.error, 0.02);
  EXPECT_NEAR(jittered.chi2.value, 1.0 / (2.0 * m2), 3.0 * jittered.chi2.error);
  // The draws depend on the trajectory only, within [1 - j, 1 + j].
  const HmcSampler sampler(Phi4Action(m2, 0.0), Lattice({4, 4}), p, 0);
  for (int64_t draw = 1; draw < 50; ++draw) {
    EXPECT_GE(sampler.step_size_of(draw), 0.8 * p.step_size);
    EXPECT_LE(sampler.step_size_of(draw), 1.2 * p.step_size);
    EXPECT_EQ(sampler.step_size_of(draw), HmcSampler(Phi4Action(m2, 0.0), Lattice({4, 4}), p, 5).step_size_of(draw));
  }
  EXPECT_NE(sampler.step_size_of(1), sampler.step_size_of(2));
}

// The tutorial (arXiv:2101.08176): m2 = -4, lambda = 8 on 8x8, chi2 = 0.75 +- 0.01.
TEST(HmcSampler, TutorialChi2) {
  HmcParameters p = parameters(Integrator::Omelyan, 0.1, 10, 128, 41);
  p.n_thermalization = 100;
  p.n_trajectories = 500;
  const Chi2Estimate e = measure_chi2(Phi4Action(-4.0, 8.0), Lattice({8, 8}), p);
  std::printf("[ info     ] tutorial 8x8: chi2 = %.4f +- %.4f (tutorial 0.75 +- 0.01), tau_int %.2f, acceptance %.3f, %.1f s\n",
              e.chi2.value, e.chi2.error, e.chi2.tau_int, e.acceptance, e.seconds);
  EXPECT_LT(e.chi2.error, 0.015);
  EXPECT_NEAR(e.chi2.value, 0.75, 3.0 * std::hypot(e.chi2.error, 0.01));
}

TEST(HmcParameters, FromConfigCopiesTheHmcSection) {
  const Config config = parse_config(
      "lattice: {shape: [4, 4]}\naction: {kind: phi4, m2: 1.0, lambda: 0.0}\n"
      "hmc: {n_trajectories: 7, n_thermalization: 3, step_size: 0.25, n_md_steps: 5, integrator: leapfrog, "
      "n_chains: 2, seed: 99}\n",
      "inline.yaml", {"hmc.n_md_steps=6"});
  const HmcParameters p = from_config(config.hmc);
  EXPECT_EQ(p.n_trajectories, 7);
  EXPECT_EQ(p.n_thermalization, 3);
  EXPECT_EQ(p.step_size, 0.25);
  EXPECT_EQ(p.n_steps, 6);
  EXPECT_EQ(p.integrator, Integrator::Leapfrog);
  EXPECT_EQ(p.n_chains_per_rank, 2);
  EXPECT_EQ(p.seed, 99u);
  // The section's defaults are the struct's.
  const HmcParameters defaults = from_config(HmcConfig{});
  const HmcParameters plain;
  EXPECT_EQ(defaults.n_trajectories, plain.n_trajectories);
  EXPECT_EQ(defaults.n_thermalization, plain.n_thermalization);
  EXPECT_EQ(defaults.step_size, plain.step_size);
  EXPECT_EQ(defaults.n_steps, plain.n_steps);
  EXPECT_EQ(defaults.integrator, plain.integrator);
  EXPECT_EQ(defaults.n_chains_per_rank, plain.n_chains_per_rank);
  EXPECT_EQ(defaults.seed, plain.seed);
}

TEST(HmcParameters, OutOfRangeValuesAreInputErrorsNamingTheKey) {
  HmcParameters p;
  EXPECT_NO_THROW(validate(p));
  auto message = [](HmcParameters q) {
    try {
      validate(q);
    } catch (const ConfigError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  HmcParameters q = p;
  q.step_size = 0;
  EXPECT_EQ(message(q), "hmc.step_size: must be finite and > 0 (got 0.000000)");
  q = p;
  q.n_steps = 0;
  EXPECT_NE(message(q).find("hmc.n_md_steps: must be >= 1"), std::string::npos);
  q = p;
  q.n_chains_per_rank = 0;
  EXPECT_NE(message(q).find("hmc.n_chains"), std::string::npos);
  q = p;
  q.n_thermalization = -1;
  EXPECT_NE(message(q).find("hmc.n_thermalization"), std::string::npos);
  EXPECT_THROW(HmcSampler(Phi4Action(1, 0), Lattice({4}), q, 0), ConfigError);
}

// Two files of 4 chains x 30 trajectories on 4x6 at m2 = -4, lambda = 8 that
// must be equal; each must be a valid HMC ensemble.
void check_hmc_ensembles(const std::string& path_a, const std::string& path_b) {
  const int64_t n = 4 * 30;
  const EnsembleReader a(path_a), b(path_b);
  for (const EnsembleReader* r : {&a, &b}) {
    ASSERT_EQ(r->n_written(), n);
    EXPECT_EQ(r->source(), "hmc");
    EXPECT_EQ(r->attribute_int64("n_chains"), 4);
    EXPECT_EQ(r->attribute_int64("chain_length"), 30);
    EXPECT_EQ(r->attribute_string(ensemble::kChainLayout), "interleaved");
    EXPECT_TRUE(r->has_chain());
  }
  const std::vector<double> configs = a.read_configs(0, n);
  EXPECT_EQ(configs, b.read_configs(0, n));
  const std::vector<uint8_t> accepted = a.read_chain_accepted(0, n);
  EXPECT_EQ(accepted, b.read_chain_accepted(0, n));
  EXPECT_EQ(a.read_column(ensemble::kLogP, 0, n), b.read_column(ensemble::kLogP, 0, n));

  const torch::Tensor phi = torch::tensor(configs, torch::kFloat64).view({n, 4, 6});
  const torch::Tensor minus_s = -Phi4Action(-4.0, 8.0)(phi);
  const torch::Tensor log_p = torch::tensor(a.read_column(ensemble::kLogP, 0, n), torch::kFloat64);
  EXPECT_LT((log_p - minus_s).abs().max().item<double>(), 1e-12 * minus_s.abs().max().item<double>());
  EXPECT_EQ(a.read_column(ensemble::kLogQ, 0, n), a.read_column(ensemble::kLogP, 0, n));
  for (double w : a.read_column(ensemble::kLogW, 0, n)) ASSERT_EQ(w, 0.0);
  const std::vector<int64_t> state = a.read_chain_state(0, n);
  int64_t n_accepted = 0, rejections_checked = 0;
  for (int64_t i = 0; i < n; ++i) {
    EXPECT_EQ(state[i], i);
    n_accepted += accepted[i];
    if (i < 4) continue;  // rows are interleaved, s * n_chains + c: a chain's previous row is 4 back
    const bool same = torch::equal(phi[i], phi[i - 4]);
    EXPECT_EQ(same, accepted[i] == 0) << "row " << i;
    rejections_checked += accepted[i] == 0;
  }
  EXPECT_GT(rejections_checked, 0);
  EXPECT_DOUBLE_EQ(a.attribute_double("accept_rate"), static_cast<double>(n_accepted) / static_cast<double>(n));
}

// The real binary, parameters from the YAML's hmc: section and --set:
// `flowlat hmc` on 2 ranks x 2 chains and on 1 rank x 4
// chains writes the same ensemble (chain c's trajectory s is row s * 4 + c either
// way, interleaved: row s * 4 + c), in the ensemble format: log_w = 0, log_p = -S(configs), the chain
// holding its field on a rejection, /mcmc/state the row index.
TEST(HmcCommand, WritesTheSameEnsembleOnAnyNumberOfRanks) {
  namespace fs = std::filesystem;
  using testing::run_flowlat;
  const std::string dir = testing::scratch_directory("hmc_command");
  // The hmc: section of the file, partly overridden with --set like any key.
  testing::write_text(dir + "/tiny.yaml", testing::tiny_config_yaml(dir + "/run", "[4, 6]") +
                                              "hmc: {n_thermalization: 10, n_md_steps: 4, step_size: 0.15, "
                                              "integrator: leapfrog, seed: 5, n_trajectories: 1000, output: chains.h5}\n");
  const std::string common = "hmc " + dir + "/tiny.yaml";
  const std::string thirty = common + " --set hmc.n_trajectories=30";
  const testing::CommandResult two = run_flowlat(thirty + " --set hmc.n_chains=2", 2);
  ASSERT_EQ(two.exit_code, 0) << two.output;
  EXPECT_NE(two.output.find("leapfrog, step 0.15 x 4"), std::string::npos) << two.output;
  EXPECT_NE(two.output.find("hmc: acceptance"), std::string::npos) << two.output;
  // The observables table with tau_int per observable.
  EXPECT_NE(two.output.find("tau_int"), std::string::npos) << two.output;
  EXPECT_NE(two.output.find("chi2 = <M^2>/V"), std::string::npos) << two.output;
  const testing::CommandResult one = run_flowlat(thirty + " --set hmc.n_chains=4 --output " + dir + "/one.h5");
  ASSERT_EQ(one.exit_code, 0) << one.output;

  // Checked with the readers closed again: HDF5 would share a file still
  // open in this process with the rewrite below and show its old contents.
  check_hmc_ensembles(dir + "/run/chains.h5", dir + "/one.h5");  // default: <run.output_dir>/<hmc.output>

  // Never overwritten without --force.
  const auto written = fs::last_write_time(dir + "/one.h5");
  const testing::CommandResult again = run_flowlat(thirty + " --set hmc.n_chains=4 --output " + dir + "/one.h5");
  EXPECT_EQ(again.exit_code, 2) << again.output;
  EXPECT_NE(again.output.find("exists; pass --force"), std::string::npos) << again.output;
  EXPECT_EQ(fs::last_write_time(dir + "/one.h5"), written);
  const testing::CommandResult forced =
      run_flowlat(common + " --set hmc.n_chains=4 --force --set hmc.n_trajectories=5 --output " + dir + "/one.h5");
  EXPECT_EQ(forced.exit_code, 0) << forced.output;
  EXPECT_EQ(EnsembleReader(dir + "/one.h5").n_written(), 20);
}

TEST(HmcCommand, BadParametersAreInputErrors) {
  const std::string dir = testing::scratch_directory("hmc_bad");
  testing::write_text(dir + "/tiny.yaml", testing::tiny_config_yaml(dir + "/run") + "hmc: {step_size: -1}\n");
  const testing::CommandResult step = testing::run_flowlat("hmc " + dir + "/tiny.yaml", 2);
  EXPECT_EQ(step.exit_code, 2);
  EXPECT_NE(step.output.find("tiny.yaml:6"), std::string::npos) << step.output;
  EXPECT_NE(step.output.find("hmc.step_size"), std::string::npos) << step.output;
  const testing::CommandResult integrator =
      testing::run_flowlat("hmc " + dir + "/tiny.yaml --set hmc.step_size=0.1 --set hmc.integrator=verlet");
  EXPECT_EQ(integrator.exit_code, 2);
  EXPECT_NE(integrator.output.find("--set hmc.integrator"), std::string::npos) << integrator.output;
  EXPECT_NE(integrator.output.find("must be leapfrog or omelyan (got 'verlet')"), std::string::npos)
      << integrator.output;
  // The per-parameter options are gone: the YAML is the one place.
  const testing::CommandResult old_option = testing::run_flowlat("hmc " + dir + "/tiny.yaml --step-size 0.1");
  EXPECT_EQ(old_option.exit_code, 2) << old_option.output;
  EXPECT_FALSE(std::filesystem::exists(dir + "/run/hmc.h5"));
}

}  // namespace
}  // namespace flowlat
