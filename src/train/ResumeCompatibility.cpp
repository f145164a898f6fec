#include "train/ResumeCompatibility.hpp"

#include <yaml-cpp/yaml.h>

#include <map>
#include <set>

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

// "key: old <where>, new now" for every key that differs and may not. Local.
template <typename MayChange>
std::vector<std::string> differing_keys(const std::string& old_yaml, const std::string& new_yaml,
                                        MayChange may_change, const std::string& where) {
  const auto before = flat(old_yaml);
  const auto now = flat(new_yaml);
  std::set<std::string> keys;
  for (const auto& [key, value] : before) keys.insert(key);
  for (const auto& [key, value] : now) keys.insert(key);
  std::vector<std::string> changes;
  for (const std::string& key : keys) {
    if (may_change(key)) continue;
    const auto old_value = before.find(key);
    const auto new_value = now.find(key);
    const std::string a = old_value == before.end() ? "(absent)" : old_value->second;
    const std::string b = new_value == now.end() ? "(absent)" : new_value->second;
    if (a != b) changes.push_back(key + ": " + a + " " + where + ", " + b + " now");
  }
  return changes;
}

}  // namespace

bool may_change_on_resume(const std::string& key) {
  static const std::set<std::string> allowed{"train.steps",  "train.log_every", "train.checkpoint_every",
                                             "train.check_every", "run.resume", "run.max_walltime",
                                             "run.output_dir"};
  return allowed.count(key) > 0 || key.rfind("sample.", 0) == 0 || key.rfind("hmc.", 0) == 0;
}

std::vector<std::string> forbidden_config_changes(const std::string& checkpoint_yaml, const std::string& new_yaml) {
  return differing_keys(checkpoint_yaml, new_yaml, may_change_on_resume, "in the checkpoint");
}

std::vector<std::string> forbidden_ensemble_changes(const std::string& file_yaml, const std::string& new_yaml) {
  static const std::set<std::string> allowed{"train.log_every", "train.checkpoint_every", "train.check_every",
                                             "run.resume", "run.max_walltime", "run.output_dir"};
  const auto may_change = [](const std::string& key) { return allowed.count(key) > 0 || key.rfind("hmc.", 0) == 0; };
  return differing_keys(file_yaml, new_yaml, may_change, "in the file");
}

}  // namespace flowlat
