#include "faults/FaultHarness.hpp"

#include <hdf5.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>

#include "io/FileChecksum.hpp"
#include "io/H5Dataset.hpp"
#include "io/H5File.hpp"
#include "support/TestSupport.hpp"

namespace flowlat::testing {
namespace fs = std::filesystem;

namespace {

const char* kTinyYaml =
    "lattice: {shape: [4, 4]}\n"
    "action:  {kind: phi4, m2: -4.0, lambda: 8.0}\n"
    "flow:    {n_layers: 2, hidden_channels: [4], kernel_size: 3}\n"
    "train:   {steps: 10, batch_size: 16, lr: 1.0e-3, seed: 7, log_every: 5, checkpoint_every: 5}\n"
    "sample:  {n_configs: 256, batch_size: 64}\n"
    "hmc:     {n_trajectories: 64, n_thermalization: 16, n_chains: 4, step_size: 0.2}\n"
    "run:     {output_dir: run, device: cpu, precision: float64, threads_per_rank: 1}\n";

void replace_all(std::string& text, const std::string& from, const std::string& to) {
  for (size_t at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size())) {
    text.replace(at, from.size(), to);
  }
}

std::string make_fixtures() {
  const std::string dir = scratch_directory("faults/fixtures");
  write_text(dir + "/tiny.yaml", kTinyYaml);
  for (const char* step : {"{bin} train tiny.yaml", "{bin} sample tiny.yaml", "{bin} hmc tiny.yaml"}) {
    const CommandResult made = run_command("cd " + dir + " && " + expand(step));
    if (made.exit_code != 0) throw std::runtime_error(std::string("fixture: ") + step + ":\n" + made.output);
  }
  return dir;
}

}  // namespace

const std::string& fixture_directory() {
  static const std::string dir = make_fixtures();
  return dir;
}

std::string case_directory(const std::string& name) {
  const std::string dir = scratch_directory("faults/" + name);
  fs::copy(fixture_directory(), dir, fs::copy_options::recursive | fs::copy_options::overwrite_existing);
  return dir;
}

std::map<std::string, std::string> snapshot(const std::string& dir) {
  std::map<std::string, std::string> entries;
  for (const auto& entry : fs::recursive_directory_iterator(dir)) {
    const std::string name = fs::relative(entry.path(), dir).string();
    entries[name] = entry.is_directory() ? "dir" : file_checksum(entry.path().string());
  }
  return entries;
}

std::string expand(std::string command) {
  // FLOWLAT_FAULTS_BINARY runs the suite against another build (an older
  // one, to see which cases it fails).
  const char* other = std::getenv("FLOWLAT_FAULTS_BINARY");
  replace_all(command, "{bin}", other && *other ? other : FLOWLAT_BINARY);
  replace_all(command, "{mpirun}", FLOWLAT_MPIEXEC);
  return command;
}

void expect_unchanged(const std::map<std::string, std::string>& before,
                      const std::map<std::string, std::string>& after, const std::vector<std::string>& may_change) {
  const auto allowed = [&may_change](const std::string& name) {
    for (const std::string& prefix : may_change) {
      if (name == prefix || name.rfind(prefix + "/", 0) == 0) return true;
    }
    return false;
  };
  for (const auto& [name, checksum] : before) {
    if (allowed(name)) continue;
    const auto found = after.find(name);
    EXPECT_TRUE(found != after.end()) << "removed: " << name;
    if (found != after.end()) {
      EXPECT_EQ(found->second, checksum) << "changed: " << name;
    }
  }
  for (const auto& [name, checksum] : after) {
    if (!allowed(name)) {
      EXPECT_TRUE(before.count(name)) << "left behind: " << name;
    }
  }
}

void expect_fault(const Fault& fault) {
  const std::string dir = case_directory(fault.name);
  if (fault.prepare) fault.prepare(dir);
  const auto before = snapshot(dir);
  std::string quoted;
  for (char c : expand(fault.command)) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
  const CommandResult result = run_command("cd " + dir + " && timeout -k 5 120 sh -c '" + quoted + "'");
  EXPECT_EQ(result.exit_code, fault.exit_code) << fault.command << "\n" << result.output;
  EXPECT_TRUE(std::regex_search(result.output, std::regex(fault.message)))
      << "expected /" << fault.message << "/ in the output of " << fault.command << ":\n" << result.output;
  EXPECT_EQ(result.output.find("terminate called"), std::string::npos) << result.output;
  EXPECT_EQ(result.output.find("Segmentation fault"), std::string::npos) << result.output;
  expect_unchanged(before, snapshot(dir), fault.may_change);
}

std::string fault_name(const ::testing::TestParamInfo<Fault>& info) { return info.param.name; }

TEST_P(FaultTest, EndsAsStatedAndChangesNoOtherFile) {
  if (GetParam().command.find("unshare") != std::string::npos && !can_mount_tmpfs()) {
    GTEST_SKIP() << "mounting a tmpfs in a new mount namespace is not permitted here";
  }
  expect_fault(GetParam());
}

void truncate_file(const std::string& path, double fraction) {
  fs::resize_file(path, static_cast<uintmax_t>(static_cast<double>(fs::file_size(path)) * fraction));
}

void flip_byte(const std::string& path, double position) {
  std::fstream file(path, std::ios::in | std::ios::out | std::ios::binary);
  const auto at = static_cast<std::streamoff>(static_cast<double>(fs::file_size(path)) * position);
  file.seekg(at);
  char byte = 0;
  file.get(byte);
  file.seekp(at);
  file.put(static_cast<char>(byte ^ 0x5a));
}

void set_root_attribute(const std::string& h5_path, const std::string& name, long long value) {
  const H5File file(h5_path, FileMode::ReadWrite);
  file.attributes().write_int64(name, value);
}

void set_root_attribute(const std::string& h5_path, const std::string& name, const std::string& value) {
  const H5File file(h5_path, FileMode::ReadWrite);
  file.attributes().write_string(name, value);
}

void make_two_dimensional(const std::string& h5_path, const std::string& object) {
  int64_t rows = 0;
  {
    const H5File file(h5_path, FileMode::ReadOnly);
    rows = H5Dataset::open(file, object).rows();
  }
  remove_object(h5_path, object);
  const H5File file(h5_path, FileMode::ReadWrite);
  H5Dataset::create(file, object, ElementType::Float64, {rows, 2}, RowCapacity::Fixed, rows);
}

void remove_object(const std::string& h5_path, const std::string& object) {
  const H5File file(h5_path, FileMode::ReadWrite);
  if (H5Ldelete(file.id(), object.c_str(), H5P_DEFAULT) < 0) throw std::runtime_error("cannot delete " + object);
}

bool can_mount_tmpfs() {
  static const bool can = run_command("unshare -m sh -c 'mount -t tmpfs -o size=1m tmpfs /mnt'").exit_code == 0;
  return can;
}

}  // namespace flowlat::testing
