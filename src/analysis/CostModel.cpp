#include "analysis/CostModel.hpp"

#include <cmath>

#include "ensemble/EnsembleReader.hpp"

namespace flowlat {

double amortised_seconds(const ObservableCost& cost, const SamplerCost& sampler, double rows) {
  return cost.two_tau_int * (sampler.setup_seconds / rows + sampler.seconds_per_row);
}

std::optional<double> break_even_rows(const ObservableCost& flow, const SamplerCost& flow_sampler,
                                      const ObservableCost& hmc) {
  const double saving = hmc.seconds_per_independent - flow.seconds_per_independent;
  if (!(saving > 0)) return std::nullopt;
  return flow.two_tau_int * flow_sampler.setup_seconds / saving;
}

std::optional<SamplerCost> sampler_cost(const std::string& ensemble_path) {
  const EnsembleReader reader(ensemble_path);
  if (!reader.has_attribute("seconds_per_row")) return std::nullopt;
  SamplerCost cost;
  cost.seconds_per_row = reader.attribute_double("seconds_per_row");
  if (reader.has_attribute("evaluations_per_row")) cost.evaluations_per_row = reader.attribute_double("evaluations_per_row");
  if (reader.has_attribute("evaluation_kind")) cost.evaluation_kind = reader.attribute_string("evaluation_kind");
  if (reader.has_attribute("train_seconds")) cost.setup_seconds = reader.attribute_double("train_seconds");
  return cost;
}

std::vector<ObservableCost> observable_costs(const EnsembleAnalysis& analysis, const SamplerCost& sampler) {
  std::vector<ObservableCost> costs;
  for (const ScalarObservable& s : analysis.scalars) {
    const ChainEstimate& chain = s.estimate.chain;
    if (!analysis.has_chain || !std::isfinite(chain.tau_int) || !std::isfinite(chain.error)) continue;
    ObservableCost cost;
    cost.key = s.key;
    cost.two_tau_int = std::max(1.0, 2.0 * chain.tau_int);
    cost.seconds_per_independent = cost.two_tau_int * sampler.seconds_per_row;
    cost.evaluations_per_independent = cost.two_tau_int * sampler.evaluations_per_row;
    costs.push_back(cost);
  }
  return costs;
}

}  // namespace flowlat
