#pragma once
// The parameter store: parsed from YAML (plus --set overrides), validated,
// then frozen. Every output records resolved_yaml(), and restarts compare it.
#include <cstdint>
#include <string>
#include <vector>

namespace flowlat {

enum class DeviceKind { Cpu, Cuda, Auto };
enum class Precision { Float32, Float64 };
enum class ResumeMode { Never, Auto };  // run.resume: auto continues from the newest valid checkpoint

struct LatticeConfig {
  std::vector<int64_t> shape;  // each extent even, 1 <= d <= 3
};

struct ActionConfig {
  std::string kind;  // "phi4"
  double m2 = 0.0;
  double lambda = 0.0;
};

struct FlowConfig {
  int64_t n_layers = 16;
  std::vector<int64_t> hidden_channels{8, 8};
  int64_t kernel_size = 3;
  bool final_tanh = true;
};

struct TrainConfig {
  int64_t steps = 2500;
  int64_t batch_size = 64;  // global batch, split across ranks
  double lr = 1.0e-3;
  uint64_t seed = 1234;
  int64_t log_every = 100;
  int64_t check_every = 100;        // cross-rank parameter checksum period
  int64_t max_skipped_steps = 10;   // consecutive non-finite steps before giving up
  int64_t checkpoint_every = 500;
};

struct RunConfig {
  std::string output_dir;
  DeviceKind device = DeviceKind::Auto;
  Precision precision = Precision::Float32;
  int64_t threads_per_rank = 1;
  ResumeMode resume = ResumeMode::Never;
  double max_walltime_seconds = 0.0;  // 0: no limit; else stop resumably before this much wall time
};

struct SampleConfig {
  int64_t n_configs = 65536;
  int64_t batch_size = 1024;
  uint64_t seed = 4321;
  uint64_t mcmc_seed = 8765;
  bool store_configs = true;
  std::string output = "ensemble.h5";  // relative to run.output_dir
};

// The HMC baseline (`flowlat hmc`): MPI ranks run independent chains.
struct HmcConfig {
  int64_t n_trajectories = 10000;   // measured trajectories per chain
  int64_t n_thermalization = 1000;  // discarded trajectories per chain before them
  double step_size = 0.1;           // trajectory length = step_size * n_md_steps
  int64_t n_md_steps = 10;
  std::string integrator = "omelyan";  // leapfrog | omelyan
  int64_t n_chains = 16;            // chains per rank, evolved as one batch
  uint64_t seed = 2468;
  std::string output = "hmc.h5";    // relative to run.output_dir
};

struct Config {
  std::string source_file;  // where it was read from (for messages)
  LatticeConfig lattice;
  ActionConfig action;
  FlowConfig flow;
  TrainConfig train;
  RunConfig run;
  SampleConfig sample;
  HmcConfig hmc;

  // Canonical YAML of every key, defaults included. Local.
  std::string resolved_yaml() const;
};

// Parses and validates `path` with `overrides` ("key.path=value", YAML
// values) applied first. Throws ConfigError naming file, key and line. Local.
Config load_config(const std::string& path, const std::vector<std::string>& overrides = {});

// The same from YAML text already in memory; `origin` names it in messages.
Config parse_config(const std::string& yaml_text, const std::string& origin,
                    const std::vector<std::string>& overrides = {});

const char* to_string(DeviceKind kind);
const char* to_string(Precision precision);
const char* to_string(ResumeMode mode);
// "[D-]HH:MM:SS", "MM:SS" or plain seconds -> seconds; throws std::invalid_argument. Local.
double parse_walltime(const std::string& text);

}  // namespace flowlat
