#include "config/Config.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "config/ConfigError.hpp"
#include "config/GaussianMass.hpp"
#include "config/KeyBinding.hpp"

namespace flowlat {
namespace {

std::string line_of(const YAML::Node& node) { return std::to_string(node.Mark().line + 1); }

// Locates keys in the YAML tree for messages: file:line, or the --set
// override that gave the value.
class Locator {
 public:
  Locator(YAML::Node root, std::string origin, std::set<std::string> overridden)
      : root_(std::move(root)), origin_(std::move(origin)), overridden_(std::move(overridden)) {}

  YAML::Node node(const KeyInfo& key) const {
    const YAML::Node section = root_[key.section];
    if (!section) return YAML::Node(YAML::NodeType::Undefined);
    return section[key.path.substr(key.section.size() + 1)];
  }

  std::string where(const KeyInfo& key) const {
    if (overridden_.count(key.path)) return "--set " + key.path;
    // yaml-cpp nodes are references: never assign to one, pick a copy.
    const YAML::Node key_node = node(key);
    const YAML::Node section = root_[key.section];
    const YAML::Node located = key_node ? key_node : section;
    if (located && located.Mark().line >= 0) return origin_ + ":" + line_of(located);
    return origin_;
  }

  [[noreturn]] void fail(const KeyInfo& key, const std::string& message) const {
    throw ConfigError(where(key) + ": " + key.path + ": " + message);
  }

