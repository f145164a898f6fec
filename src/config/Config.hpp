#pragma once
// The parameter store: parsed from YAML (plus --set overrides), validated,
// then frozen. Every output records resolved_yaml(), and restarts compare it.
//
// The keys of each section are one table, src/config/keys/<section>.def:
// one row per key gives its C++ field, default, check, resume policy and
// help text. The section structs below, the parser, the resolved YAML,
// `flowlat keys` and the restart rules are all generated from those rows,
// so adding a key is one row.
#include <cstdint>
#include <string>
#include <vector>

namespace flowlat {

enum class DeviceKind { Cpu, Cuda, Auto };
// More ranks on a node than GPUs they can see (run.gpu_sharing).
enum class GpuSharing { Refuse, Allow };
enum class Precision { Float32, Float64 };
enum class ResumeMode { Never, Auto };  // run.resume: auto continues from the newest valid checkpoint
// Molecular-dynamics integrator of one HMC trajectory.
//   Leapfrog: 1 force evaluation per step, dH = O(step^2).
//   Omelyan:  2nd-order minimum-norm (lambda = 0.1931833...), 2 force
//             evaluations per step, a ~10x smaller dH coefficient.
enum class HmcIntegrator { Leapfrog, Omelyan };
// HMC self-tuning during thermalisation (hmc.tune).
enum class HmcTuning { Off, Auto };
// The transformation of a coupling layer's active sites.
//   Affine: phi' = exp(s) phi + t (the tutorial's real NVP).
//   Spline: a monotone rational-quadratic spline (Durkan et al. 2019).
enum class CouplingKind { Affine, Spline };
// A learned linear layer diagonal in momentum space before the couplings;
// Symmetric: its spectrum also invariant under the lattice's rotations and
// reflections (the same on momenta the point group relates).
enum class FourierLayerKind { None, Diagonal, Symmetric };
// A continuous (neural-ODE) layer after the Fourier layer; Global: its
// velocity a whole-lattice kernel invariant under the lattice symmetries
// (flow/OdeLayer).
enum class OdeLayerKind { None, Global };
// Z2 (phi -> -phi) built into the couplings: every layer odd.
enum class Equivariance { None, Z2 };
// Z2 by averaging: q_s(phi) = (q(phi) + q(-phi)) / 2.
enum class Symmetrisation { None, Z2 };
// Gradient of the reverse KL: through the sample and the density
// (reparameterisation), or through the sample only (path gradient).
enum class GradientEstimator { Reparam, Path };
enum class LrSchedule { Constant, Step, Cosine };

// run.max_walltime: written as seconds or [D-]HH:MM:SS, kept in seconds.
struct WallTime {
  double seconds = 0.0;  // 0: no limit
};

// Whether a resolved default is a plain value, must be given, or is
// derived from other input (run.output_dir from the file name).
enum class Requirement { Required, Optional, Derived };

// The restarts on which a key may differ from the stored configuration
// (README: checkpoints and restart). A bit set.
enum class Changeable : unsigned {
  Never = 0,
  OnTrainResume = 1,   // flowlat train --resume (checkpoint)
  OnSampleResume = 2,  // flowlat sample --resume (ensemble file)
  OnHmcResume = 4,     // flowlat hmc --resume (HMC ensemble file)
  Always = 7,
};
constexpr Changeable operator|(Changeable a, Changeable b) {
  return static_cast<Changeable>(static_cast<unsigned>(a) | static_cast<unsigned>(b));
}
constexpr bool includes(Changeable set, Changeable one) {
  return (static_cast<unsigned>(set) & static_cast<unsigned>(one)) != 0;
}

// The section structs, one field per row of the section's table.
#define FLOWLAT_KEY(section, name, Type, default_value, ...) Type name = default_value;
struct LatticeConfig {
#include "config/keys/lattice.def"
};
struct ActionConfig {
#include "config/keys/action.def"
};
struct FlowConfig {
#include "config/keys/flow.def"
};
struct TrainConfig {
#include "config/keys/train.def"
};
struct RunConfig {
#include "config/keys/run.def"
};
struct SampleConfig {
#include "config/keys/sample.def"
};
struct HmcConfig {
#include "config/keys/hmc.def"
};
struct TiConfig {
#include "config/keys/ti.def"
};
#undef FLOWLAT_KEY

struct Config {
  std::string source_file;  // where it was read from (for messages)
  LatticeConfig lattice;
  ActionConfig action;
  FlowConfig flow;
  TrainConfig train;
  RunConfig run;
  SampleConfig sample;
  HmcConfig hmc;
  TiConfig ti;

  // Canonical YAML of every key, defaults included, in table order. Local.
  std::string resolved_yaml() const;
};

// Parses and validates `path` with `overrides` ("key.path=value", YAML
// values) applied first. Throws ConfigError naming file, key and line. Local.
Config load_config(const std::string& path, const std::vector<std::string>& overrides = {});

// The same from YAML text already in memory; `origin` names it in messages.
Config parse_config(const std::string& yaml_text, const std::string& origin,
                    const std::vector<std::string>& overrides = {});

// Names of enum values as written in YAML ("cpu", "float32", ...). Local.
const char* to_string(DeviceKind kind);
const char* to_string(Precision precision);
const char* to_string(ResumeMode mode);
const char* to_string(HmcIntegrator integrator);
const char* to_string(CouplingKind kind);
const char* to_string(GradientEstimator estimator);
const char* to_string(LrSchedule schedule);
// "[D-]HH:MM:SS", "MM:SS" or plain seconds -> seconds; throws std::invalid_argument. Local.
double parse_walltime(const std::string& text);

}  // namespace flowlat
