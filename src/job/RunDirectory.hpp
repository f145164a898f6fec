#pragma once
// The run directory (run.output_dir): resolved config, model, history,
// ensembles. An existing, non-empty one is never reused without --force.
#include <string>
#include <vector>

#include "config/Config.hpp"
#include "io/OverwritePolicy.hpp"
#include "parallel/Communicator.hpp"

namespace flowlat {

class RunDirectory {
 public:
  explicit RunDirectory(std::string path) : path_(std::move(path)) {}

  // Rank 0 creates the directory (refusing a non-empty one unless Force,
  // which removes the previous run's flow_products() so that no ensemble of
  // an older flow looks current) and writes config.yaml, headed by the
  // provenance comment (build, libraries, `kernels`); errors reach every
  // rank. Collective.
  void prepare(const Config& config, const std::string& kernels, OverwritePolicy policy,
               const Communicator& comm) const;

  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }
  std::string model_file() const { return file("model.pt"); }
  std::string history_file() const { return file("history.csv"); }
  std::string config_file() const { return file("config.yaml"); }
  // The files a training writes here: config.yaml, history.csv, the
  // models and the checkpoints. Local.
  std::vector<std::string> training_files() const;
  // What a run's flow made here and a new training makes stale: the
  // training's files but config.yaml, the ensemble <sample.output> with its
  // analysis JSON, and the plots of `flowlat run`. Local.
  std::vector<std::string> flow_products(const Config& config) const;

 private:
  std::string path_;
};

}  // namespace flowlat
