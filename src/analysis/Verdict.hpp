#pragma once
// The verdict of `flowlat analyze FLOW.h5 --versus HMC.h5`, what a newcomer
// reads in ten seconds (tools/quickstart.sh ends with it): the flow
// ensemble's ESS, independence-Metropolis acceptance and log Z; chi2 =
// <M^2>/V reweighted against HMC's with the deviation in combined standard
// errors; and the seconds per effectively independent configuration of
// chi2 for both, the flow's training amortised over kAmortisationRows rows
// as in the critical-line study.
#include <nlohmann/json.hpp>

#include <optional>
#include <string>

#include "analysis/CostReport.hpp"

namespace flowlat {

struct Verdict {
  std::string other_path;
  double ess = 0;
  std::optional<double> accept_rate;
  Estimate log_z;
  Estimate chi2;             // this ensemble, reweighted
  ChainEstimate other_chi2;  // the other (HMC) ensemble, chain
  double sigma = 0;          // |chi2 - other_chi2| / combined error
  double seconds_per_independent = 0;        // chi2, training amortised
  double other_seconds_per_independent = 0;  // chi2
};

// The verdict of a comparison with --versus, or nullopt when either side has
// no chi2 or no cost. Local.
std::optional<Verdict> make_verdict(const CostComparison& costs);
// Its text, headed "verdict", and its JSON. Local.
std::string verdict_text(const Verdict& verdict);
nlohmann::json verdict_json(const Verdict& verdict);

}  // namespace flowlat
