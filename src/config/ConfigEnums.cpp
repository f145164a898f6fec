// The YAML names of the configuration's enums: the only place they are
// spelled (parsing, printing, `flowlat keys`).
#include "config/ValueCodec.hpp"

namespace flowlat {

template <>
const std::vector<std::pair<const char*, DeviceKind>>& enum_names<DeviceKind>() {
  static const std::vector<std::pair<const char*, DeviceKind>> names{
      {"cpu", DeviceKind::Cpu}, {"cuda", DeviceKind::Cuda}, {"auto", DeviceKind::Auto}};
  return names;
}

template <>
const std::vector<std::pair<const char*, Precision>>& enum_names<Precision>() {
  static const std::vector<std::pair<const char*, Precision>> names{{"float32", Precision::Float32},
                                                                    {"float64", Precision::Float64}};
  return names;
}

template <>
const std::vector<std::pair<const char*, ResumeMode>>& enum_names<ResumeMode>() {
  static const std::vector<std::pair<const char*, ResumeMode>> names{{"never", ResumeMode::Never},
                                                                     {"auto", ResumeMode::Auto}};
  return names;
}

template <>
const std::vector<std::pair<const char*, HmcIntegrator>>& enum_names<HmcIntegrator>() {
  static const std::vector<std::pair<const char*, HmcIntegrator>> names{{"leapfrog", HmcIntegrator::Leapfrog},
                                                                        {"omelyan", HmcIntegrator::Omelyan}};
  return names;
}

const char* to_string(DeviceKind kind) { return ValueCodec<DeviceKind>::name_of(kind); }
const char* to_string(Precision precision) { return ValueCodec<Precision>::name_of(precision); }
const char* to_string(ResumeMode mode) { return ValueCodec<ResumeMode>::name_of(mode); }
const char* to_string(HmcIntegrator integrator) { return ValueCodec<HmcIntegrator>::name_of(integrator); }

}  // namespace flowlat
