#include "analysis/Verdict.hpp"

#include <cmath>
#include <cstdio>

namespace flowlat {
namespace {

std::string text_of(const char* format, double a, double b = 0, double c = 0) {
  char text[256];
  std::snprintf(text, sizeof text, format, a, b, c);
  return text;
}

}  // namespace

std::optional<Verdict> make_verdict(const CostComparison& costs) {
  if (!costs.other_analysis || !costs.other_sampler) return std::nullopt;
  const EnsembleAnalysis& mine = costs.analysis;
  const EnsembleAnalysis& theirs = *costs.other_analysis;
  if (!mine.has_scalar("chi2") || !theirs.has_scalar("chi2") || !mine.has_scalar("log_z")) return std::nullopt;
  const ObservableCost* my_cost = nullptr;
  const ObservableCost* their_cost = nullptr;
  const std::vector<ObservableCost> my_costs = observable_costs(mine, costs.sampler);
  const std::vector<ObservableCost> their_costs = observable_costs(theirs, *costs.other_sampler);
  for (const ObservableCost& c : my_costs) my_cost = c.key == "chi2" ? &c : my_cost;
  for (const ObservableCost& c : their_costs) their_cost = c.key == "chi2" ? &c : their_cost;
  if (my_cost == nullptr || their_cost == nullptr) return std::nullopt;
  Verdict verdict;
  verdict.other_path = theirs.path;
  verdict.ess = mine.ess;
  verdict.accept_rate = mine.accept_rate;
  verdict.log_z = mine.scalar("log_z").estimate.reweighted;
  verdict.chi2 = mine.scalar("chi2").estimate.reweighted;
  verdict.other_chi2 = theirs.scalar("chi2").estimate.chain;
  verdict.sigma = std::abs(verdict.chi2.value - verdict.other_chi2.value) /
                  std::hypot(verdict.chi2.error, verdict.other_chi2.error);
  verdict.seconds_per_independent = amortised_seconds(*my_cost, costs.sampler, kAmortisationRows);
  verdict.other_seconds_per_independent = their_cost->seconds_per_independent;
  return verdict;
}

std::string verdict_text(const Verdict& v) {
  const double ratio = v.other_seconds_per_independent / v.seconds_per_independent;
  return "\nverdict against " + v.other_path + ":\n" +
         text_of("  ESS %.3f, independence-Metropolis acceptance ", v.ess) +
         (v.accept_rate ? text_of("%.3f", *v.accept_rate) : std::string("n/a")) +
         text_of(", log Z = %.6g +/- %.2g\n", v.log_z.value, v.log_z.error) +
         text_of("  chi2 = <M^2>/V: %.5g +/- %.2g reweighted, ", v.chi2.value, v.chi2.error) +
         text_of("%.5g +/- %.2g by HMC: %.1f sigma apart\n", v.other_chi2.value, v.other_chi2.error, v.sigma) +
         text_of("  seconds per independent configuration (chi2): flow %.3g (training spread over 1e6), HMC %.3g: ",
                 v.seconds_per_independent, v.other_seconds_per_independent) +
         (ratio >= 1 ? text_of("the flow is %.3g x cheaper\n", ratio) : text_of("HMC is %.3g x cheaper\n", 1 / ratio));
}

nlohmann::json verdict_json(const Verdict& v) {
  return {{"versus_file", v.other_path},
          {"ess", v.ess},
          {"accept_rate", v.accept_rate ? nlohmann::json(*v.accept_rate) : nlohmann::json(nullptr)},
          {"log_z", {{"value", v.log_z.value}, {"error", v.log_z.error}}},
          {"chi2", {{"value", v.chi2.value}, {"error", v.chi2.error}}},
          {"versus_chi2", {{"value", v.other_chi2.value}, {"error", v.other_chi2.error}}},
          {"chi2_sigma", v.sigma},
          {"seconds_per_independent_chi2", v.seconds_per_independent},
          {"versus_seconds_per_independent_chi2", v.other_seconds_per_independent}};
}

}  // namespace flowlat
