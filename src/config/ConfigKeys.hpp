#pragma once
// What `flowlat keys`, "did you mean", the restart rules and the tests know
// about each configuration key: read off the section tables
// (config/keys/<section>.def), the only place a key is defined.
#include <string>
#include <vector>

#include "config/Config.hpp"

namespace flowlat {

enum class ValueKind { Integer, Real, Boolean, String, IntegerList, Choice, ChoiceList, Duration };

struct KeyInfo {
  std::string path;          // "train.lr"
  std::string section;       // "train"
  ValueKind kind;
  Requirement requirement;
  Changeable changeable;     // restarts on which it may differ
  std::string allowed;       // ">= 1", "cpu, cuda, auto"; empty: any value of the type
  std::string help;
  std::string default_text;  // canonical YAML of the default ("" when required or derived)
};

// Every key, sections in order (lattice, action, flow, train, run, sample,
// hmc, ti), keys in table order. Local.
const std::vector<KeyInfo>& config_keys();
// The section names in order. Local.
const std::vector<std::string>& config_sections();
// The key named `path`, or nullptr. Local.
const KeyInfo* find_key(const std::string& path);
// The valid key or section closest in edit distance to `path` (for "did
// you mean"). Local.
std::string nearest_key(const std::string& path);
// "an integer", "a number", ... for messages. Local.
const char* to_string(ValueKind kind);

// The keys that may differ from the stored configuration on `restart`,
// comma-separated, a section whose every key may as "section.*" (for the
// messages that refuse a changed --resume). Local.
std::string changeable_keys(Changeable restart);

// The key table as text for `flowlat keys`: Markdown (the README's table)
// or one block per key. Local.
enum class KeyTableStyle { Markdown, Text };
std::string key_table(KeyTableStyle style, const std::string& section = "");

}  // namespace flowlat
