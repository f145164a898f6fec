// The YAML schema: defaults, the resolved form, and one clear message per
// kind of bad input (file, key, line, allowed range).
#include <gtest/gtest.h>
#include <filesystem>

#include "config/Config.hpp"
#include "config/ConfigErrorOf.hpp"
#include "config/ConfigError.hpp"

namespace flowlat {
namespace {

const std::string kValid =
    "lattice: {shape: [8, 8]}\n"
    "action:  {kind: phi4, m2: -4.0, lambda: 8.0}\n"
    "flow:    {n_layers: 16, hidden_channels: [8, 8], kernel_size: 3, final_tanh: true}\n"
    "train:   {steps: 2500, batch_size: 64, lr: 1.0e-3, seed: 1234, log_every: 100}\n"
    "run:     {output_dir: runs/phi4_L8, device: auto, precision: float32, threads_per_rank: 1}\n";

using testing::error_of;

TEST(Config, ParsesTheIssueExampleAndFillsDefaults) {
  const Config c = parse_config(kValid, "cfg.yaml");
  EXPECT_EQ(c.lattice.shape, (std::vector<int64_t>{8, 8}));
  EXPECT_EQ(c.action.m2, -4.0);
  EXPECT_EQ(c.flow.hidden_channels, (std::vector<int64_t>{8, 8}));
  EXPECT_EQ(c.train.lr, 1.0e-3);
  EXPECT_EQ(c.run.precision, Precision::Float32);
  EXPECT_EQ(c.train.check_every, 100);  // default
  const Config minimal = parse_config("lattice: {shape: [4]}\naction: {kind: phi4, m2: 1, lambda: 0}\n", "dir/free.yaml");
  EXPECT_EQ(minimal.run.output_dir, "runs/free");
  EXPECT_EQ(minimal.flow.n_layers, 16);
}

TEST(Config, ResolvedYamlRoundTrips) {
  const Config c = parse_config(kValid, "cfg.yaml", {"train.lr=0.000123", "sample.store_configs=false"});
  const Config again = parse_config(c.resolved_yaml(), "resolved.yaml");
  EXPECT_EQ(again.resolved_yaml(), c.resolved_yaml());
  EXPECT_EQ(again.train.lr, 0.000123);
  EXPECT_FALSE(again.sample.store_configs);
}

TEST(Config, UnknownKeyNamesLineAndNearestKey) {
  const std::string yaml = "lattice: {shape: [8, 8]}\naction:\n  kind: phi4\n  m2: -4\n  lamda: 8\n";
  EXPECT_EQ(error_of(yaml), "cfg.yaml:5: unknown key 'action.lamda' (did you mean 'action.lambda'?)");
  EXPECT_EQ(error_of("trian: {steps: 3}\n"), "cfg.yaml:1: unknown key 'trian' (did you mean 'train'?)");
}

TEST(Config, WrongTypeNamesKeyAndLine) {
  EXPECT_EQ(error_of(kValid + "sample: {n_configs: many}\n"),
            "cfg.yaml:6: sample.n_configs: must be an integer (got 'many')");
  EXPECT_EQ(error_of("lattice: {shape: 8}\naction: {kind: phi4, m2: 1, lambda: 1}\n"),
            "cfg.yaml:1: lattice.shape: must be a list of integers (got '8')");
  EXPECT_EQ(error_of(kValid, {"flow.final_tanh=maybe"}),
            "--set flow.final_tanh: flow.final_tanh: must be true or false (got 'maybe')");
}

TEST(Config, MissingRequiredKey) {
  EXPECT_EQ(error_of("lattice: {shape: [4, 4]}\naction: {kind: phi4, lambda: 1}\n"),
            "cfg.yaml:2: action.m2: missing required key");
  EXPECT_EQ(error_of("action: {kind: phi4, m2: 1, lambda: 1}\n"), "cfg.yaml: lattice.shape: missing required key");
}

TEST(Config, RangeErrorsStateTheAllowedRange) {
  EXPECT_EQ(error_of("lattice: {shape: [7, 8]}\naction: {kind: phi4, m2: 1, lambda: 1}\n"),
            "cfg.yaml:1: lattice.shape: every extent must be even and >= 2 (checkerboard masks) (got 7)");
  // Volumes past 2^30 sites, and extents whose product overflows 64 bits,
  // are refused naming the key, not inside LibTorch.
  EXPECT_EQ(error_of(kValid, {"lattice.shape=[65536, 32768]"}),
            "--set lattice.shape: lattice.shape: the volume must be at most 2^30 = 1073741824 sites (one "
            "configuration of more is beyond memory) (got [65536, 32768])");
  EXPECT_EQ(error_of(kValid, {"lattice.shape=[4611686018427387904, 4611686018427387904, 4]"}),
            "--set lattice.shape: lattice.shape: the volume must be at most 2^30 = 1073741824 sites (one "
            "configuration of more is beyond memory) (got [4611686018427387904, 4611686018427387904, 4])");
  EXPECT_EQ(error_of(kValid, {"train.batch_size=0"}),
            "--set train.batch_size: train.batch_size: must be >= 1 (got 0)");
  EXPECT_EQ(error_of(kValid, {"train.lr=-1e-3"}), "--set train.lr: train.lr: must be > 0 (got -0.001)");
  EXPECT_EQ(error_of(kValid, {"flow.n_layers=-1"}), "--set flow.n_layers: flow.n_layers: must be >= 0 (got -1)");
  EXPECT_EQ(error_of(kValid, {"run.precision=float16"}),
            "--set run.precision: run.precision: must be float32 or float64 (got 'float16')");
  EXPECT_EQ(error_of(kValid, {"flow.kernel_size=4"}),
            "--set flow.kernel_size: flow.kernel_size: must be odd, >= 1 and <= smallest extent + 1 (circular "
            "padding) (got 4)");
  EXPECT_NE(error_of(kValid, {"action.lambda=0", "action.m2=-1"}).find("must be > 0 when lambda = 0"),
            std::string::npos);
}

TEST(Config, BadOverridesAndSyntax) {
  EXPECT_EQ(error_of(kValid, {"train.lrr=1"}), "--set train.lrr=1: unknown key 'train.lrr' (did you mean 'train.lr'?)");
  EXPECT_EQ(error_of(kValid, {"train.lr"}), "--set train.lr: expected key.path=value");
  EXPECT_NE(error_of("lattice: {shape: [8, 8]\naction: x\n").find("cfg.yaml:"), std::string::npos);
  EXPECT_NE(error_of("lattice: {shape: [8, 8]\naction: x\n").find("invalid YAML"), std::string::npos);
}

TEST(Config, MissingFileIsAConfigError) {
  EXPECT_THROW(load_config("no/such/file.yaml"), ConfigError);
}

TEST(Config, HmcSectionDefaultsOverridesAndRanges) {
  const Config defaults = parse_config(kValid, "cfg.yaml");
  EXPECT_EQ(defaults.hmc.integrator, HmcIntegrator::Omelyan);
  EXPECT_EQ(defaults.hmc.n_md_steps, 10);
  const Config c = parse_config(kValid + "hmc: {step_size: 0.05, n_md_steps: 20, integrator: leapfrog}\n", "cfg.yaml",
                                {"hmc.n_chains=4"});
  EXPECT_EQ(c.hmc.step_size, 0.05);
  EXPECT_EQ(c.hmc.n_md_steps, 20);
  EXPECT_EQ(c.hmc.integrator, HmcIntegrator::Leapfrog);
  EXPECT_EQ(c.hmc.n_chains, 4);
  EXPECT_EQ(error_of(kValid + "hmc:\n  integrator: verlet\n"),
            "cfg.yaml:7: hmc.integrator: must be leapfrog or omelyan (got 'verlet')");
  EXPECT_EQ(error_of(kValid, {"hmc.step_size=0"}), "--set hmc.step_size: hmc.step_size: must be > 0 (got 0)");
  EXPECT_EQ(error_of(kValid + "hmc: {n_thermalization: -1}\n"),
            "cfg.yaml:6: hmc.n_thermalization: must be >= 0 (got -1)");
  EXPECT_EQ(error_of(kValid + "hmc: {n_md_step: 3}\n"),
            "cfg.yaml:6: unknown key 'hmc.n_md_step' (did you mean 'hmc.n_md_steps'?)");
  // The resolved form carries the section and reads back to the same values.
  const Config again = parse_config(c.resolved_yaml(), "resolved");
  EXPECT_EQ(again.resolved_yaml(), c.resolved_yaml());
  EXPECT_EQ(again.hmc.step_size, 0.05);
}

TEST(Config, ResumeModeAndWalltime) {
  EXPECT_EQ(parse_config(kValid, "cfg.yaml").run.resume, ResumeMode::Never);
  EXPECT_EQ(parse_config(kValid, "cfg.yaml").run.max_walltime.seconds, 0.0);
  const Config c = parse_config(kValid, "cfg.yaml", {"run.resume=auto", "run.max_walltime=1-02:03:04"});
  EXPECT_EQ(c.run.resume, ResumeMode::Auto);
  EXPECT_EQ(c.run.max_walltime.seconds, 86400.0 + 2 * 3600 + 3 * 60 + 4);
  EXPECT_EQ(parse_walltime("90.5"), 90.5);
  EXPECT_EQ(parse_walltime("45:00"), 2700.0);
  EXPECT_EQ(parse_walltime("12:00:00"), 43200.0);
  for (const char* bad : {"", "-5", "1:2:3:4", "1-30", "ten", "5s", "1:-2"}) {
    EXPECT_THROW(parse_walltime(bad), std::invalid_argument) << bad;
  }
  EXPECT_EQ(error_of(kValid, {"run.resume=always"}), "--set run.resume: run.resume: must be never or auto (got 'always')");
  EXPECT_EQ(error_of(kValid, {"run.max_walltime=2h"}),
            "--set run.max_walltime: run.max_walltime: must be seconds or [D-]HH:MM:SS, >= 0; 0 means no limit "
            "(got '2h')");
  EXPECT_EQ(parse_config(c.resolved_yaml(), "resolved").run.max_walltime.seconds, c.run.max_walltime.seconds);
}

}  // namespace
}  // namespace flowlat

