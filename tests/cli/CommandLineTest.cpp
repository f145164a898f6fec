// The command line as a user meets it, with the real binary: --version and
// its provenance fields; --json PATH|- of every configuration command (the
// JSON alone on stdout with -, an existing PATH never replaced without
// --force); refused combinations and unknown commands named, with nothing
// created; ensembles whose header this flowlat cannot trust refused by name.
#include <gtest/gtest.h>

#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>
#include <regex>

#include "io/H5Attributes.hpp"
#include "io/H5File.hpp"
#include "support/TestSupport.hpp"

namespace flowlat::testing {
namespace {
namespace fs = std::filesystem;

std::string tiny_config(const std::string& dir) {
  write_text(dir + "/tiny.yaml", tiny_config_yaml(dir + "/run") +
                                     "sample: {n_configs: 128, batch_size: 32}\n"
                                     "hmc: {n_thermalization: 5, n_trajectories: 20, n_chains: 2, n_md_steps: 3}\n");
  return dir + "/tiny.yaml";
}

TEST(CommandLine, VersionNamesTheBuildAndItsLibraries) {
  const CommandResult result = run_flowlat("--version");
  ASSERT_EQ(result.exit_code, 0) << result.output;
  EXPECT_TRUE(std::regex_search(result.output, std::regex("^flowlat [0-9]+\\.[0-9]+\\.[0-9]+\\n"))) << result.output;
  for (const char* field : {"\ncommit: ", "\nbuild type: ", "\ninstruction sets compiled: generic", "\nLibTorch: ",
                            "\nMPI: ", "\nHDF5: "}) {
    EXPECT_NE(result.output.find(field), std::string::npos) << field << "\n" << result.output;
  }
}

TEST(CommandLine, UnknownCommandIsNamedWithTheKnownOnes) {
  const CommandResult result = run_flowlat("trian input.yaml");
  EXPECT_EQ(result.exit_code, 2) << result.output;
  EXPECT_NE(result.output.find("unknown command 'trian' (commands: train, sample, analyze, hmc, ti, run, keys"),
            std::string::npos)
      << result.output;
}

TEST(CommandLine, ForceWithResumeIsRefusedBeforeAnythingIsCreated) {
  const std::string dir = scratch_directory("cli_force_resume");
  const std::string config = tiny_config(dir);
  for (const char* command : {"train", "sample", "hmc", "run"}) {
    const CommandResult result = run_flowlat(std::string(command) + " " + config + " --force --resume");
    EXPECT_EQ(result.exit_code, 2) << command << ": " << result.output;
    EXPECT_NE(result.output.find("--force excludes --resume"), std::string::npos) << command << ": " << result.output;
  }
  EXPECT_FALSE(fs::exists(dir + "/run"));
}

TEST(CommandLine, JsonToStdoutIsTheJsonAloneAndAFileIsNeverReplaced) {
  const std::string dir = scratch_directory("cli_json");
  const std::string config = tiny_config(dir);
  // stdout only: the header, progress and results went to stderr.
  const CommandResult train = run_flowlat("train " + config + " --set train.steps=10 --json - 2>" + dir + "/err");
  ASSERT_EQ(train.exit_code, 0) << train.output << read_text(dir + "/err");
  const nlohmann::json trained = nlohmann::json::parse(train.output);
  EXPECT_EQ(trained["command"], "train");
  EXPECT_EQ(trained["steps"], 10);
  EXPECT_EQ(trained["model"], dir + "/run/model.pt");
  EXPECT_TRUE(fs::exists(trained["model"].get<std::string>()));
  EXPECT_FALSE(trained["provenance"]["kernels"].get<std::string>().empty());
  EXPECT_NE(read_text(dir + "/err").find("trained 10 steps"), std::string::npos);

  write_text(dir + "/sample.json", "keep me\n");
  const CommandResult refused = run_flowlat("sample " + config + " --json " + dir + "/sample.json");
  EXPECT_EQ(refused.exit_code, 2) << refused.output;
  EXPECT_NE(refused.output.find("--json: " + dir + "/sample.json exists already"), std::string::npos) << refused.output;
  EXPECT_EQ(read_text(dir + "/sample.json"), "keep me\n");
  EXPECT_FALSE(fs::exists(dir + "/run/ensemble.h5"));

  const CommandResult sampled = run_flowlat("sample " + config + " --json " + dir + "/sample.json --force");
  ASSERT_EQ(sampled.exit_code, 0) << sampled.output;
  const nlohmann::json sample = nlohmann::json::parse(read_text(dir + "/sample.json"));
  EXPECT_EQ(sample["n"], 128);
  EXPECT_GT(sample["ess"].get<double>(), 0.0);
  EXPECT_LE(sample["ess"].get<double>(), 1.0);
  // The printed summary and the JSON are the same numbers.
  std::smatch printed;
  ASSERT_TRUE(std::regex_search(sampled.output, printed, std::regex("ESS = ([0-9.]+)"))) << sampled.output;
  EXPECT_NEAR(std::stod(printed[1]), sample["ess"].get<double>(), 5e-5);
}

// A copy of a real ensemble with root attributes changed, and its bytes.
std::string damaged_copy(const std::string& source, const std::string& path,
                         const std::function<void(const H5Attributes&)>& damage) {
  fs::copy_file(source, path, fs::copy_options::overwrite_existing);
  {
    H5File file(path, FileMode::ReadWrite);
    damage(file.attributes());
  }
  return read_text(path);
}

TEST(CommandLine, EnsembleHeadersThatCannotBeTrustedAreRefusedAndLeftAlone) {
  const std::string dir = scratch_directory("cli_headers");
  const std::string config = tiny_config(dir);
  ASSERT_EQ(run_flowlat("train " + config + " --set train.steps=5").exit_code, 0);
  ASSERT_EQ(run_flowlat("sample " + config).exit_code, 0);
  const std::string good = dir + "/run/ensemble.h5";

  const std::string newer = dir + "/newer.h5";
  const std::string bytes = damaged_copy(good, newer, [](const H5Attributes& a) { a.write_int64("format_version", 2); });
  const CommandResult analyzed = run_flowlat("analyze " + newer);
  EXPECT_NE(analyzed.exit_code, 0);
  EXPECT_NE(analyzed.output.find(newer + ": format_version 2, but this flowlat reads format_version 1 (written by a "
                                         "newer flowlat)"),
            std::string::npos)
      << analyzed.output;
  EXPECT_EQ(read_text(newer), bytes);

  // n_written past the datasets: analyze must not read (or allocate) past
  // them, and sample --resume must not claim to continue past the end.
  const std::string past = dir + "/past.h5";
  const std::string past_bytes =
      damaged_copy(good, past, [](const H5Attributes& a) { a.write_int64("n_written", 1LL << 40); });
  const std::string message = past + ": inconsistent attributes: n_written = 1099511627776, n_configs = 128";
  const CommandResult analyzed_past = run_flowlat("analyze " + past);
  EXPECT_NE(analyzed_past.exit_code, 0);
  EXPECT_NE(analyzed_past.output.find(message), std::string::npos) << analyzed_past.output;
  const CommandResult resumed = run_flowlat("sample " + config + " --resume --output " + past);
  EXPECT_NE(resumed.exit_code, 0);
  EXPECT_NE(resumed.output.find(message), std::string::npos) << resumed.output;
  EXPECT_EQ(read_text(past), past_bytes);
}

}  // namespace
}  // namespace flowlat::testing