 private:
  YAML::Node root_;
  std::string origin_;
  std::set<std::string> overridden_;
};

[[noreturn]] void fail_at(const std::string& origin, const YAML::Node& at, const std::string& message) {
  throw ConfigError(origin + ":" + line_of(at) + ": " + message);
}

void fail_unknown(const std::string& origin, const YAML::Node& key, const std::string& path) {
  std::string text = "unknown key '" + path + "'";
  const std::string nearest = nearest_key(path);
  if (!nearest.empty()) text += " (did you mean '" + nearest + "'?)";
  fail_at(origin, key, text);
}

// Every section and key in the file must be in the tables, once; the
// message suggests the nearest valid name. (yaml-cpp keeps duplicate keys
// and answers lookups with the first, so a repeated key would otherwise be
// silently ignored.)
void reject_unknown_and_repeated_keys(const YAML::Node& root, const std::string& origin) {
  const auto& sections = config_sections();
  std::set<std::string> seen_sections;
  for (const auto& entry : root) {
    const std::string section = entry.first.Scalar();
    if (std::find(sections.begin(), sections.end(), section) == sections.end()) {
      fail_unknown(origin, entry.first, section);
    }
    if (!seen_sections.insert(section).second) {
      fail_at(origin, entry.first, "section '" + section + "' appears twice (merge the two)");
    }
    if (entry.second.IsNull()) continue;
    if (!entry.second.IsMap()) fail_at(origin, entry.first, section + ": must be a mapping of keys");
    std::set<std::string> seen_keys;
    for (const auto& key : entry.second) {
      const std::string path = section + "." + key.first.Scalar();
      if (!find_key(path)) fail_unknown(origin, key.first, path);
      if (!seen_keys.insert(path).second) fail_at(origin, key.first, path + ": given twice");
    }
  }
}

// "train.lr=1e-3" -> root[train][lr] = 1e-3 (value parsed as YAML).
std::string apply_override(YAML::Node& root, const std::string& assignment) {
  const auto eq = assignment.find('=');
  if (eq == std::string::npos || eq == 0) {
    throw ConfigError("--set " + assignment + ": expected key.path=value");
  }
  const std::string path = assignment.substr(0, eq);
  if (path.find('.') == std::string::npos) {
    throw ConfigError("--set " + assignment + ": name one key, section.key=value (`flowlat keys " + path +
                      "` lists a section's keys)");
  }
  const KeyInfo* key = find_key(path);
  if (!key) {
    throw ConfigError("--set " + assignment + ": unknown key '" + path + "' (did you mean '" +
                      nearest_key(path) + "'?)");
  }
  YAML::Node value;
  try {
    value = YAML::Load(assignment.substr(eq + 1));
  } catch (const YAML::Exception& e) {
    throw ConfigError("--set " + assignment + ": value is not valid YAML: " + e.msg);
  }
  if (!root[key->section] || root[key->section].IsNull()) root[key->section] = YAML::Node(YAML::NodeType::Map);
  root[key->section][path.substr(key->section.size() + 1)] = value;
  return path;
}

// Values the tables leave to the input: run.output_dir from the file name,
// flow.fourier_mass2 from the action.
void derive_defaults(Config& config, const std::string& origin, const std::set<std::string>& given) {
  if (!given.count("run.output_dir")) {
    const std::string stem = std::filesystem::path(origin).stem().string();
    config.run.output_dir = "runs/" + (stem.empty() ? "flowlat" : stem);
  }
  // Only from a lattice that passes its check (reported in pass 2): the
  // derivation sums over every site, which for an absurd shape would
  // allocate or loop without end before the shape's error is seen.
  if (!given.count("flow.fourier_mass2") && lattice_extents().violation(config.lattice.shape, config).empty()) {
    config.flow.fourier_mass2 = gaussian_mass2(config.lattice.shape, config.action.m2, config.action.lambda);
  }
}

}  // namespace

double parse_walltime(const std::string& text) {
  // Accepted: "3600", "90.5", "45:00", "12:00:00", "1-12:00:00".
  if (text.empty()) throw std::invalid_argument("empty wall time");
  std::string rest = text;
  double days = 0;
  if (const auto dash = rest.find('-'); dash != std::string::npos) {
    if (dash == 0) throw std::invalid_argument("negative wall time");
    days = std::stod(rest.substr(0, dash));
    rest = rest.substr(dash + 1);
  }
  std::vector<double> fields;
  std::stringstream parts(rest);
  for (std::string field; std::getline(parts, field, ':');) {
    size_t used = 0;
    const double value = std::stod(field, &used);
    if (used != field.size() || !std::isfinite(value) || value < 0) throw std::invalid_argument(text);
    fields.push_back(value);
  }
  if (fields.empty() || fields.size() > 3 || (days > 0 && fields.size() != 3)) throw std::invalid_argument(text);
  double seconds = 0;
  for (double f : fields) seconds = seconds * 60 + f;
  return seconds + days * 86400;
}

namespace {
// The 1-based line of the first byte of `text` that is not valid UTF-8, or 0.
// YAML is UTF-8; yaml-cpp passes other bytes through into paths, HDF5
// attributes and JSON (which then cannot be written).
int invalid_utf8_line(const std::string& text) {
  int line = 1;
  for (size_t i = 0; i < text.size();) {
    const auto byte = static_cast<unsigned char>(text[i]);
    const size_t length = byte < 0x80            ? 1
                          : (byte >> 5) == 0x6   ? 2
                          : (byte >> 4) == 0xe   ? 3
                          : (byte >> 3) == 0x1e  ? 4
                                                 : 0;
    if (length == 0 || i + length > text.size()) return line;
    for (size_t k = 1; k < length; ++k) {
      if ((static_cast<unsigned char>(text[i + k]) >> 6) != 0x2) return line;
    }
    if (byte == '\n') ++line;
    i += length;
  }
  return 0;
}
}  // namespace

Config parse_config(const std::string& yaml_text, const std::string& origin,
                    const std::vector<std::string>& overrides) {
  if (const int line = invalid_utf8_line(yaml_text)) {
    throw ConfigError(origin + ":" + std::to_string(line) + ": not UTF-8 text (YAML files are UTF-8)");
  }
  for (const std::string& assignment : overrides) {
    if (invalid_utf8_line(assignment)) throw ConfigError("--set " + assignment + ": not UTF-8 text");
  }
  YAML::Node root;
  try {
    const std::vector<YAML::Node> documents = YAML::LoadAll(yaml_text);
    // A second document ('---') would be ignored without a word.
    if (documents.size() > 1) {
      throw ConfigError(origin + ": holds " + std::to_string(documents.size()) +
                        " YAML documents (separated by '---'); a configuration file holds one");
    }
    if (!documents.empty()) root = documents.front();
  } catch (const YAML::ParserException& e) {
    throw ConfigError(origin + ":" + std::to_string(e.mark.line + 1) + ": invalid YAML: " + e.msg);
  }
  if (root.IsNull()) root = YAML::Node(YAML::NodeType::Map);
  if (!root.IsMap()) throw ConfigError(origin + ": top level must be a mapping of sections");
  reject_unknown_and_repeated_keys(root, origin);

  std::set<std::string> overridden;
  for (const auto& assignment : overrides) {
    const std::string key = apply_override(root, assignment);
    // The later one would silently win (README: a repeated key is refused).
    if (!overridden.insert(key).second) throw ConfigError("--set " + assignment + ": " + key + " given twice");
  }

  const Locator in(root, origin, overridden);
  Config config;
  config.source_file = origin;
  // Pass 1: types. Every key given is stored; a required one must be there.
  std::set<std::string> given;
  for (const KeyBinding& key : key_bindings()) {
    const YAML::Node node = in.node(key.info);
    if (!node) {
      if (key.info.requirement == Requirement::Required) in.fail(key.info, "missing required key");
      continue;
    }
    if (node.IsNull()) in.fail(key.info, "empty value (give a value or leave the key out for its default)");
    if (auto error = key.decode(node, config)) in.fail(key.info, *error);
    given.insert(key.info.path);
  }
  derive_defaults(config, origin, given);
  // Pass 2: ranges, now that every key is known (checks may read others).
  for (const KeyBinding& key : key_bindings()) {
    const std::string violation = key.violation(config);
    if (!violation.empty()) in.fail(key.info, violation);
  }
  return config;
}

Config load_config(const std::string& path, const std::vector<std::string>& overrides) {
  std::ifstream file(path);
  if (!file) throw ConfigError(path + ": cannot open configuration file");
  std::stringstream text;
  text << file.rdbuf();
  return parse_config(text.str(), path, overrides);
}

std::string Config::resolved_yaml() const {
  YAML::Emitter out;
  out.SetDoublePrecision(17);
  out << YAML::BeginMap;
  std::string section;
  for (const KeyBinding& key : key_bindings()) {
    if (key.info.section != section) {
      if (!section.empty()) out << YAML::EndMap;
      section = key.info.section;
      out << YAML::Key << section << YAML::Value << YAML::BeginMap;
    }
    out << YAML::Key << key.info.path.substr(section.size() + 1) << YAML::Value;
    key.emit(out, *this);
  }
  out << YAML::EndMap << YAML::EndMap;
  return std::string(out.c_str()) + "\n";
}

}  // namespace flowlat
