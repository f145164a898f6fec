#include "job/RunDirectory.hpp"

#include <filesystem>

#include "config/ConfigError.hpp"
#include "io/AtomicFile.hpp"
#include "parallel/CollectiveError.hpp"
#include "provenance/BuildInfo.hpp"

namespace flowlat {
namespace fs = std::filesystem;

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
    fs::create_directories(path_);
    write_file_atomically(config_file(), provenance_comment(kernels) + config.resolved_yaml());
  });
}

}  // namespace flowlat
