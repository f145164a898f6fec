#include "cli/JsonOutput.hpp"

#include <unistd.h>

#include <cstdio>
#include <filesystem>

#include "analysis/AnalysisReport.hpp"
#include "config/ConfigError.hpp"
#include "parallel/CollectiveError.hpp"

namespace flowlat {

JsonOutput::~JsonOutput() { restore_stdout(); }

namespace {

// The own file that `target` names, or "". Local.
std::string own_file_named(const std::string& target, const std::vector<std::string>& own_files) {
  std::error_code error;
  const auto path = std::filesystem::weakly_canonical(target, error);
  if (error) return "";
  for (const std::string& own : own_files) {
    std::error_code own_error;
    if (!own.empty() && std::filesystem::weakly_canonical(own, own_error) == path && !own_error) return own;
  }
  return "";
}

}  // namespace

void JsonOutput::begin(const std::string& target, bool force, const std::vector<std::string>& own_files,
                       const Communicator& comm) {
  target_ = target;
  force_ = force;
  if (target_.empty()) return;
  run_collectively(comm, [&] {
    if (!comm.is_root()) return;
    if (const std::string own = own_file_named(target_, own_files); target_ != "-" && !own.empty()) {
      throw ConfigError("--json: " + target_ + " is " + own + ", a file this command reads or writes; name another");
    }
    if (target_ != "-" && !force_ && std::filesystem::exists(target_)) {
      throw ConfigError("--json: " + target_ + " exists already; use --force to overwrite it");
    }
    // Found out now, not after hours of training.
    const auto parent = std::filesystem::absolute(target_).parent_path();
    if (target_ != "-" && !std::filesystem::is_directory(parent)) {
      throw ConfigError("--json: " + target_ + ": no directory " + parent.string() + " to write it in");
    }
    if (target_ == "-") {
      std::fflush(stdout);
      saved_stdout_ = dup(STDOUT_FILENO);
      if (saved_stdout_ < 0 || dup2(STDERR_FILENO, STDOUT_FILENO) < 0) {
        throw std::runtime_error("--json -: cannot redirect stdout");
      }
    }
  });
}

void JsonOutput::finish(const nlohmann::json& result, const Communicator& comm) {
  if (target_.empty()) return;
  run_collectively(comm, [&] {
    if (!comm.is_root()) return;
    restore_stdout();
    if (target_ == "-") {
      std::fputs((result.dump(2) + "\n").c_str(), stdout);
      std::fflush(stdout);
    } else {
      write_json_file(target_, result, force_ ? OverwritePolicy::Force : OverwritePolicy::Refuse);
    }
  });
}

void JsonOutput::restore_stdout() {
  if (saved_stdout_ < 0) return;
  std::fflush(stdout);
  dup2(saved_stdout_, STDOUT_FILENO);
  close(saved_stdout_);
  saved_stdout_ = -1;
}

}  // namespace flowlat
