#pragma once
// log Z(to) - log Z(from) from one ensemble of the couplings `from`, by
// reweighting (EnsembleAnalysis.hpp: CouplingShift; README: free energies).
#include <vector>

#include "analysis/EnsembleAnalysis.hpp"
#include "ensemble/EnsembleReader.hpp"

namespace flowlat {

// The shift of log Z from the ensemble's couplings (its root attributes m2
// and lambda; a phi4 ensemble only, else ConfigError naming the file) to
// `to`, from each row's log w, sum_x phi^2 and sum_x phi^4: jackknife over
// n_blocks blocks, with the ESS and Pareto tail shape of the combined
// weights w exp(-dS). Local.
CouplingShift shift_couplings(const EnsembleReader& reader, const std::vector<double>& sum_phi2,
                              const std::vector<double>& sum_phi4, const std::vector<double>& log_w,
                              const Phi4Couplings& to, int n_blocks);

}  // namespace flowlat
