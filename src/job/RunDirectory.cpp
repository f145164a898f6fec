#include "job/RunDirectory.hpp"

#include <cstdio>
#include <filesystem>

#include "config/ConfigError.hpp"
#include "io/AtomicFile.hpp"
#include "job/Log.hpp"
#include "parallel/CollectiveError.hpp"
#include "provenance/BuildInfo.hpp"

namespace flowlat {
namespace fs = std::filesystem;
namespace {

// Removes those of `files` that exist and says how many. Local (rank 0).
void remove_previous_run(const std::vector<std::string>& files) {
  int removed = 0;
  for (const std::string& file : files) removed += fs::remove(file) ? 1 : 0;
  if (removed > 0) log_line("--force: removed %d files of the previous run\n", removed);
}

}  // namespace

std::vector<std::string> RunDirectory::training_files() const {
  return {config_file(), history_file(), model_file(), file("model_best.pt"), file("checkpoint.ckpt"),
          file("checkpoint.ckpt.prev")};
}

std::vector<std::string> RunDirectory::flow_products(const Config& config) const {
  std::vector<std::string> files = training_files();
  files.erase(files.begin());  // config.yaml is written anew
  const std::string ensemble = file(config.sample.output);
  files.insert(files.end(), {ensemble, ensemble + ".json", file("training.png"), file("configs.png"),
                             file("action_vs_logq.png"), file("logw_hist.png"), file("magnetisation.png"),
                             file("correlator.png"), file("m_eff.png")});
  return files;
}

void RunDirectory::prepare(const Config& config, const std::string& kernels, OverwritePolicy policy,
                           const Communicator& comm) const {
  run_collectively(comm, [&] {
    if (!comm.is_root()) return;
    if (fs::exists(path_) && !fs::is_directory(path_)) {
      throw ConfigError("run.output_dir: " + path_ + " exists and is not a directory");
    }
    if (fs::exists(path_) && !fs::is_empty(path_) && policy == OverwritePolicy::Refuse) {
      throw ConfigError("run.output_dir: " + path_ +
                        " already holds a run; pass --force to overwrite it or choose another run.output_dir");
    }
    if (fs::exists(path_) && policy == OverwritePolicy::Force) remove_previous_run(flow_products(config));
    fs::create_directories(path_);
    write_file_atomically(config_file(), provenance_comment(kernels) + config.resolved_yaml());
  });
}

}  // namespace flowlat
