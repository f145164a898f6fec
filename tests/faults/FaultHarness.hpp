#pragma once
// The fault suite's harness: every case runs the real binary in a fresh
// copy of a small set of real outputs (a trained model, its checkpoint, a
// flow ensemble, an HMC ensemble), after making some of them hostile, and
// asserts the exit code, that the message names the problem, that no file
// that existed before changed (checksums) and that nothing was left behind.
#include <gtest/gtest.h>

#include <functional>
#include <map>
#include <ostream>
#include <string>
#include <vector>

namespace flowlat::testing {

struct Fault {
  std::string name;     // GoogleTest-safe, unique
  std::string command;  // shell, run in the case directory; {bin} and {mpirun} are replaced
  int exit_code;
  std::string message;  // ECMAScript regex that the output must contain
  std::function<void(const std::string& dir)> prepare = nullptr;  // makes the hostile input
  std::vector<std::string> may_change = {};  // paths (relative) the command may write or create
};

// GoogleTest prints a case by its name.
inline void PrintTo(const Fault& fault, std::ostream* out) { *out << fault.name; }

// Every case runs through one test, FaultTest.EndsAsStatedAndChangesNoOtherFile
// (FaultHarness.cpp); each file instantiates it with its table under a
// prefix naming the class of fault (Yaml/, Disk/, ...).
class FaultTest : public ::testing::TestWithParam<Fault> {};
// The case's name, for the instantiations. Local.
std::string fault_name(const ::testing::TestParamInfo<Fault>& info);

// The fixtures, made once per test process in the build tree's scratch
// area: tiny.yaml (output_dir: run), run/{model.pt, checkpoint.ckpt,
// config.yaml, history.csv, ensemble.h5, hmc.h5}. Local.
const std::string& fixture_directory();
// A fresh copy of the fixtures for case `name`. Local.
std::string case_directory(const std::string& name);
// Every file and directory under `dir` (relative path -> content checksum;
// directories map to "dir"). Local.
std::map<std::string, std::string> snapshot(const std::string& dir);
// `command` with {bin} (build/flowlat, or $FLOWLAT_FAULTS_BINARY) and
// {mpirun} replaced. Local.
std::string expand(std::string command);
// Runs `fault` in its case directory and asserts everything above. Local.
void expect_fault(const Fault& fault);
// Asserts the snapshot `after` equals `before` except for `may_change`.
void expect_unchanged(const std::map<std::string, std::string>& before,
                      const std::map<std::string, std::string>& after, const std::vector<std::string>& may_change);

// Hostile-file makers. Local.
void truncate_file(const std::string& path, double fraction);  // keeps the first `fraction` of the bytes
void flip_byte(const std::string& path, double position);      // at `position` (0..1) of the file
void set_root_attribute(const std::string& h5_path, const std::string& name, long long value);
void set_root_attribute(const std::string& h5_path, const std::string& name, const std::string& value);
void remove_object(const std::string& h5_path, const std::string& object);
// Replaces the 1-d dataset `object` by a [rows, 2] one.
void make_two_dimensional(const std::string& h5_path, const std::string& object);
// True when this process may mount a tmpfs in a new mount namespace.
bool can_mount_tmpfs();

}  // namespace flowlat::testing
