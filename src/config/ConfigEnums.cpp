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
const std::vector<std::pair<const char*, GpuSharing>>& enum_names<GpuSharing>() {
  static const std::vector<std::pair<const char*, GpuSharing>> names{{"refuse", GpuSharing::Refuse},
                                                                     {"allow", GpuSharing::Allow}};
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

template <>
const std::vector<std::pair<const char*, HmcTuning>>& enum_names<HmcTuning>() {
  static const std::vector<std::pair<const char*, HmcTuning>> names{{"off", HmcTuning::Off}, {"auto", HmcTuning::Auto}};
  return names;
}

template <>
const std::vector<std::pair<const char*, CouplingKind>>& enum_names<CouplingKind>() {
  static const std::vector<std::pair<const char*, CouplingKind>> names{{"affine", CouplingKind::Affine},
                                                                       {"spline", CouplingKind::Spline}};
  return names;
}

template <>
const std::vector<std::pair<const char*, FourierLayerKind>>& enum_names<FourierLayerKind>() {
  static const std::vector<std::pair<const char*, FourierLayerKind>> names{
      {"none", FourierLayerKind::None}, {"diagonal", FourierLayerKind::Diagonal},
      {"symmetric", FourierLayerKind::Symmetric}};
  return names;
}

template <>
const std::vector<std::pair<const char*, OdeLayerKind>>& enum_names<OdeLayerKind>() {
  static const std::vector<std::pair<const char*, OdeLayerKind>> names{{"none", OdeLayerKind::None},
                                                                       {"global", OdeLayerKind::Global}};
  return names;
}

template <>
const std::vector<std::pair<const char*, Equivariance>>& enum_names<Equivariance>() {
  static const std::vector<std::pair<const char*, Equivariance>> names{{"none", Equivariance::None},
                                                                       {"z2", Equivariance::Z2}};
  return names;
}

template <>
const std::vector<std::pair<const char*, Symmetrisation>>& enum_names<Symmetrisation>() {
  static const std::vector<std::pair<const char*, Symmetrisation>> names{{"none", Symmetrisation::None},
                                                                         {"z2", Symmetrisation::Z2}};
  return names;
}

template <>
const std::vector<std::pair<const char*, GradientEstimator>>& enum_names<GradientEstimator>() {
  static const std::vector<std::pair<const char*, GradientEstimator>> names{{"reparam", GradientEstimator::Reparam},
                                                                            {"path", GradientEstimator::Path}};
  return names;
}

template <>
const std::vector<std::pair<const char*, LrSchedule>>& enum_names<LrSchedule>() {
  static const std::vector<std::pair<const char*, LrSchedule>> names{
      {"constant", LrSchedule::Constant}, {"step", LrSchedule::Step}, {"cosine", LrSchedule::Cosine}};
  return names;
}

const char* to_string(DeviceKind kind) { return ValueCodec<DeviceKind>::name_of(kind); }
const char* to_string(Precision precision) { return ValueCodec<Precision>::name_of(precision); }
const char* to_string(ResumeMode mode) { return ValueCodec<ResumeMode>::name_of(mode); }
const char* to_string(HmcIntegrator integrator) { return ValueCodec<HmcIntegrator>::name_of(integrator); }
const char* to_string(CouplingKind kind) { return ValueCodec<CouplingKind>::name_of(kind); }
const char* to_string(GradientEstimator estimator) { return ValueCodec<GradientEstimator>::name_of(estimator); }
const char* to_string(LrSchedule schedule) { return ValueCodec<LrSchedule>::name_of(schedule); }

}  // namespace flowlat
