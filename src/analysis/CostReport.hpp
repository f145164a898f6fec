#pragma once
// The cost section of `flowlat analyze` (CostModel): per observable, the
// machine seconds and evaluations per effectively independent
// configuration, with a flow's training amortised over 10^6 rows; with
// --versus, the comparison with another ensemble (HMC) and the break-even
// number of flow rows.
#include <nlohmann/json.hpp>

#include <optional>
#include <string>

#include "analysis/CostModel.hpp"
#include "analysis/EnsembleAnalysis.hpp"

namespace flowlat {

// Rows over which a flow's training is amortised in the report.
inline constexpr double kAmortisationRows = 1e6;

struct CostComparison {
  EnsembleAnalysis analysis;  // of this file
  SamplerCost sampler;
  std::optional<EnsembleAnalysis> other_analysis;  // of --versus
  std::optional<SamplerCost> other_sampler;
};

// The text table. Local.
std::string cost_table(const CostComparison& costs);
// The same as JSON: {"sampler": {...}, "observables": {key: {...}}, "versus": {...}}. Local.
nlohmann::json cost_json(const CostComparison& costs);

}  // namespace flowlat
