#include "provenance/BuildInfo.hpp"

#include <mpi.h>
#include <hdf5.h>

#include "BuildConfig.hpp"
#include "GitState.hpp"

namespace flowlat {
namespace {

// "Open MPI v4.1.4": the library's own description up to its first comma
// or line break (the rest is packaging detail). Local.
std::string mpi_library_version() {
  char text[MPI_MAX_LIBRARY_VERSION_STRING] = {};
  int length = 0;
  if (MPI_Get_library_version(text, &length) != MPI_SUCCESS) return "unknown";
  std::string version(text, static_cast<size_t>(length));
  const size_t end = version.find_first_of(",\n");
  if (end != std::string::npos) version.resize(end);
  while (!version.empty() && (version.back() == ' ' || version.back() == '\0')) version.pop_back();
  return version;
}

std::string hdf5_version() {
  unsigned major = 0, minor = 0, release = 0;
  if (H5get_libversion(&major, &minor, &release) < 0) return "unknown";
  std::string version = std::to_string(major) + "." + std::to_string(minor) + "." + std::to_string(release);
#ifdef H5_HAVE_PARALLEL
  version += " (parallel)";
#endif
  return version;
}

BuildInfo make_build_info() {
  BuildInfo info;
  info.version = build_config::kVersion;
  info.git_commit = git_state::kCommit;
  info.git_dirty = git_state::kDirty;
  info.build_type = build_config::kBuildType;
  info.compiler = build_config::kCompiler;
  info.instruction_sets = build_config::kInstructionSets;
  info.libtorch = build_config::kLibTorch;
  info.mpi_library = mpi_library_version();
  info.hdf5 = hdf5_version();
  return info;
}

}  // namespace

const BuildInfo& build_info() {
  static const BuildInfo info = make_build_info();
  return info;
}

std::string commit_with_dirty_mark() {
  const BuildInfo& info = build_info();
  return info.git_commit + (info.git_dirty ? "-dirty" : "");
}

std::vector<std::pair<std::string, std::string>> provenance_fields(const std::string& kernels) {
  const BuildInfo& info = build_info();
  std::vector<std::pair<std::string, std::string>> fields{
      {"code_version", info.version},         {"git_commit", commit_with_dirty_mark()},
      {"build_type", info.build_type},         {"compiler", info.compiler},
      {"instruction_sets", info.instruction_sets}, {"libtorch", info.libtorch},
      {"mpi_library", info.mpi_library},       {"hdf5", info.hdf5}};
  if (!kernels.empty()) fields.emplace_back("kernels", kernels);
  return fields;
}

nlohmann::json provenance_json(const std::string& kernels) {
  nlohmann::json fields = nlohmann::json::object();
  for (const auto& [name, value] : provenance_fields(kernels)) fields[name] = value;
  return fields;
}

std::string provenance_comment(const std::string& kernels) {
  std::string text = "# written by flowlat\n";
  for (const auto& [name, value] : provenance_fields(kernels)) text += "# " + name + ": " + value + "\n";
  return text;
}

std::string version_report() {
  const BuildInfo& info = build_info();
  return "flowlat " + info.version + "\n" +
         "commit: " + commit_with_dirty_mark() + "\n" +
         "build type: " + info.build_type + " (" + info.compiler + ")\n" +
         "instruction sets compiled: " + info.instruction_sets + "\n" +
         "LibTorch: " + info.libtorch + "\n" +
         "MPI: " + info.mpi_library + "\n" +
         "HDF5: " + info.hdf5;
}

const char* build_source_dir() { return build_config::kSourceDir; }

const char* installed_tools_from_binary() { return build_config::kToolsFromBinary; }

}  // namespace flowlat
