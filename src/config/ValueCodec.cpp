#include "config/ValueCodec.hpp"

#include <limits>

namespace flowlat {
namespace {

template <typename T>
std::optional<std::string> scalar(const YAML::Node& node, ValueKind kind, T& out) {
  if (!node.IsScalar()) return wrong_type_message(kind, node);
  try {
    out = node.as<T>();
  } catch (const YAML::Exception&) {
    return wrong_type_message(kind, node);
  }
  return std::nullopt;
}

}  // namespace

std::string describe_choices(const std::vector<std::string>& names) {
  if (names.size() == 1) return names[0];
  if (names.size() == 2) return names[0] + " or " + names[1];
  return "one of " + join_names(names);
}

std::string join_names(const std::vector<std::string>& names) {
  std::string text;
  for (const std::string& name : names) text += (text.empty() ? "" : ", ") + name;
  return text;
}

std::string wrong_type_message(ValueKind kind, const YAML::Node& node) {
  std::string text = std::string("must be ") + to_string(kind) + " (got ";
  if (node.IsScalar()) {
    text += "'" + node.Scalar() + "'";
  } else {
    text += node.IsSequence() ? "a list" : "a mapping";
  }
  return text + ")";
}

std::optional<std::string> ValueCodec<int64_t>::decode(const YAML::Node& node, int64_t& out) {
  return scalar(node, kind, out);
}

std::optional<std::string> ValueCodec<uint64_t>::decode(const YAML::Node& node, uint64_t& out) {
  int64_t value = 0;
  if (auto error = scalar(node, kind, value)) return error;
  if (value < 0) return "must be >= 0 (got " + std::to_string(value) + ")";
  out = static_cast<uint64_t>(value);
  return std::nullopt;
}

std::optional<std::string> ValueCodec<double>::decode(const YAML::Node& node, double& out) {
  return scalar(node, kind, out);
}

std::optional<std::string> ValueCodec<bool>::decode(const YAML::Node& node, bool& out) {
  return scalar(node, kind, out);
}

std::optional<std::string> ValueCodec<std::string>::decode(const YAML::Node& node, std::string& out) {
  if (!node.IsScalar()) return wrong_type_message(kind, node);
  out = node.Scalar();
  return std::nullopt;
}

std::optional<std::string> ValueCodec<std::vector<int64_t>>::decode(const YAML::Node& node,
                                                                     std::vector<int64_t>& out) {
  if (!node.IsSequence()) return wrong_type_message(kind, node);
  std::vector<int64_t> values;
  for (const auto& item : node) {
    int64_t value = 0;
    if (!item.IsScalar() || scalar(item, kind, value)) return wrong_type_message(kind, node);
    values.push_back(value);
  }
  out = std::move(values);
  return std::nullopt;
}

std::optional<std::string> ValueCodec<WallTime>::decode(const YAML::Node& node, WallTime& out) {
  const std::string allowed = "must be seconds or [D-]HH:MM:SS, >= 0; 0 means no limit";
  if (!node.IsScalar()) return allowed + " (got " + (node.IsSequence() ? "a list" : "a mapping") + ")";
  try {
    out.seconds = parse_walltime(node.Scalar());
  } catch (const std::exception&) {
    return allowed + " (got '" + node.Scalar() + "')";
  }
  return std::nullopt;
}

}  // namespace flowlat
