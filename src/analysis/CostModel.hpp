#pragma once
// The cost of an effectively independent configuration, in one currency for
// flows and HMC (README: costs). A sampler produces rows at a cost per row
// in machine seconds and in evaluations (HMC: force evaluations; a flow:
// coupling-network passes), after a one-off setup (a flow's training);
// an observable's rows are 2 tau_int to one independent configuration
// (tau_int of the stored chain: HMC's trajectories, the flow's
// independence-Metropolis chain).
//   cost per independent = 2 tau_int * cost per row
//   with the setup amortised over N rows: 2 tau_int * (setup / N + cost per row)
// A flow with setup T breaks even with HMC at N* rows, where
//   2 tau_f (T / N* + c_f) = 2 tau_h c_h,  N* = 2 tau_f T / (2 tau_h c_h - 2 tau_f c_f)
// (never, if the flow is not cheaper per row once trained).
#include <optional>
#include <string>
#include <vector>

#include "analysis/EnsembleAnalysis.hpp"

namespace flowlat {

struct SamplerCost {
  double seconds_per_row = 0;      // machine (all ranks) wall seconds per row
  double evaluations_per_row = 0;  // forces or network passes per row
  std::string evaluation_kind;     // "force" or "network pass"
  double setup_seconds = 0;        // training; 0 for HMC
};

struct ObservableCost {
  std::string key;
  double two_tau_int = 1;                // rows per independent configuration
  double seconds_per_independent = 0;    // without the setup
  double evaluations_per_independent = 0;
};

// Seconds per independent configuration with the setup spread over `rows`. Local.
double amortised_seconds(const ObservableCost& cost, const SamplerCost& sampler, double rows);

// N*: the rows after which the flow (setup included) costs no more per
// independent configuration than HMC; nullopt when it never does. Local.
std::optional<double> break_even_rows(const ObservableCost& flow, const SamplerCost& flow_sampler,
                                      const ObservableCost& hmc);

// The sampler's cost from the ensemble file's attributes (seconds_per_row,
// evaluations_per_row, evaluation_kind, train_seconds), or nullopt when the
// file does not record it. Local.
std::optional<SamplerCost> sampler_cost(const std::string& ensemble_path);

// The cost of each scalar observable with a chain estimate. Local.
std::vector<ObservableCost> observable_costs(const EnsembleAnalysis& analysis, const SamplerCost& sampler);

}  // namespace flowlat
