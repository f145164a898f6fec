// The cost accounting on a constructed example whose numbers are worked out
// by hand: a flow of 100 s training, 0.1 ms per row and tau_int 1 against
// HMC at 1 ms per trajectory and tau_int 10.
#include <gtest/gtest.h>

#include "analysis/CostModel.hpp"
#include "analysis/CostReport.hpp"
#include "analysis/Verdict.hpp"

namespace flowlat {
namespace {

ScalarObservable chi2_with_tau(double tau_int) {
  ScalarObservable s;
  s.key = "chi2";
  s.label = "chi2 = <M^2>/V";
  s.estimate.chain.value = 1.0;
  s.estimate.chain.error = 0.01;
  s.estimate.chain.tau_int = tau_int;
  return s;
}

EnsembleAnalysis analysis_with(double tau_int) {
  EnsembleAnalysis a;
  a.has_chain = true;
  a.scalars.push_back(chi2_with_tau(tau_int));
  ScalarObservable log_z;  // no chain estimate: no cost row
  log_z.key = "log_Z";
  a.scalars.push_back(log_z);
  return a;
}

TEST(CostModel, ConstructedFlowAgainstHmc) {
  SamplerCost flow{1e-4, 48, "network pass", 100.0};
  SamplerCost hmc{1e-3, 20, "force", 0.0};
  const std::vector<ObservableCost> flow_costs = observable_costs(analysis_with(1.0), flow);
  const std::vector<ObservableCost> hmc_costs = observable_costs(analysis_with(10.0), hmc);
  ASSERT_EQ(flow_costs.size(), 1u);
  ASSERT_EQ(hmc_costs.size(), 1u);
  // 2 tau_int rows per independent configuration.
  EXPECT_DOUBLE_EQ(flow_costs[0].two_tau_int, 2.0);
  EXPECT_DOUBLE_EQ(flow_costs[0].seconds_per_independent, 2e-4);
  EXPECT_DOUBLE_EQ(flow_costs[0].evaluations_per_independent, 96.0);
  EXPECT_DOUBLE_EQ(hmc_costs[0].seconds_per_independent, 0.02);
  EXPECT_DOUBLE_EQ(hmc_costs[0].evaluations_per_independent, 400.0);
  // Training amortised over 10^6 rows: 2 (100 / 1e6 + 1e-4) = 4e-4 s.
  EXPECT_DOUBLE_EQ(amortised_seconds(flow_costs[0], flow, 1e6), 4e-4);
  // Break-even: 2 (100 / N + 1e-4) = 0.02  =>  N = 200 / 0.0198.
  const std::optional<double> n = break_even_rows(flow_costs[0], flow, hmc_costs[0]);
  ASSERT_TRUE(n.has_value());
  EXPECT_NEAR(*n, 200.0 / 0.0198, 1e-9 * *n);
  EXPECT_NEAR(amortised_seconds(flow_costs[0], flow, *n), hmc_costs[0].seconds_per_independent, 1e-15);
  // A flow that is dearer per row once trained never breaks even.
  SamplerCost slow_flow{0.02, 48, "network pass", 100.0};
  EXPECT_FALSE(break_even_rows(observable_costs(analysis_with(1.0), slow_flow)[0], slow_flow, hmc_costs[0]));
  // tau_int below 1/2 (antithetic) still counts one row per configuration.
  EXPECT_DOUBLE_EQ(observable_costs(analysis_with(0.3), flow)[0].two_tau_int, 1.0);
}

TEST(CostReport, JsonCarriesTheWorkedNumbers) {
  CostComparison costs{analysis_with(1.0), SamplerCost{1e-4, 48, "network pass", 100.0}, analysis_with(10.0),
                       SamplerCost{1e-3, 20, "force", 0.0}};
  const nlohmann::json json = cost_json(costs);
  const nlohmann::json& chi2 = json.at("observables").at("chi2");
  EXPECT_DOUBLE_EQ(chi2.at("seconds_per_independent").get<double>(), 2e-4);
  EXPECT_DOUBLE_EQ(chi2.at("seconds_per_independent_amortised").get<double>(), 4e-4);
  EXPECT_DOUBLE_EQ(chi2.at("versus").at("seconds_per_independent").get<double>(), 0.02);
  EXPECT_NEAR(chi2.at("versus").at("break_even_rows").get<double>(), 200.0 / 0.0198, 1e-6);
  const std::string table = cost_table(costs);
  EXPECT_NE(table.find("chi2"), std::string::npos) << table;
  EXPECT_EQ(table.find("log_Z"), std::string::npos) << table;
}

// The verdict: the flow's reweighted chi2 1.03(3) against HMC's 1.00(4) is
// 0.6 sigma apart; per independent configuration the flow costs 4e-4 s with
// its training amortised, HMC 0.02 s: 50x.
TEST(Verdict, ComparesChi2InStandardErrorsAndTheCostAsARatio) {
  EnsembleAnalysis flow = analysis_with(1.0);
  flow.ess = 0.93;
  flow.accept_rate = 0.85;
  flow.scalars[0].estimate.reweighted = {1.03, 0.03};
  flow.scalars[1].key = "log_z";
  flow.scalars[1].estimate.reweighted = {9.292, 0.001};
  EnsembleAnalysis hmc = analysis_with(10.0);
  hmc.path = "hmc.h5";
  hmc.scalars[0].estimate.chain.error = 0.04;
  const CostComparison costs{flow, SamplerCost{1e-4, 48, "network pass", 100.0}, hmc, SamplerCost{1e-3, 20, "force", 0.0}};
  const std::optional<Verdict> verdict = make_verdict(costs);
  ASSERT_TRUE(verdict.has_value());
  EXPECT_NEAR(verdict->sigma, 0.6, 1e-12);
  EXPECT_DOUBLE_EQ(verdict->seconds_per_independent, 4e-4);
  EXPECT_DOUBLE_EQ(verdict->other_seconds_per_independent, 0.02);
  const std::string text = verdict_text(*verdict);
  EXPECT_NE(text.find("verdict against hmc.h5"), std::string::npos) << text;
  EXPECT_NE(text.find("ESS 0.930, independence-Metropolis acceptance 0.850, log Z = 9.292 +/- 0.001"), std::string::npos) << text;
  EXPECT_NE(text.find("0.6 sigma apart"), std::string::npos) << text;
  EXPECT_NE(text.find("the flow is 50 x cheaper"), std::string::npos) << text;
  EXPECT_DOUBLE_EQ(verdict_json(*verdict).at("chi2_sigma").get<double>(), verdict->sigma);
  // Without the other side's costs there is nothing to judge.
  EXPECT_FALSE(make_verdict(CostComparison{flow, SamplerCost{1e-4, 48, "network pass", 100.0}, std::nullopt, std::nullopt}));
}

}  // namespace
}  // namespace flowlat
