#include "config/ConfigKeys.hpp"

#include <algorithm>
#include <limits>
#include <sstream>

#include "config/KeyBinding.hpp"

namespace flowlat {

const std::vector<KeyBinding>& key_bindings() {
#define FLOWLAT_KEY(section, name, Type, default_value, requirement, check, changeable, help)            \
  make_key<Type>(#section, #name, [](Config& c) -> Type& { return c.section.name; }, requirement, check, \
                 changeable, help),
  static const std::vector<KeyBinding> bindings{
#include "config/keys/lattice.def"
#include "config/keys/action.def"
#include "config/keys/flow.def"
#include "config/keys/train.def"
#include "config/keys/run.def"
#include "config/keys/sample.def"
#include "config/keys/hmc.def"
#include "config/keys/ti.def"
  };
#undef FLOWLAT_KEY
  return bindings;
}

const std::vector<KeyInfo>& config_keys() {
  static const std::vector<KeyInfo> keys = [] {
    const Config defaults;
    std::vector<KeyInfo> infos;
    for (const KeyBinding& key : key_bindings()) {
      KeyInfo info = key.info;
      if (info.requirement == Requirement::Optional) {
        YAML::Emitter out;
        out.SetDoublePrecision(17);
        key.emit(out, defaults);
        info.default_text = out.c_str();
      }
      infos.push_back(std::move(info));
    }
    return infos;
  }();
  return keys;
}

const std::vector<std::string>& config_sections() {
  static const std::vector<std::string> sections = [] {
    std::vector<std::string> names;
    for (const KeyInfo& key : config_keys()) {
      if (names.empty() || names.back() != key.section) names.push_back(key.section);
    }
    return names;
  }();
  return sections;
}

const KeyInfo* find_key(const std::string& path) {
  for (const KeyInfo& key : config_keys()) {
    if (key.path == path) return &key;
  }
  return nullptr;
}

namespace {
size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] != b[j - 1] ? 1 : 0)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

std::string shown_default(const KeyInfo& key) {
  switch (key.requirement) {
    case Requirement::Required: return "required";
    case Requirement::Derived: return "derived";
    case Requirement::Optional: break;
  }
  return key.default_text.empty() ? "\"\"" : key.default_text;
}
}  // namespace

std::string nearest_key(const std::string& path) {
  std::string best;
  size_t best_distance = std::numeric_limits<size_t>::max();
  auto consider = [&](const std::string& candidate) {
    const size_t d = edit_distance(path, candidate);
    if (d < best_distance) {
      best_distance = d;
      best = candidate;
    }
  };
  for (const KeyInfo& key : config_keys()) consider(key.path);
  // Sections are candidates too ("trian" -> "train").
  for (const std::string& section : config_sections()) consider(section);
  return best;
}

const char* to_string(ValueKind kind) {
  switch (kind) {
    case ValueKind::Integer: return "an integer";
    case ValueKind::Real: return "a number";
    case ValueKind::Boolean: return "true or false";
    case ValueKind::String: return "a string";
    case ValueKind::IntegerList: return "a list of integers";
    case ValueKind::Choice: return "one of the names allowed";
    case ValueKind::ChoiceList: return "a name or a list of names";
    case ValueKind::Duration: return "seconds or [D-]HH:MM:SS";
  }
  return "?";
}

namespace {

// "train, sample, hmc": the --resume of which commands may change a key. Local.
std::string restarts(Changeable changeable) {
  std::string names;
  for (const auto& [restart, name] : {std::pair{Changeable::OnTrainResume, "train"},
                                      std::pair{Changeable::OnSampleResume, "sample"},
                                      std::pair{Changeable::OnHmcResume, "hmc"}}) {
    if (includes(changeable, restart)) names += (names.empty() ? "" : ", ") + std::string(name);
  }
  return names.empty() ? "none" : names;
}

}  // namespace

std::string changeable_keys(Changeable restart) {
  std::string list;
  for (const std::string& section : config_sections()) {
    std::vector<std::string> changeable;
    size_t keys = 0;
    for (const KeyInfo& key : config_keys()) {
      if (key.section != section) continue;
      ++keys;
      if (includes(key.changeable, restart)) changeable.push_back(key.path);
    }
    if (changeable.size() == keys) changeable = {section + ".*"};
    for (const std::string& key : changeable) list += (list.empty() ? "" : ", ") + key;
  }
  return list;
}

std::string key_table(KeyTableStyle style, const std::string& section) {
  static const char* kTypeNames[] = {"int", "number", "bool", "string", "list of int", "name", "names", "duration"};
  std::ostringstream text;
  if (style == KeyTableStyle::Markdown) {
    text << "| key | type | default | allowed | --resume may change it | meaning |\n"
            "| --- | --- | --- | --- | --- | --- |\n";
  }
  for (const KeyInfo& key : config_keys()) {
    if (!section.empty() && key.section != section) continue;
    const char* type = kTypeNames[static_cast<int>(key.kind)];
    if (style == KeyTableStyle::Markdown) {
      text << "| `" << key.path << "` | " << type << " | " << shown_default(key) << " | " << key.allowed << " | "
           << restarts(key.changeable) << " | " << key.help << " |\n";
    } else {
      text << key.path << " (" << type << ", default " << shown_default(key) << ")"
           << (key.allowed.empty() ? "" : "; allowed: " + key.allowed)
           << "; --resume may change it: " << restarts(key.changeable) << "\n    " << key.help << "\n";
    }
  }
  return text.str();
}

}  // namespace flowlat
