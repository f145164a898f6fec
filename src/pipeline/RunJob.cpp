#include "pipeline/RunJob.hpp"

// The plot scripts are found, in order, in $FLOWLAT_TOOLS_DIR, beside the
// running binary (<prefix>/share/flowlat/tools for <prefix>/bin/flowlat, as
// `cmake --install` lays them out, whatever the prefix; <dir>/tools for a build directory inside
// the source tree, <dir>/build/flowlat), and last in the source tree the
// binary was built from. The interpreter is $FLOWLAT_PYTHON, else python3.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "analysis/AnalysisReport.hpp"
#include "analysis/EnsembleAnalysis.hpp"
#include "config/ConfigError.hpp"
#include "ensemble/EnsembleReader.hpp"
#include "parallel/CollectiveError.hpp"
#include "provenance/BuildInfo.hpp"
#include "sample/SampleJob.hpp"
#include "train/TrainJob.hpp"
#include "job/Log.hpp"
#include "job/ShellWord.hpp"
#include "job/MemoryCheck.hpp"

namespace flowlat {
namespace {

namespace fs = std::filesystem;

bool has_plot_tools(const fs::path& dir) {
  std::error_code error;
  return fs::is_regular_file(dir / "plot_training.py", error) && fs::is_regular_file(dir / "plot_ensemble.py", error);
}

// The first directory holding both plot scripts (order in the file comment). Local.
std::optional<fs::path> find_tools_dir() {
  std::vector<fs::path> candidates;
  if (const char* env = std::getenv("FLOWLAT_TOOLS_DIR"); env != nullptr && *env != '\0') candidates.emplace_back(env);
  std::error_code error;
  const fs::path exe = fs::read_symlink("/proc/self/exe", error);
  if (!error) {
    candidates.push_back((exe.parent_path() / installed_tools_from_binary()).lexically_normal());
    candidates.push_back(exe.parent_path().parent_path() / "tools");
  }
  candidates.push_back(fs::path(build_source_dir()) / "tools");
  for (const fs::path& dir : candidates) {
    if (has_plot_tools(dir)) return dir;
  }
  return std::nullopt;
}

std::string python_interpreter() {
  const char* env = std::getenv("FLOWLAT_PYTHON");
  return env != nullptr && *env != '\0' ? env : "python3";
}

// Runs `command` (sh -c, stderr folded into stdout); returns its output, or
// nullopt (after printing that output) if it failed. Local.
std::optional<std::string> run_tool(const std::string& command) {
  FILE* pipe = popen((command + " 2>&1").c_str(), "r");
  if (pipe == nullptr) return std::nullopt;
  std::string output;
  char buffer[4096];
  while (std::fgets(buffer, sizeof buffer, pipe) != nullptr) output += buffer;
  if (pclose(pipe) != 0) {
    std::printf("%s", output.c_str());
    return std::nullopt;
  }
  return output;
}

// The HMC ensemble the plots overlay (`hmc`, else <run.output_dir>/<hmc.output> when it exists), or "".
std::string hmc_for_plots(const Config& config, const std::string& hmc) {
  if (!hmc.empty()) return hmc;
  const std::string own = config.run.output_dir + "/" + config.hmc.output;
  return fs::exists(own) ? own : "";
}

// The plot commands for this run; with an HMC ensemble (`hmc`, else
// <run.output_dir>/<hmc.output> when it exists) the M histogram and C(t)
// show HMC beside the reweighted flow. Local.
std::vector<std::string> plot_commands(const Config& config, const std::string& python, const fs::path& tools,
                                       std::string hmc) {
  std::string ensemble = shell_word(python) + " " + shell_word((tools / "plot_ensemble.py").string()) + " " +
                         shell_word(default_ensemble_path(config));
  hmc = hmc_for_plots(config, hmc);
  if (!hmc.empty()) ensemble += " --hmc " + shell_word(hmc);
  return {shell_word(python) + " " + shell_word((tools / "plot_training.py").string()) + " " +
              shell_word(config.run.output_dir),
          ensemble};
}

// <hmc>.json, the analysis the plots read for the HMC overlay, unless it
// exists (never overwritten: the file may be the user's). Local (rank 0).
void write_hmc_analysis(const Config& config, const std::string& requested) {
  const std::string hmc = hmc_for_plots(config, requested);
  if (hmc.empty() || fs::exists(hmc + ".json")) return;
  try {
    AnalysisReport(analyze_ensemble(hmc)).write_json(hmc + ".json", OverwritePolicy::Refuse);
  } catch (const std::exception& e) {
    log_line("note: no analysis of %s for the plots (%s)\n", hmc.c_str(), e.what());
  }
}

// Makes the plots and prints and returns their paths, or says how to make
// them (and returns none). Local (rank 0).
std::vector<std::string> make_plots(const Config& config, const std::string& hmc) {
  const std::optional<fs::path> tools = find_tools_dir();
  const std::string python = python_interpreter();
  const fs::path shown_tools = tools ? *tools : fs::path("tools");
  const std::vector<std::string> commands = plot_commands(config, python, shown_tools, hmc);
  std::string pngs;
  std::vector<std::string> made_pngs;
  bool made = tools.has_value();
  for (const std::string& command : commands) {
    if (!made) break;
    const std::optional<std::string> output = run_tool(command);
    made = output.has_value();
    if (made) pngs += *output;
  }
  if (made) {
    std::printf("\nplots (scripts in %s):\n", tools->c_str());
    for (size_t start = 0; start < pngs.size();) {
      const size_t end = std::min(pngs.find('\n', start), pngs.size());
      const std::string line = pngs.substr(start, end - start);
      if (line.size() >= 4 && line.compare(line.size() - 4, 4, ".png") == 0) {
        std::printf("  %s\n", line.c_str());
        made_pngs.push_back(line);
      }
      start = end + 1;
    }
  } else {
    std::printf("\nplots: not made (%s). To make them, install Python 3 with matplotlib and h5py "
                "(Debian: apt-get install python3-matplotlib python3-h5py) and run\n",
                tools ? (python + " with matplotlib and h5py did not run the plot scripts").c_str()
                      : "tools/plot_training.py not found; set FLOWLAT_TOOLS_DIR to the source tree's tools/");
    for (const std::string& command : commands) std::printf("  %s\n", command.c_str());
  }
  std::fflush(stdout);
  return made_pngs;
}

// Refuses, before any training, an HMC ensemble (--hmc) that the plots
// could not set beside this run's flow: no HMC ensemble of flowlat, no
// configuration in it, or another lattice or coupling. Local.
void check_hmc_ensemble(const Config& config, const std::string& hmc) {
  if (hmc.empty()) return;
  if (!fs::is_regular_file(hmc)) throw ConfigError("--hmc " + hmc + ": no such file");
  std::optional<EnsembleReader> reader;
  try {
    reader.emplace(hmc);
  } catch (const std::exception& e) {
    throw ConfigError("--hmc " + hmc + ": not a readable flowlat ensemble (" + e.what() + ")");
  }
  const auto differs = [](double a, double b) { return std::abs(a - b) > 1e-12 * std::max(1.0, std::abs(a)); };
  std::string problem;
  if (reader->source() != "hmc") {
    problem = "it was made by flowlat " + reader->source() + ", not flowlat hmc";
  } else if (reader->n_written() == 0) {
    problem = "it holds no configuration yet";
  } else if (reader->lattice_shape() != config.lattice.shape) {
    problem = "its lattice differs from lattice.shape";
  } else if (differs(reader->attribute_double("m2"), config.action.m2) ||
             differs(reader->attribute_double("lambda"), config.action.lambda)) {
    problem = "its action.m2 / action.lambda (" + std::to_string(reader->attribute_double("m2")) + ", " +
              std::to_string(reader->attribute_double("lambda")) + ") differ from this run's";
  }
  if (!problem.empty()) throw ConfigError("--hmc " + hmc + ": " + problem + "; nothing was run");
}

}  // namespace

nlohmann::json run_pipeline(const Config& config, const Communicator& comm, const RunOptions& options) {
  nlohmann::json result = {{"command", "run"}};
  run_collectively(comm, [&] {
    if (comm.is_root()) check_hmc_ensemble(config, options.hmc_path);
  });
  // Sampling comes after training: its memory is checked before either.
  check_memory(config, MemoryUse::Sample, config.run.device == DeviceKind::Cpu, comm);
  result["train"] = run_training(config, comm, options.overwrite,
                                 options.start == RunStart::Resume ? TrainStart::Resume : TrainStart::Fresh);
  SampleOptions sample;
  sample.overwrite = options.overwrite;
  // A run stopped while training has no ensemble yet: sampling then starts it.
  const bool continue_ensemble = options.start == RunStart::Resume && fs::exists(default_ensemble_path(config));
  sample.start = continue_ensemble ? SampleStart::Resume : SampleStart::Fresh;
  result["sample"] = run_sampling(config, comm, sample).summary;
  run_collectively(comm, [&] {
    if (!comm.is_root()) return;
    const std::string ensemble = default_ensemble_path(config);
    const AnalysisReport report(analyze_ensemble(ensemble));
    std::printf("\n%s", report.table().c_str());
    std::fflush(stdout);
    // The plots show these numbers (plot_ensemble.py reads <ensemble>.json):
    // the run's own analysis, rewritten with its ensemble.
    report.write_json(ensemble + ".json", OverwritePolicy::Force);
    result["analysis"] = report.json();
    write_hmc_analysis(config, options.hmc_path);
    result["plots"] = make_plots(config, options.hmc_path);
  });
  return comm.is_root() ? result : nlohmann::json();
}

}  // namespace flowlat
