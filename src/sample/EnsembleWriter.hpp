#pragma once
// Writes an ensemble file (EnsembleFormat.hpp) from all ranks at once
// through parallel HDF5: datasets of a fixed N rows are created up front,
// each round every rank writes its own rows collectively (a rank with none
// still takes part), then `n_written` is raised and the file flushed, so a
// job killed mid-way leaves a valid file whose first n_written rows are
// complete.
#include <torch/torch.h>

#include <memory>
#include <string>
#include <vector>

#include "config/Config.hpp"
#include "io/H5Dataset.hpp"
#include "io/H5File.hpp"
#include "io/RunDirectory.hpp"
#include "parallel/Communicator.hpp"

namespace flowlat {

enum class ConfigStorage { Store, Skip };
enum class EnsembleSource { Flow, Hmc };

struct EnsembleLayout {
  int64_t n_configs = 0;
  std::vector<int64_t> lattice_shape;
  Precision precision = Precision::Float32;  // of /configs
  ConfigStorage storage = ConfigStorage::Store;
  int64_t chunk_rows = 1024;
};

class EnsembleWriter {
 public:
  // Creates `path` (refused if it exists unless Force) with every dataset
  // and the descriptive root attributes (format, version, code, time,
  // resolved config, lattice, action, ranks, seeds, source). Collective.
  static EnsembleWriter create(const std::string& path, const EnsembleLayout& layout, const Config& config,
                               EnsembleSource source, OverwritePolicy overwrite, const Communicator& comm);
  // Reopens a partly written file to continue it. Collective.
  static EnsembleWriter reopen(const std::string& path, const EnsembleLayout& layout, const Communicator& comm);

  // Writes rows [offset, offset + count) on this rank: configs [count, ...]
  // (ignored when not stored), and float64 [count] log_q, log_p. log_w is
  // computed here as log_p - log_q. Collective (count may be 0).
  void write_rows(int64_t offset, const torch::Tensor& configs, const torch::Tensor& log_q,
                  const torch::Tensor& log_p);
  // Records that rows [0, n) are complete and flushes. Collective.
  void commit(int64_t n_written);
  // A root attribute (same value on all ranks). Collective.
  void set_attribute(const std::string& name, const std::string& value);
  void set_attribute(const std::string& name, double value);
  void set_attribute(const std::string& name, int64_t value);
  int64_t n_written() const { return n_written_; }
  // Closes every dataset and the file. Collective.
  void close();

 private:
  EnsembleWriter(H5File file, const EnsembleLayout& layout, const Communicator& comm);
  void open_datasets();

  H5File file_;
  EnsembleLayout layout_;
  Communicator comm_;
  std::unique_ptr<H5Dataset> configs_, log_q_, log_p_, log_w_;
  int64_t n_written_ = 0;
};

}  // namespace flowlat