namespace flowlat {
namespace {

// Every input file of the repository parses and passes the checks; the
// critical-line inputs carry the literature's couplings.
TEST(Config, EveryShippedInputIsValid) {
  namespace fs = std::filesystem;
  int count = 0;
  for (const auto& entry : fs::recursive_directory_iterator(std::string(FLOWLAT_SOURCE_DIR) + "/input")) {
    if (entry.path().extension() != ".yaml") continue;
    EXPECT_NO_THROW(load_config(entry.path().string())) << entry.path();
    ++count;
  }
  EXPECT_GE(count, 12);
  const std::vector<std::pair<int64_t, double>> line = {{6, 6.975},  {8, 6.008},  {10, 5.550}, {12, 5.276},
                                                        {14, 5.113}, {20, 4.807}, {32, 4.572}, {64, 4.398}};
  // Both families of the critical-line study sit on the same line.
  for (const std::string family : {"critical", "critical_ode"}) {
    for (const auto& [l, lambda] : line) {
      const Config c = load_config(std::string(FLOWLAT_SOURCE_DIR) + "/input/" + family + "/phi4_L" +
                                   std::to_string(l) + ".yaml");
      EXPECT_EQ(c.lattice.shape, (std::vector<int64_t>{l, l})) << family;
      EXPECT_EQ(c.action.m2, -4.0) << family;
      EXPECT_EQ(c.action.lambda, lambda) << family;
      EXPECT_EQ(c.flow.ode_layer == OdeLayerKind::Global, family == "critical_ode") << family;
    }
  }
}

}  // namespace
}  // namespace flowlat
