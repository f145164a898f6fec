// EnsembleAnalysis on synthetic ensemble files written here in the
// documented format: exact expectations of Gaussian fields, reweighting from
// one Gaussian to another, an independence-Metropolis chain built from the
// same weights, log Z against a direct jackknife, files without /configs,
// HMC files, bad input, and the report (JSON, /analysis group).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "analysis/AnalysisReport.hpp"
#include "analysis/EnsembleAnalysis.hpp"
#include "analysis/WeightTail.hpp"
#include "config/ConfigError.hpp"
#include "io/H5Dataset.hpp"
#include "io/H5File.hpp"
#include "ensemble/EnsembleFormat.hpp"
#include "support/TestSupport.hpp"

namespace flowlat {
namespace {

constexpr double kPi = 3.14159265358979323846;

struct SyntheticEnsemble {
  std::vector<int64_t> shape{4, 4};
  std::vector<double> configs;  // [N, V]
  std::vector<double> log_q, log_p;
  std::vector<int64_t> state;  // empty: no /mcmc
  std::string source = "flow";
  bool store_configs = true;
  int64_t n_chains = 0;  // 0: no attribute
  std::optional<Phi4Couplings> couplings;  // the m2, lambda attributes (none: not written)

  int64_t n() const { return static_cast<int64_t>(log_p.size()); }
  int64_t volume() const { return configs.size() / std::max<int64_t>(1, n()); }
};

void write_column(const H5File& file, const std::string& path, const std::vector<double>& values) {
  const int64_t n = values.size();
  H5Dataset::create(file, path, ElementType::Float64, {n}, RowCapacity::Fixed).write_rows(0, n, values.data());
}

void write_ensemble(const std::string& path, const SyntheticEnsemble& e) {
  const int64_t n = e.n();
  H5File file(path, FileMode::Truncate);
  {
    const H5Attributes root = file.attributes();
    root.write_string("format", ensemble::kFormat);
    root.write_int64("format_version", ensemble::kFormatVersion);
    root.write_int64(ensemble::kNWritten, n);
    root.write_int64(ensemble::kNTotal, n);
    root.write_int64_vector("lattice_shape", e.shape);
    root.write_string(ensemble::kSource, e.source);
    if (e.n_chains > 0) root.write_int64("n_chains", e.n_chains);
    if (e.couplings) {
      root.write_string("action", "phi4");
      root.write_double("m2", e.couplings->m2);
      root.write_double("lambda", e.couplings->lambda);
    }
    if (e.store_configs) {
      std::vector<int64_t> shape{n};
      shape.insert(shape.end(), e.shape.begin(), e.shape.end());
      H5Dataset::create(file, ensemble::kConfigs, ElementType::Float64, shape, RowCapacity::Fixed, 1000)
          .write_rows(0, n, e.configs.data());
    }
    std::vector<double> log_w(n);
    for (int64_t i = 0; i < n; ++i) log_w[i] = e.log_p[i] - e.log_q[i];
    write_column(file, ensemble::kLogQ, e.log_q);
    write_column(file, ensemble::kLogP, e.log_p);
    write_column(file, ensemble::kLogW, log_w);
    if (!e.state.empty()) {
      std::vector<uint8_t> accepted(n);
      int64_t n_accepted = 0;
      for (int64_t i = 0; i < n; ++i) n_accepted += accepted[i] = e.state[i] == i;
      H5Dataset::create(file, ensemble::kChainState, ElementType::Int64, {n}, RowCapacity::Fixed)
          .write_rows(0, n, e.state.data());
      H5Dataset::create(file, ensemble::kChainAccepted, ElementType::UInt8, {n}, RowCapacity::Fixed)
          .write_rows(0, n, accepted.data());
      root.write_double("accept_rate", static_cast<double>(n_accepted) / n);
    }
  }
  file.close();
}

// Sum over sites of log N(phi; 0, sigma^2).
double log_normal(const double* phi, int64_t v, double sigma) {
  double sum = 0;
  for (int64_t x = 0; x < v; ++x) sum += -0.5 * phi[x] * phi[x] / (sigma * sigma);
  return sum - v * (std::log(sigma) + 0.5 * std::log(2 * kPi));
}

// N configurations of i.i.d. N(0, sigma_q^2) sites; log_q exact, log_p the
// normalised N(0, sigma_p^2) density (so Z = 1); chain = identity.
SyntheticEnsemble gaussian_ensemble(int64_t n, double sigma_q, double sigma_p, uint64_t seed) {
  SyntheticEnsemble e;
  const int64_t v = 16;
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> normal(0.0, sigma_q);
  e.configs.resize(n * v);
  for (double& phi : e.configs) phi = normal(rng);
  for (int64_t i = 0; i < n; ++i) {
    e.log_q.push_back(log_normal(&e.configs[i * v], v, sigma_q));
    e.log_p.push_back(log_normal(&e.configs[i * v], v, sigma_p));
    e.state.push_back(i);
  }
  return e;
}

// The independence-Metropolis chain of the proposals with log weights log_w.
std::vector<int64_t> metropolis_chain(const SyntheticEnsemble& e, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> uniform(0.0, 1.0);
  std::vector<int64_t> state{0};
  for (int64_t i = 1; i < e.n(); ++i) {
    const int64_t held = state.back();
    const double log_ratio = (e.log_p[i] - e.log_q[i]) - (e.log_p[held] - e.log_q[held]);
    state.push_back(std::log(uniform(rng)) < log_ratio ? i : held);
  }
  return state;
}

std::string ensemble_file(const std::string& name, const SyntheticEnsemble& e) {
  const std::string path = flowlat::testing::scratch_directory("analysis_" + name) + "/ensemble.h5";
  write_ensemble(path, e);
  return path;
}

#define EXPECT_WITHIN_ERRORS(estimate, expected, k) \
  EXPECT_NEAR((estimate).value, (expected), (k) * (estimate).error) << "error " << (estimate).error

TEST(EnsembleAnalysis, IidGaussianFieldMatchesExactValues) {
  const SyntheticEnsemble e = gaussian_ensemble(4000, 1.0, 1.0, 11);
  const std::string path = ensemble_file("iid", e);
  EnsembleAnalysisOptions options;
  options.chunk_rows = 333;  // chunks that do not divide N
  const EnsembleAnalysis a = analyze_ensemble(path, options);
  EXPECT_EQ(a.n, 4000);
  EXPECT_EQ(a.n_blocks, 100);
  EXPECT_TRUE(a.has_configs && a.has_chain);
  EXPECT_DOUBLE_EQ(a.ess, 1.0);
  EXPECT_EQ(a.ess_origin, "computed");
  ASSERT_TRUE(a.accept_rate.has_value());

  const ObservableEstimate& chi2 = a.scalar("chi2").estimate;
  std::printf("iid: chi2 reweighted %.5f +- %.5f, chain %.5f +- %.5f, tau_int %.3f +- %.3f\n",
              chi2.reweighted.value, chi2.reweighted.error, chi2.chain.value, chi2.chain.error,
              chi2.chain.tau_int, chi2.chain.tau_int_error);
  EXPECT_WITHIN_ERRORS(chi2.reweighted, 1.0, 3);
  EXPECT_WITHIN_ERRORS(chi2.chain, 1.0, 3);
  EXPECT_NEAR(chi2.chain.value, chi2.reweighted.value, 1e-12);  // w = 1, identity chain
  EXPECT_NEAR(chi2.chain.error / chi2.reweighted.error, 1.0, 0.35);
  EXPECT_NEAR(chi2.chain.tau_int, 0.5, 3 * chi2.chain.tau_int_error);
  EXPECT_WITHIN_ERRORS(a.scalar("abs_magnetization").estimate.reweighted, std::sqrt(2 / (kPi * 16)), 3);
  EXPECT_WITHIN_ERRORS(a.scalar("binder_u4").estimate.chain, 0.0, 3);
  EXPECT_WITHIN_ERRORS(a.scalar("action_density").estimate.reweighted, 0.5 + 0.5 * std::log(2 * kPi), 3);
  EXPECT_WITHIN_ERRORS(a.scalar("energy").estimate.chain, 0.0, 3);
  EXPECT_DOUBLE_EQ(a.scalar("log_z").estimate.reweighted.value, 0.0);  // log_w = 0
  EXPECT_TRUE(std::isnan(a.scalar("log_z").estimate.chain.value));
  // C(t) = delta_{t,0} for unit-variance i.i.d. sites.
  ASSERT_EQ(a.correlator.size(), 4u);
  ASSERT_EQ(a.effective_mass.size(), 2u);
  for (int t = 0; t < 4; ++t) {
    EXPECT_WITHIN_ERRORS(a.correlator[t].reweighted, t == 0 ? 1.0 : 0.0, 4);
    EXPECT_WITHIN_ERRORS(a.correlator[t].chain, t == 0 ? 1.0 : 0.0, 4);
  }
  // Chunking does not change anything.
  const EnsembleAnalysis b = analyze_ensemble(path);
  EXPECT_EQ(b.scalar("chi2").estimate.chain.value, chi2.chain.value);
  EXPECT_EQ(b.correlator[1].reweighted.error, a.correlator[1].reweighted.error);
}

TEST(EnsembleAnalysis, ReweightingRecoversTheTargetVariance) {
  const double sigma_q = 1.0, sigma_p = 0.9;
  const SyntheticEnsemble e = gaussian_ensemble(8000, sigma_q, sigma_p, 12);
  const EnsembleAnalysis a = analyze_ensemble(ensemble_file("reweight", e));
  const ObservableEstimate& chi2 = a.scalar("chi2").estimate;
  std::printf("reweighting: chi2 reweighted %.5f +- %.5f (exact %.2f), plain %.5f +- %.5f, ESS %.3f\n",
              chi2.reweighted.value, chi2.reweighted.error, sigma_p * sigma_p, chi2.chain.value,
              chi2.chain.error, a.ess);
  EXPECT_WITHIN_ERRORS(chi2.reweighted, sigma_p * sigma_p, 3);
  // The identity "chain" is the plain, unweighted average: sigma_q^2.
  EXPECT_WITHIN_ERRORS(chi2.chain, sigma_q * sigma_q, 3);
  EXPECT_GT(std::abs(chi2.reweighted.value - sigma_q * sigma_q), 5 * chi2.reweighted.error);
  EXPECT_WITHIN_ERRORS(a.correlator[0].reweighted, sigma_p * sigma_p, 3);
  EXPECT_WITHIN_ERRORS(a.scalar("log_z").estimate.reweighted, 0.0, 3);  // log_p normalised
  EXPECT_GT(a.ess, 0.5);
  EXPECT_LT(a.ess, 0.95);
}

// A proposal narrower than the target (weights' tail shape 1 - 1/9 per
// site) is flagged, the estimates that rest on it named; one wider than the
// target (bounded weights) is not.
TEST(EnsembleAnalysis, SaysWhenTheWeightsTailIsTooHeavyToTrust) {
  const EnsembleAnalysis narrow = analyze_ensemble(ensemble_file("tail_narrow", gaussian_ensemble(20000, 1.0, 3.0, 11)));
  EXPECT_GT(narrow.weight_tail_shape, kUntrustedTailShape);
  EXPECT_GT(narrow.scalar("chi2").estimate.reweighted.tail_shape, kUntrustedTailShape);
  EXPECT_EQ(narrow.scalar("log_z").estimate.reweighted.tail_shape, narrow.weight_tail_shape);
  std::string notes;
  for (const std::string& note : narrow.notes) notes += note + "\n";
  EXPECT_NE(notes.find("the weights' tail is heavy (Pareto k = "), std::string::npos) << notes;
  EXPECT_NE(notes.find("chi2 (k = "), std::string::npos) << notes;
  EXPECT_NE(notes.find("ESS x N = "), std::string::npos) << notes;

  const EnsembleAnalysis wide = analyze_ensemble(ensemble_file("tail_wide", gaussian_ensemble(20000, 1.2, 1.0, 12)));
  EXPECT_LT(wide.weight_tail_shape, 0.5);
  EXPECT_LT(wide.scalar("chi2").estimate.reweighted.tail_shape, 0.5);
  for (const std::string& note : wide.notes) {
    EXPECT_EQ(note.find("Pareto k"), std::string::npos) << note;
    EXPECT_EQ(note.find("ESS x N"), std::string::npos) << note;
  }
}

// <log w>_q = log Z - KL(q || p): for Gaussians of widths 1.2 (q) and 1
// (p, normalised: log Z = 0) over 16 sites, -16 [log(1/1.2) + 1.44/2 - 1/2].
TEST(EnsembleAnalysis, LowerBoundOfLogZIsMinusTheKlDivergence) {
  const EnsembleAnalysis a = analyze_ensemble(ensemble_file("elbo", gaussian_ensemble(20000, 1.2, 1.0, 13)));
  const Estimate& bound = a.scalar("log_z_lower_bound").estimate.reweighted;
  const Estimate& log_z = a.scalar("log_z").estimate.reweighted;
  const double kl = 16 * (std::log(1 / 1.2) + 1.44 / 2 - 0.5);
  EXPECT_NEAR(bound.value, -kl, 4 * bound.error);
  EXPECT_LT(bound.error, 0.01);
  EXPECT_NEAR(log_z.value, 0.0, 4 * log_z.error);
  EXPECT_LT(bound.value, log_z.value - 10 * log_z.error);
}

// Reweighting to other couplings: the target N(0, 1) per site is the
// action sum phi^2 / 2 (recorded as m2 = 0.5, lambda = 0); adding dm2 sum
// phi^2 makes it N(0, 1 / (1 + 2 dm2)), so log Z changes by -(V/2) log(1 +
// 2 dm2); adding dlambda sum phi^4 changes it by V log E[exp(-dlambda
// phi^4)], a one-dimensional integral done here by quadrature. Proposals
// from a flow of width 1.1, so the flow's weights enter too.
TEST(EnsembleAnalysis, ReweightingToOtherCouplingsGivesTheExactFreeEnergyDifference) {
  SyntheticEnsemble e = gaussian_ensemble(40000, 1.1, 1.0, 14);
  e.couplings = Phi4Couplings{0.5, 0.0};
  const std::string path = ensemble_file("coupling_shift", e);
  EnsembleAnalysisOptions options;
  options.reweight_to = Phi4Couplings{0.55, 0.0};
  const EnsembleAnalysis mass = analyze_ensemble(path, options);
  ASSERT_TRUE(mass.coupling_shift.has_value());
  const Estimate& dm = mass.coupling_shift->delta_log_z;
  EXPECT_NEAR(dm.value, -8 * std::log(1.1), 3 * dm.error);
  EXPECT_LT(dm.error, 0.01);
  EXPECT_GT(mass.coupling_shift->ess, 0.5);

  options.reweight_to = Phi4Couplings{0.5, 0.02};
  const EnsembleAnalysis quartic = analyze_ensemble(path, options);
  double integral = 0;
  const int steps = 20000;
  const double h = 20.0 / steps;
  for (int i = 0; i <= steps; ++i) {  // Simpson's rule on [-10, 10]
    const double phi = -10 + i * h;
    const double f = std::exp(-0.5 * phi * phi - 0.02 * std::pow(phi, 4)) / std::sqrt(2 * kPi);
    integral += f * (i == 0 || i == steps ? 1 : (i % 2 ? 4 : 2)) * h / 3;
  }
  const Estimate& dl = quartic.coupling_shift->delta_log_z;
  EXPECT_NEAR(dl.value, 16 * std::log(integral), 3 * dl.error);
  EXPECT_LT(dl.error, 0.02);
  EXPECT_EQ(quartic.coupling_shift->from.m2, 0.5);
  EXPECT_EQ(quartic.coupling_shift->to.lambda, 0.02);

  // Far away the ensemble no longer covers the target: said so.
  options.reweight_to = Phi4Couplings{3.0, 0.0};
  const EnsembleAnalysis far = analyze_ensemble(path, options);
  const bool noted = std::any_of(far.notes.begin(), far.notes.end(), [](const std::string& note) {
    return note.find("reweighting to m2 = 3, lambda = 0 rests on few configurations") != std::string::npos;
  });
  EXPECT_TRUE(noted);
}

TEST(EnsembleAnalysis, ChainEstimatorFollowsTheMetropolisState) {
  const double sigma_p = 0.9;
  SyntheticEnsemble e = gaussian_ensemble(8000, 1.0, sigma_p, 13);
  e.state = metropolis_chain(e, 14);
  EnsembleAnalysisOptions options;
  options.chunk_rows = 1000;
  const EnsembleAnalysis a = analyze_ensemble(ensemble_file("chain", e), options);
  // Direct mean of M^2[state[i]] / V along the chain.
  double direct = 0;
  for (int64_t s : e.state) {
    double m = 0;
    for (int x = 0; x < 16; ++x) m += e.configs[s * 16 + x];
    direct += m * m / 16;
  }
  direct /= e.n();
  const ObservableEstimate& chi2 = a.scalar("chi2").estimate;
  std::printf("chain: accept %.3f, chi2 chain %.5f +- %.5f, tau_int %.3f +- %.3f; reweighted %.5f +- %.5f\n",
              *a.accept_rate, chi2.chain.value, chi2.chain.error, chi2.chain.tau_int,
              chi2.chain.tau_int_error, chi2.reweighted.value, chi2.reweighted.error);
  EXPECT_NEAR(chi2.chain.value, direct, 1e-12);
  EXPECT_WITHIN_ERRORS(chi2.chain, sigma_p * sigma_p, 3);
  EXPECT_GT(chi2.chain.tau_int, 0.5 + 2 * chi2.chain.tau_int_error);  // rejections correlate
  EXPECT_NEAR(chi2.chain.value, chi2.reweighted.value, 3 * std::hypot(chi2.chain.error, chi2.reweighted.error));
}

TEST(EnsembleAnalysis, LogZErrorIsTheDirectJackknife) {
  SyntheticEnsemble e = gaussian_ensemble(3000, 1.0, 0.9, 15);
  for (double& lp : e.log_p) lp += 37.0;  // log Z = 37
  EnsembleAnalysisOptions options;
  options.n_blocks = 50;
  const EnsembleAnalysis a = analyze_ensemble(ensemble_file("logz", e), options);
  const int64_t n = e.n(), blocks = 50;
  std::vector<double> log_w(n);
  for (int64_t i = 0; i < n; ++i) log_w[i] = e.log_p[i] - e.log_q[i];
  const double max = *std::max_element(log_w.begin(), log_w.end());
  double total = 0;
  for (double lw : log_w) total += std::exp(lw - max);
  std::vector<double> f(blocks);
  double f_bar = 0;
  for (int64_t j = 0; j < blocks; ++j) {
    double block = 0;
    const int64_t begin = j * n / blocks, end = (j + 1) * n / blocks;
    for (int64_t i = begin; i < end; ++i) block += std::exp(log_w[i] - max);
    f[j] = max + std::log((total - block) / (n - (end - begin)));
    f_bar += f[j] / blocks;
  }
  double sum_sq = 0;
  for (double fj : f) sum_sq += (fj - f_bar) * (fj - f_bar);
  const double error = std::sqrt((blocks - 1.0) / blocks * sum_sq);
  const Estimate& log_z = a.scalar("log_z").estimate.reweighted;
  std::printf("log Z = %.6f +- %.6f (direct jackknife error %.6f)\n", log_z.value, log_z.error, error);
  EXPECT_NEAR(log_z.value, max + std::log(total / n), 1e-12);
  EXPECT_NEAR(log_z.error, error, 1e-9 * error);
  EXPECT_WITHIN_ERRORS(log_z, 37.0, 3);
}

TEST(EnsembleAnalysis, WithoutConfigurationsOnlyWeightQuantities) {
  SyntheticEnsemble e = gaussian_ensemble(500, 1.0, 0.9, 16);
  e.store_configs = false;
  const EnsembleAnalysis a = analyze_ensemble(ensemble_file("noconfigs", e));
  EXPECT_FALSE(a.has_configs);
  ASSERT_EQ(a.scalars.size(), 3u);
  EXPECT_EQ(a.scalars[0].key, "action_density");
  EXPECT_EQ(a.scalars[1].key, "log_z");
  EXPECT_EQ(a.scalars[2].key, "log_z_lower_bound");
  EXPECT_FALSE(std::isnan(a.scalars[0].estimate.chain.error));
  EXPECT_TRUE(a.correlator.empty() && a.effective_mass.empty());
  const bool noted = std::any_of(a.notes.begin(), a.notes.end(), [](const std::string& note) {
    return note.find("store_configs: true") != std::string::npos;
  });
  EXPECT_TRUE(noted);
}

TEST(EnsembleAnalysis, HmcEnsembleWithSeveralChains) {
  SyntheticEnsemble e = gaussian_ensemble(1000, 1.0, 1.0, 17);
  e.source = "hmc";
  e.state.clear();  // identity implied
  e.log_q = e.log_p;
  e.n_chains = 2;
  const EnsembleAnalysis a = analyze_ensemble(ensemble_file("hmc", e));
  EXPECT_TRUE(a.has_chain);
  EXPECT_EQ(a.n_chains, 2);
  EXPECT_FALSE(a.accept_rate.has_value());
  const ObservableEstimate& chi2 = a.scalar("chi2").estimate;
  EXPECT_NEAR(chi2.chain.value, chi2.reweighted.value, 1e-12);
  EXPECT_TRUE(std::isnan(a.scalar("log_z").estimate.reweighted.value));
  const bool noted = std::any_of(a.notes.begin(), a.notes.end(), [](const std::string& note) {
    return note.find("analyses them as replicas") != std::string::npos;
  });
  EXPECT_TRUE(noted);
  EXPECT_EQ(a.replica_lengths, (std::vector<std::size_t>{500, 500}));
}

std::string config_error_of(const std::string& path) {
  try {
    analyze_ensemble(path);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

TEST(EnsembleAnalysis, BadFilesAreInputErrorsNamingTheFile) {
  const std::string directory = flowlat::testing::scratch_directory("analysis_bad");
  EXPECT_NE(config_error_of(directory + "/missing.h5").find(directory + "/missing.h5"), std::string::npos);
  const std::string text = directory + "/text.h5";
  flowlat::testing::write_text(text, "not hdf5\n");
  EXPECT_NE(config_error_of(text).find(text), std::string::npos);
  const std::string other = directory + "/other.h5";
  H5File(other, FileMode::CreateNew).attributes().write_string("format", "something else");
  EXPECT_NE(config_error_of(other).find(other), std::string::npos);
}

TEST(AnalysisReport, JsonTableAndStoredGroup) {
  const SyntheticEnsemble e = gaussian_ensemble(600, 1.0, 0.9, 18);
  const std::string path = ensemble_file("report", e);
  const AnalysisReport report(analyze_ensemble(path));
  const nlohmann::json j = report.json();
  const ObservableEstimate& chi2 = report.analysis().scalar("chi2").estimate;
  EXPECT_DOUBLE_EQ(j["observables"]["chi2"]["reweighted"]["value"].get<double>(), chi2.reweighted.value);
  EXPECT_DOUBLE_EQ(j["observables"]["chi2"]["chain"]["tau_int"].get<double>(), chi2.chain.tau_int);
  EXPECT_EQ(j["observables"]["correlator"]["reweighted"]["value"].size(), 4u);
  EXPECT_EQ(j["observables"]["effective_mass"]["t"][0].get<int>(), 1);
  EXPECT_TRUE(j["observables"]["log_z"]["chain"].is_null());
  EXPECT_NE(report.table().find("chi2 = <M^2>/V"), std::string::npos);

  const std::string json_path = path + ".json";
  report.write_json(json_path, OverwritePolicy::Refuse);
  EXPECT_THROW(report.write_json(json_path, OverwritePolicy::Refuse), ConfigError);
  EXPECT_NO_THROW(report.write_json(json_path, OverwritePolicy::Force));

  report.store(path);
  report.store(path);  // replaces /analysis
  H5File file(path, FileMode::ReadOnly);
  const std::vector<double> stored = H5Dataset::open(file, "/analysis/chi2").read_rows<double>(0, 6);
  EXPECT_DOUBLE_EQ(stored[0], chi2.reweighted.value);
  EXPECT_DOUBLE_EQ(stored[4], chi2.chain.tau_int);
  EXPECT_EQ(H5Dataset::open(file, "/analysis/correlator").shape(), (std::vector<int64_t>{4, 6}));
  EXPECT_EQ(file.attributes("/analysis").read_int64("n"), 600);
}

}  // namespace
}  // namespace flowlat
