#pragma once
// The run directory (run.output_dir): resolved config, model, history,
// ensembles. An existing, non-empty one is never reused without --force.
#include <string>

#include "config/Config.hpp"
#include "io/OverwritePolicy.hpp"
#include "parallel/Communicator.hpp"

namespace flowlat {

class RunDirectory {
 public:
  explicit RunDirectory(std::string path) : path_(std::move(path)) {}

  // Rank 0 creates the directory (refusing a non-empty one unless Force)
  // and writes config.yaml, headed by the provenance comment (build,
  // libraries, `kernels`); errors reach every rank. Collective.
  void prepare(const Config& config, const std::string& kernels, OverwritePolicy policy,
               const Communicator& comm) const;

  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }
  std::string model_file() const { return file("model.pt"); }
  std::string history_file() const { return file("history.csv"); }
  std::string config_file() const { return file("config.yaml"); }

 private:
  std::string path_;
};

}  // namespace flowlat
