#pragma once
// Writes an ensemble file (EnsembleFormat.hpp) from all ranks at once
// through parallel HDF5: datasets of a fixed N rows are created up front,
// each round every rank writes its own rows collectively (a rank with none
// still takes part), then `n_written` is raised and the file flushed, so a
// job killed mid-way leaves a valid file whose first n_written rows are
// complete. /mcmc (the chain) is written here too, by every producer.
// Torch-free: rows come as host arrays (device/HostRows.hpp makes them
// from tensors).
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "config/Config.hpp"
#include "io/H5Dataset.hpp"
#include "io/H5File.hpp"
#include "io/OverwritePolicy.hpp"
#include "parallel/CollectiveError.hpp"
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
  int64_t chain_states = 0;  // chains whose exact field is kept in /chain_state (HMC)
};

// The bytes an ensemble file of `layout` takes on disk (its datasets are
// allocated in full when it is created), metadata included. Local.
double ensemble_file_bytes(const EnsembleLayout& layout);

// Rows [offset, offset + count) of an ensemble in host memory, row-major:
// configs [count, L1, ..., Ld] of the layout's precision (ignored when not
// stored), float64 log q, log p, sum_x phi^2 and sum_x phi^4 [count]. A rank
// with no rows passes count 0.
struct EnsembleRows {
  int64_t offset = 0;
  int64_t count = 0;
  const void* configs = nullptr;  // const float* or const double*
  const double* log_q = nullptr;
  const double* log_p = nullptr;
  const double* sum_phi2 = nullptr;
  const double* sum_phi4 = nullptr;
};

class EnsembleWriter {
 public:
  // Creates `path` (refused if it exists unless Force, or if the disk
  // cannot hold ensemble_file_bytes(layout): ConfigError, nothing written)
  // with every dataset and the descriptive root attributes (format,
  // version, provenance with `kernels` (provenance/BuildInfo.hpp), time,
  // resolved config, lattice, action, ranks, seeds, source). A file it
  // created but could not finish is removed. Collective.
  static EnsembleWriter create(const std::string& path, const EnsembleLayout& layout, const Config& config,
                               EnsembleSource source, const std::string& kernels, OverwritePolicy overwrite,
                               const Communicator& comm);
  // Reopens a partly written file to continue it (or to add its chain);
  // the layout is read from the file. Collective over `comm` (a single
  // process passes Communicator::self()).
  static EnsembleWriter reopen(const std::string& path, const Communicator& comm);

  // Writes this rank's rows; log_w is computed here as log_p - log_q. The
  // sums go to /sum_phi2 and /sum_phi4 where the file has them (a file of an
  // older flowlat continued with --resume has not). Collective (count may
  // be 0).
  void write_rows(const EnsembleRows& rows);
  // Writes /mcmc/state and /mcmc/accepted of rows [offset, offset + count)
  // on this rank. Collective (count may be 0).
  void write_chain(int64_t offset, int64_t count, const int64_t* state, const uint8_t* accepted);
  // Records that rows [0, n) are complete and flushes. Collective.
  void commit(int64_t n_written);
  // Fields [count, L1, ..., Ld] (float64) of chains [first, first + count)
  // into /chain_state/fields. Collective (count may be 0).
  void write_chain_states(int64_t first, int64_t count, const double* fields);
  // The stored fields of chains [first, first + count). Collective.
  std::vector<double> read_chain_states(int64_t first, int64_t count) const;
  // log_w of rows [offset, offset + count), read back (for the chain and
  // summary that finish a file). Collective in parallel mode.
  std::vector<double> read_log_w(int64_t offset, int64_t count) const;
  // A root attribute (same value on all ranks). Collective.
  void set_attribute(const std::string& name, const std::string& value);
  void set_attribute(const std::string& name, double value);
  void set_attribute(const std::string& name, int64_t value);
  // Root attributes read back (a resumed job's counters). Collective in parallel mode.
  bool has_attribute(const std::string& name) const;
  double attribute_double(const std::string& name) const;
  int64_t attribute_int64(const std::string& name) const;
  int64_t n_written() const { return n_written_; }
  const EnsembleLayout& layout() const { return layout_; }
  // Closes every dataset and the file. Collective.
  void close();

 private:
  EnsembleWriter(H5File file, const EnsembleLayout& layout, const Communicator& comm);
  void open_datasets();
  // Gives the file and its datasets up without closing them (after a failed
  // write; see H5File::abandon). Local.
  void abandon() noexcept;

  H5File file_;
  EnsembleLayout layout_;
  Communicator comm_;
  std::unique_ptr<H5Dataset> configs_, log_q_, log_p_, log_w_, sum_phi2_, sum_phi4_, chain_state_, chain_accepted_,
      chain_fields_;
  int64_t n_written_ = 0;
};

}  // namespace flowlat
