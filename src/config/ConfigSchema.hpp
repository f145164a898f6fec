#pragma once
// The table of every valid key: its type, whether it is required, and its
// default. Unknown keys are found against it and get the nearest valid name.
#include <string>
#include <vector>

namespace flowlat {

enum class ValueKind { Integer, Real, Boolean, String, IntegerList };
enum class Requirement { Required, Optional };

struct KeySpec {
  std::string path;  // "train.lr"
  ValueKind kind;
  Requirement requirement;
};

const std::vector<KeySpec>& config_schema();
const KeySpec* find_key(const std::string& path);
// The valid key closest in edit distance to `path` (for "did you mean").
std::string nearest_key(const std::string& path);
const char* to_string(ValueKind kind);

}  // namespace flowlat
