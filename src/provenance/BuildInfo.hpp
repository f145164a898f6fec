#pragma once
// What produced an output: flowlat's version and commit, the build, and the
// libraries it runs with. Recorded in every output (ensemble attributes,
// model files, config.yaml's header, the JSON of every command) and shown
// by `flowlat --version`.
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace flowlat {

struct BuildInfo {
  std::string version;           // CMake project version
  std::string git_commit;        // taken at build time; "unknown" outside a git checkout
  bool git_dirty = false;        // tracked files differed from git_commit when built
  std::string build_type;        // CMAKE_BUILD_TYPE
  std::string compiler;
  std::string instruction_sets;  // convolution kernel variants compiled in, e.g. "generic avx2 avx512f"
  std::string libtorch;          // version, CPU or CUDA, C++ ABI
  std::string mpi_library;       // the MPI library loaded at run time
  std::string hdf5;              // the HDF5 library loaded at run time
};

// This binary's build information; the MPI and HDF5 versions are those of
// the libraries loaded at run time. Local.
const BuildInfo& build_info();

// "0123456789ab" or "0123456789ab-dirty". Local.
std::string commit_with_dirty_mark();

// The text of `flowlat --version`, one field per line. Local.
std::string version_report();

// Name/value pairs stored with every output: the build information and the
// run's compute kernels (`kernels`, e.g. "fused couplings, avx2 kernels";
// empty when the command runs no flow). Local.
std::vector<std::pair<std::string, std::string>> provenance_fields(const std::string& kernels);

// The same fields as one JSON object, for the --json output of every command. Local.
nlohmann::json provenance_json(const std::string& kernels);

// The same fields as YAML comment lines ("# key: value\n"), for config.yaml. Local.
std::string provenance_comment(const std::string& kernels);

// Source tree this binary was built from (the last place tools are looked for). Local.
const char* build_source_dir();

// The installed tools' directory relative to the installed binary's
// directory ("../share/flowlat/tools" for the default layout). Local.
const char* installed_tools_from_binary();

}  // namespace flowlat
