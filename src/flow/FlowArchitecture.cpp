#include "flow/FlowArchitecture.hpp"

namespace flowlat {

FlowArchitecture FlowArchitecture::from_config(const Config& config) {
  return {config.lattice.shape, config.flow.n_layers, config.flow.hidden_channels, config.flow.kernel_size,
          config.flow.final_tanh};
}

nlohmann::json FlowArchitecture::to_json() const {
  return {{"lattice_shape", lattice_shape}, {"n_layers", n_layers}, {"hidden_channels", hidden_channels},
          {"kernel_size", kernel_size},     {"final_tanh", final_tanh}};
}

FlowArchitecture FlowArchitecture::from_json(const nlohmann::json& json) {
  return {json.at("lattice_shape").get<std::vector<int64_t>>(), json.at("n_layers").get<int64_t>(),
          json.at("hidden_channels").get<std::vector<int64_t>>(), json.at("kernel_size").get<int64_t>(),
          json.at("final_tanh").get<bool>()};
}

std::string FlowArchitecture::differences(const FlowArchitecture& other) const {
  const nlohmann::json mine = to_json();
  const nlohmann::json theirs = other.to_json();
  std::string text;
  for (const auto& [key, value] : mine.items()) {
    if (theirs.at(key) != value) {
      if (!text.empty()) text += ", ";
      text += key + " " + theirs.at(key).dump() + " vs " + value.dump();
    }
  }
  return text;
}

}  // namespace flowlat
