#pragma once
// One row of a section table bound to its field of Config: the generic
// reader, checker and printer of that key. The tables
// (config/keys/<section>.def) expand into these through FLOWLAT_KEY.
// Internal to src/config.
#include <yaml-cpp/yaml.h>

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "config/ConfigKeys.hpp"
#include "config/KeyChecks.hpp"
#include "config/ValueCodec.hpp"

namespace flowlat {

struct KeyBinding {
  KeyInfo info;
  // Stores the node's value in `config`; returns the message of a value of
  // the wrong type (nullopt when stored).
  std::function<std::optional<std::string>(const YAML::Node& node, Config& config)> decode;
  // "must be >= 1 (got 0)" when the stored value is not allowed, else "".
  std::function<std::string(const Config& config)> violation;
  std::function<void(YAML::Emitter& out, const Config& config)> emit;
};

// Every key, in table order. Local.
const std::vector<KeyBinding>& key_bindings();

template <typename T>
KeyBinding make_key(const char* section, const char* name, T& (*field)(Config&), Requirement requirement,
                    KeyCheck<T> check, Changeable changeable, const char* help) {
  KeyBinding key;
  key.info.section = section;
  key.info.path = std::string(section) + "." + name;
  key.info.kind = ValueCodec<T>::kind;
  key.info.requirement = requirement;
  key.info.changeable = changeable;
  key.info.allowed = check.allowed;
  key.info.help = help;
  key.decode = [field](const YAML::Node& node, Config& config) { return ValueCodec<T>::decode(node, field(config)); };
  key.violation = [field, test = check.violation](const Config& config) {
    return test ? test(field(const_cast<Config&>(config)), config) : std::string();
  };
  key.emit = [field](YAML::Emitter& out, const Config& config) {
    ValueCodec<T>::emit(out, field(const_cast<Config&>(config)));
  };
  if constexpr (ValueCodec<T>::kind == ValueKind::Choice || ValueCodec<T>::kind == ValueKind::ChoiceList) {
    if (key.info.allowed.empty()) key.info.allowed = join_names(ValueCodec<T>::names());
  }
  return key;
}

}  // namespace flowlat
