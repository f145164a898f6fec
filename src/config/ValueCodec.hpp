#pragma once
// How a value of each C++ type of the configuration is read from a YAML
// node, written to the resolved YAML and shown in messages. Internal to
// src/config (KeyBinding).
#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <optional>
#include <sstream>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "config/Config.hpp"
#include "config/ConfigKeys.hpp"

namespace flowlat {

// YAML names of an enum's values, in order. Defined in ConfigEnums.cpp.
template <typename E>
const std::vector<std::pair<const char*, E>>& enum_names();
template <>
const std::vector<std::pair<const char*, DeviceKind>>& enum_names<DeviceKind>();
template <>
const std::vector<std::pair<const char*, GpuSharing>>& enum_names<GpuSharing>();
template <>
const std::vector<std::pair<const char*, Precision>>& enum_names<Precision>();
template <>
const std::vector<std::pair<const char*, ResumeMode>>& enum_names<ResumeMode>();
template <>
const std::vector<std::pair<const char*, HmcIntegrator>>& enum_names<HmcIntegrator>();
template <>
const std::vector<std::pair<const char*, HmcTuning>>& enum_names<HmcTuning>();
template <>
const std::vector<std::pair<const char*, CouplingKind>>& enum_names<CouplingKind>();
template <>
const std::vector<std::pair<const char*, FourierLayerKind>>& enum_names<FourierLayerKind>();
template <>
const std::vector<std::pair<const char*, OdeLayerKind>>& enum_names<OdeLayerKind>();
template <>
const std::vector<std::pair<const char*, Equivariance>>& enum_names<Equivariance>();
template <>
const std::vector<std::pair<const char*, Symmetrisation>>& enum_names<Symmetrisation>();
template <>
const std::vector<std::pair<const char*, GradientEstimator>>& enum_names<GradientEstimator>();
template <>
const std::vector<std::pair<const char*, LrSchedule>>& enum_names<LrSchedule>();

// "a or b", "one of a, b, c": the allowed names for messages. Local.
std::string describe_choices(const std::vector<std::string>& names);
// "a, b, c": the allowed names for the key table. Local.
std::string join_names(const std::vector<std::string>& names);

// "must be an integer (got 'many')": the message for a node of the wrong
// type. Local.
std::string wrong_type_message(ValueKind kind, const YAML::Node& node);

template <typename T>
std::string show_value(const T& value) {
  std::ostringstream text;
  text << value;
  return text.str();
}

template <typename T, typename Enable = void>
struct ValueCodec;

// Each codec: kind, decode (nullopt on success, else the whole message
// "must be ... (got ...)"), emit into the resolved YAML.
template <>
struct ValueCodec<int64_t> {
  static constexpr ValueKind kind = ValueKind::Integer;
  static std::optional<std::string> decode(const YAML::Node& node, int64_t& out);
  static void emit(YAML::Emitter& out, int64_t value) { out << value; }
};

// Seeds: integers >= 0 kept unsigned.
template <>
struct ValueCodec<uint64_t> {
  static constexpr ValueKind kind = ValueKind::Integer;
  static std::optional<std::string> decode(const YAML::Node& node, uint64_t& out);
  static void emit(YAML::Emitter& out, uint64_t value) { out << value; }
};

template <>
struct ValueCodec<double> {
  static constexpr ValueKind kind = ValueKind::Real;
  static std::optional<std::string> decode(const YAML::Node& node, double& out);
  static void emit(YAML::Emitter& out, double value) { out << value; }
};

template <>
struct ValueCodec<bool> {
  static constexpr ValueKind kind = ValueKind::Boolean;
  static std::optional<std::string> decode(const YAML::Node& node, bool& out);
  static void emit(YAML::Emitter& out, bool value) { out << value; }
};

template <>
struct ValueCodec<std::string> {
  static constexpr ValueKind kind = ValueKind::String;
  static std::optional<std::string> decode(const YAML::Node& node, std::string& out);
  static void emit(YAML::Emitter& out, const std::string& value) { out << value; }
};

template <>
struct ValueCodec<std::vector<int64_t>> {
  static constexpr ValueKind kind = ValueKind::IntegerList;
  static std::optional<std::string> decode(const YAML::Node& node, std::vector<int64_t>& out);
  static void emit(YAML::Emitter& out, const std::vector<int64_t>& values) {
    out << YAML::Flow << YAML::BeginSeq;
    for (int64_t v : values) out << v;
    out << YAML::EndSeq;
  }
};

template <>
struct ValueCodec<WallTime> {
  static constexpr ValueKind kind = ValueKind::Duration;
  static std::optional<std::string> decode(const YAML::Node& node, WallTime& out);
  static void emit(YAML::Emitter& out, const WallTime& value) { out << value.seconds; }
};

template <typename E>
struct ValueCodec<E, std::enable_if_t<std::is_enum_v<E>>> {
  static constexpr ValueKind kind = ValueKind::Choice;
  static std::optional<std::string> decode(const YAML::Node& node, E& out) {
    if (!node.IsScalar()) return wrong_type_message(ValueKind::String, node);
    for (const auto& [name, value] : enum_names<E>()) {
      if (node.Scalar() == name) {
        out = value;
        return std::nullopt;
      }
    }
    return "must be " + describe_choices(names()) + " (got '" + node.Scalar() + "')";
  }
  static void emit(YAML::Emitter& out, E value) { out << name_of(value); }
  static const char* name_of(E value) {
    for (const auto& [name, candidate] : enum_names<E>()) {
      if (candidate == value) return name;
    }
    return "?";
  }
  static std::vector<std::string> names() {
    std::vector<std::string> all;
    for (const auto& entry : enum_names<E>()) all.emplace_back(entry.first);
    return all;
  }
};

// A list of names; a single name stands for a list of one.
template <typename E>
struct ValueCodec<std::vector<E>, std::enable_if_t<std::is_enum_v<E>>> {
  static constexpr ValueKind kind = ValueKind::ChoiceList;
  static std::optional<std::string> decode(const YAML::Node& node, std::vector<E>& out) {
    std::vector<E> values;
    if (node.IsScalar()) {
      E value{};
      if (auto error = ValueCodec<E>::decode(node, value)) return error;
      values.push_back(value);
    } else if (node.IsSequence() && node.size() > 0) {
      for (const auto& item : node) {
        E value{};
        if (auto error = ValueCodec<E>::decode(item, value)) return error;
        values.push_back(value);
      }
    } else {
      return "must be a name or a non-empty list of names (" + join_names(ValueCodec<E>::names()) + ")";
    }
    out = std::move(values);
    return std::nullopt;
  }
  static void emit(YAML::Emitter& out, const std::vector<E>& values) {
    out << YAML::Flow << YAML::BeginSeq;
    for (E value : values) out << ValueCodec<E>::name_of(value);
    out << YAML::EndSeq;
  }
  static std::vector<std::string> names() { return ValueCodec<E>::names(); }
};

}  // namespace flowlat
