#pragma once
// Shared steps of the end-to-end physics tests: run the real binary through
// a pipeline and read `flowlat analyze --json` results.
#include <nlohmann/json.hpp>

#include <string>

#include "support/TestSupport.hpp"

namespace flowlat::testing {

// Runs `flowlat arguments` (under mpirun -np `ranks` if > 0), fails the
// current test with the output if it does not exit 0, and returns the
// output. Local.
std::string run_flowlat_ok(const std::string& arguments, int ranks = 0);

// `flowlat analyze ensemble --json <ensemble>.json` and the parsed JSON. Local.
nlohmann::json analyze_json(const std::string& ensemble);

// One estimate from that JSON: observables[key][estimator]. Local.
struct ValueError {
  double value;
  double error;
};
ValueError estimate(const nlohmann::json& analysis, const std::string& key, const std::string& estimator);

}  // namespace flowlat::testing
