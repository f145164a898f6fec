#include "config/ConfigDiff.hpp"

#include <yaml-cpp/yaml.h>

#include <map>
#include <set>

#include "config/ConfigError.hpp"
#include "config/ConfigKeys.hpp"

namespace flowlat {
namespace {

// Flattens a resolved configuration into "section.key" -> canonical text.
void flatten(const YAML::Node& node, const std::string& prefix, std::map<std::string, std::string>& out) {
  if (node.IsMap()) {
    for (const auto& entry : node) {
      const std::string key = entry.first.as<std::string>();
      flatten(entry.second, prefix.empty() ? key : prefix + "." + key, out);
    }
    return;
  }
  YAML::Emitter text;
  text << YAML::Flow << node;
  out[prefix] = text.c_str();
}

std::map<std::string, std::string> flat(const std::string& yaml) {
  std::map<std::string, std::string> out;
  flatten(YAML::Load(yaml), "", out);
  return out;
}

// The canonical text of a key's default, as flatten() would show it.
std::string default_text(const std::string& key) {
  const KeyInfo* info = find_key(key);
  if (!info || info->requirement != Requirement::Optional) return "(absent)";
  return flat(key.substr(0, key.find('.')) + ": {" + key.substr(key.find('.') + 1) + ": " + info->default_text +
              "}")
      .at(key);
}

}  // namespace

bool may_change(const std::string& key, Changeable restart) {
  const KeyInfo* info = find_key(key);
  return info && includes(info->changeable, restart);
}

std::vector<std::string> forbidden_changes(const std::string& stored_yaml, const std::string& new_yaml,
                                           Changeable restart, const std::string& stored_where) {
  std::map<std::string, std::string> before;
  try {
    before = flat(stored_yaml);
  } catch (const std::exception& e) {
    throw ConfigError("the configuration " + stored_where + " cannot be read (" + e.what() + ")");
  }
  const auto now = flat(new_yaml);
  std::set<std::string> keys;
  for (const auto& [key, value] : before) keys.insert(key);
  for (const auto& [key, value] : now) keys.insert(key);
  std::vector<std::string> changes;
  for (const std::string& key : keys) {
    if (may_change(key, restart)) continue;
    const auto old_value = before.find(key);
    const auto new_value = now.find(key);
    const std::string a = old_value == before.end() ? default_text(key) : old_value->second;
    const std::string b = new_value == now.end() ? "(absent)" : new_value->second;
    if (a != b) changes.push_back(key + ": " + a + " " + stored_where + ", " + b + " now");
  }
  return changes;
}

void refuse_forbidden_changes(const std::string& stored_yaml, const std::string& new_yaml, Changeable restart,
                              const std::string& stored_where, const std::string& context,
                              const std::string& refusal) {
  std::vector<std::string> changes;
  try {
    changes = forbidden_changes(stored_yaml, new_yaml, restart, stored_where);
  } catch (const ConfigError& e) {
    throw ConfigError(context + ": " + e.what());
  }
  if (changes.empty()) return;
  std::string message = context + ": " + refusal + ":";
  for (const std::string& change : changes) message += "\n  " + change;
  throw ConfigError(message);
}

}  // namespace flowlat
