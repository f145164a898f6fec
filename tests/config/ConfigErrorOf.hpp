#pragma once
// The message parse_config gives for `yaml` (origin "cfg.yaml") with the
// --set `overrides`, or "(no error)". Shared by the config tests.
#include <string>
#include <vector>

#include "config/Config.hpp"
#include "config/ConfigError.hpp"

namespace flowlat::testing {

inline std::string error_of(const std::string& yaml, const std::vector<std::string>& overrides = {}) {
  try {
    parse_config(yaml, "cfg.yaml", overrides);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "(no error)";
}

}  // namespace flowlat::testing
