#pragma once
// The `flowlat analyze` job: estimates of the observables of an ensemble
// file by importance reweighting and along the stored chain
// (EnsembleAnalysis), printed as a table, returned as JSON (written by the
// command's --json) and optionally stored in the file's /analysis group.
#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "parallel/Communicator.hpp"

namespace flowlat {

struct AnalyzeOptions {
  std::string ensemble;
  bool store = false;
  int blocks = 100;
  std::string versus;  // another ensemble (HMC) to compare costs with; empty: none
  std::string reweight_to;  // "m2=X,lambda=Y" (either may be left out: the ensemble's); empty: none
  std::string model;        // the flow's model file, for the log Z bracket with --versus; empty: none
  // The flow's log q of each row of `versus` (sample/FlowDensityOfEnsemble.hpp,
  // computed by the command from `model`); empty: no upper bound.
  std::vector<double> versus_log_q;
};

// Runs on rank 0, printing the tables on stdout; the other ranks wait for
// its outcome (an error reaches all of them). Returns the results on rank 0
// (the --json document), null elsewhere. Collective.
nlohmann::json run_analyze(const Communicator& comm, const AnalyzeOptions& options);

}  // namespace flowlat
