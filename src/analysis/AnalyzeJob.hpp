#pragma once
// The `flowlat analyze` job: estimates of the observables of an ensemble
// file by importance reweighting and along the stored chain
// (EnsembleAnalysis), printed as a table, optionally written as JSON and
// stored in the file's /analysis group.
#include <string>

#include "parallel/Communicator.hpp"

namespace flowlat {

struct AnalyzeOptions {
  std::string ensemble;
  std::string json;  // empty: no JSON file
  bool store = false;
  int blocks = 100;
  bool force = false;  // overwrite an existing JSON file
  std::string versus;  // another ensemble (HMC) to compare costs with; empty: none
};

// Runs on rank 0; the other ranks wait for its outcome (an error reaches
// all of them). Collective.
void run_analyze(const Communicator& comm, const AnalyzeOptions& options);

}  // namespace flowlat
