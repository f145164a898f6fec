#pragma once
// What a model file must match to be loaded: lattice and network shape.
#include <nlohmann/json.hpp>

#include <string>

#include "config/Config.hpp"

namespace flowlat {

struct FlowArchitecture {
  std::vector<int64_t> lattice_shape;
  int64_t n_layers;
  std::vector<int64_t> hidden_channels;
  int64_t kernel_size;
  bool final_tanh;

  static FlowArchitecture from_config(const Config& config);
  nlohmann::json to_json() const;
  static FlowArchitecture from_json(const nlohmann::json& json);
  // Human-readable list of differing fields, empty when equal. Local.
  std::string differences(const FlowArchitecture& other) const;
};

}  // namespace flowlat
