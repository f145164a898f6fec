#include "physics/PhysicsTestSupport.hpp"

#include <gtest/gtest.h>

namespace flowlat::testing {

std::string run_flowlat_ok(const std::string& arguments, int ranks) {
  const CommandResult result = run_flowlat(arguments, ranks);
  EXPECT_EQ(result.exit_code, 0) << "flowlat " << arguments << "\n" << result.output;
  return result.output;
}

nlohmann::json analyze_json(const std::string& ensemble) {
  const std::string json_path = ensemble + ".json";
  run_flowlat_ok("analyze " + ensemble + " --json " + json_path + " --force");
  return nlohmann::json::parse(read_text(json_path));
}

ValueError estimate(const nlohmann::json& analysis, const std::string& key, const std::string& estimator) {
  const nlohmann::json& e = analysis.at("observables").at(key).at(estimator);
  return {e.at("value").get<double>(), e.at("error").get<double>()};
}

}  // namespace flowlat::testing
