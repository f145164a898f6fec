#include "io/RunDirectory.hpp"

#include <filesystem>
#include <fstream>
#include <stdexcept>

#include "config/ConfigError.hpp"
#include "parallel/CollectiveError.hpp"

namespace flowlat {
namespace fs = std::filesystem;

void RunDirectory::prepare(const Config& config, OverwritePolicy policy, const Communicator& comm) const {
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
    write_file_atomically(config_file(), config.resolved_yaml());
  });
}

void write_file_atomically(const std::string& path, const std::string& text) {
  const std::string temporary = path + ".tmp";
  {
    std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
    out << text;
    out.flush();
    if (!out) throw std::runtime_error(temporary + ": write failed");
  }
  fs::rename(temporary, path);
}

}  // namespace flowlat
