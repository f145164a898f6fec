#pragma once
// Reads an ensemble file (EnsembleFormat.hpp) serially, in row ranges, so
// that ensembles larger than memory can be streamed. Local.
#include <cstdint>
#include <string>
#include <vector>

#include "io/H5File.hpp"

namespace flowlat {

// Refuses a file that flowlat must neither read nor continue: no flowlat
// ensemble (`format`), a `format_version` this code does not read, row
// counts that contradict each other or the datasets (0 <= n_written <=
// n_configs <= rows of /log_w: a damaged count must not make a reader
// allocate or read past the data, nor a --resume continue past the end),
// log columns that are not one value per row, an unknown `source`. Throws
// std::runtime_error naming the file. Local (attributes and shapes only).
void check_ensemble_file(const H5File& file);

class EnsembleReader {
 public:
  // Opens read-only; throws if it is not a flowlat ensemble. Local.
  explicit EnsembleReader(const std::string& path);

  int64_t n_written() const { return n_written_; }    // valid rows
  int64_t n_total() const { return n_total_; }        // rows planned
  const std::vector<int64_t>& lattice_shape() const { return lattice_shape_; }
  int64_t volume() const;
  bool has_configs() const;
  bool has_moment_sums() const;                       // /sum_phi2 and /sum_phi4
  bool has_chain() const;                             // /mcmc written
  std::string source() const;                         // "flow" or "hmc"

  // Rows [offset, offset + count) of a float64 [N] dataset (kLogQ, ...). Local.
  std::vector<double> read_column(const std::string& dataset, int64_t offset, int64_t count) const;
  // Configurations [count, V] as float64, rows [offset, offset + count). Local.
  std::vector<double> read_configs(int64_t offset, int64_t count) const;
  std::vector<int64_t> read_chain_state(int64_t offset, int64_t count) const;
  std::vector<uint8_t> read_chain_accepted(int64_t offset, int64_t count) const;

  double attribute_double(const std::string& name) const;
  int64_t attribute_int64(const std::string& name) const;
  std::string attribute_string(const std::string& name) const;
  bool has_attribute(const std::string& name) const;

  const std::string& path() const { return path_; }
  H5File& file() { return file_; }

 private:
  std::string path_;
  H5File file_;
  int64_t n_written_ = 0;
  int64_t n_total_ = 0;
  std::vector<int64_t> lattice_shape_;
};

// Opens an ensemble the user named (analyze, --resume, --versus): a missing
// file, or one that is no flowlat ensemble or whose header cannot be
// trusted (check_ensemble_file) is a ConfigError naming the file, an input
// error with one exit code wherever the file is given. Local.
EnsembleReader open_ensemble_input(const std::string& path);

}  // namespace flowlat
