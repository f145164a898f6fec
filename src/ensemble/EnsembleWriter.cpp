#include "ensemble/EnsembleWriter.hpp"

#include <sys/statvfs.h>

#include <cmath>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <vector>

#include "config/ConfigError.hpp"
#include "io/ByteCount.hpp"
#include "ensemble/EnsembleFormat.hpp"
#include "ensemble/EnsembleReader.hpp"
#include "provenance/BuildInfo.hpp"
#include "provenance/UtcTime.hpp"

namespace flowlat {
namespace {

// Each dataset is created and agreed on in turn: a write that failed on one
// rank (its disk full) must stop every rank before the next collective call.
void create_datasets(const H5File& file, const EnsembleLayout& layout, const Communicator& comm) {
  const auto create = [&](const char* path, ElementType type, const std::vector<int64_t>& shape, int64_t chunk) {
    run_collectively(comm, [&] { H5Dataset::create(file, path, type, shape, RowCapacity::Fixed, chunk); });
  };
  const int64_t n = layout.n_configs;
  const int64_t chunk = std::max<int64_t>(1, std::min(layout.chunk_rows, n));
  if (layout.storage == ConfigStorage::Store) {
    std::vector<int64_t> shape{n};
    shape.insert(shape.end(), layout.lattice_shape.begin(), layout.lattice_shape.end());
    const auto type = layout.precision == Precision::Float32 ? ElementType::Float32 : ElementType::Float64;
    create(ensemble::kConfigs, type, shape, chunk);
  }
  for (const char* path : ensemble::kRowColumns) {
    create(path, ElementType::Float64, {n}, chunk);
  }
  create(ensemble::kChainState, ElementType::Int64, {n}, chunk);
  create(ensemble::kChainAccepted, ElementType::UInt8, {n}, chunk);
  if (layout.chain_states > 0) {
    std::vector<int64_t> shape{layout.chain_states};
    shape.insert(shape.end(), layout.lattice_shape.begin(), layout.lattice_shape.end());
    create(ensemble::kChainFields, ElementType::Float64, shape, layout.chain_states);
  }
}

void write_description(const H5File& file, const EnsembleLayout& layout, const Config& config,
                       EnsembleSource source, const std::string& kernels, const Communicator& comm) {
  const H5Attributes root = file.attributes();
  root.write_string("format", ensemble::kFormat);
  root.write_int64("format_version", ensemble::kFormatVersion);
  for (const auto& [name, value] : provenance_fields(kernels)) root.write_string(name, value);
  root.write_string("created", utc_timestamp());
  root.write_string("config", config.resolved_yaml());
  root.write_int64_vector("lattice_shape", layout.lattice_shape);
  root.write_string("action", config.action.kind);
  root.write_double("m2", config.action.m2);
  root.write_double("lambda", config.action.lambda);
  root.write_int64("n_ranks", comm.size());
  root.write_string(ensemble::kSource, source == EnsembleSource::Flow ? "flow" : "hmc");
  root.write_int64(ensemble::kNTotal, layout.n_configs);
  root.write_int64(ensemble::kNWritten, 0);
  root.write_int64("store_configs", layout.storage == ConfigStorage::Store ? 1 : 0);
}

// Bytes the filesystem holding `path` can still give this job: its free
// blocks, plus those of the file itself when it is to be replaced.
double available_bytes(const std::string& path, OverwritePolicy overwrite) {
  namespace fs = std::filesystem;
  const fs::path parent = fs::absolute(path).parent_path();
  struct statvfs disk {};
  if (::statvfs(parent.c_str(), &disk) != 0) return INFINITY;  // the open will name the problem
  double bytes = static_cast<double>(disk.f_bavail) * static_cast<double>(disk.f_frsize);
  std::error_code error;
  if (overwrite == OverwritePolicy::Force && fs::is_regular_file(path, error)) {
    bytes += static_cast<double>(fs::file_size(path, error));
  }
  return bytes;
}

// Refuses, before anything is created, an ensemble the disk cannot hold:
// HDF5 writes every dataset in full when it is created, and HDF5 1.10 cannot
// close a file whose write failed (it crashed at exit). Rank 0 decides.
// Collective.
void check_disk_space(const std::string& path, const EnsembleLayout& layout, OverwritePolicy overwrite,
                      const Communicator& comm) {
  std::string error;
  if (comm.is_root()) {
    const double needed = ensemble_file_bytes(layout), available = available_bytes(path, overwrite);
    if (needed > available) {
      error = path + ": the ensemble needs " + byte_count_text(needed) + " on disk (sample.n_configs = " +
              std::to_string(layout.n_configs) + " rows" +
              (layout.storage == ConfigStorage::Store ? " with their configurations" : "") + "), but only " +
              byte_count_text(available) + " are free there; nothing was written. Lower sample.n_configs (or " +
              "hmc.n_trajectories), set sample.store_configs: false, or write elsewhere (--output)";
    }
  }
  error = comm.broadcast(error, 0);
  if (!error.empty()) throw ConfigError(error);
}

}  // namespace

double ensemble_file_bytes(const EnsembleLayout& layout) {
  double sites = 1;
  for (const int64_t extent : layout.lattice_shape) sites *= static_cast<double>(extent);
  const double value_bytes = layout.precision == Precision::Float32 ? 4 : 8;
  const double n = static_cast<double>(layout.n_configs);
  double bytes = n * (5 * 8 + 8 + 1);  // log q, log p, log w, the two sums; chain state and acceptance
  if (layout.storage == ConfigStorage::Store) bytes += n * sites * value_bytes;
  bytes += static_cast<double>(layout.chain_states) * sites * 8;
  // Chunk indices and attributes (the resolved configuration, provenance).
  const double chunks = std::ceil(n / static_cast<double>(std::max<int64_t>(1, layout.chunk_rows)));
  return bytes + 9 * 64 * chunks + (1 << 20);
}

EnsembleWriter::EnsembleWriter(H5File file, const EnsembleLayout& layout, const Communicator& comm)
    : file_(std::move(file)), layout_(layout), comm_(comm) {}

EnsembleWriter EnsembleWriter::create(const std::string& path, const EnsembleLayout& layout, const Config& config,
                                      EnsembleSource source, const std::string& kernels, OverwritePolicy overwrite,
                                      const Communicator& comm) {
  if (overwrite == OverwritePolicy::Refuse && std::filesystem::exists(path)) {
    throw ConfigError(path + ": ensemble file exists; pass --force to overwrite it or --resume to continue it");
  }
  check_disk_space(path, layout, overwrite, comm);
  const FileMode mode = overwrite == OverwritePolicy::Force ? FileMode::Truncate : FileMode::CreateNew;
  std::optional<EnsembleWriter> writer;
  run_collectively(comm, [&] { writer.emplace(EnsembleWriter(H5File(path, mode, comm.handle()), layout, comm)); });
  try {
    create_datasets(writer->file_, layout, comm);
    run_collectively(comm, [&] {
      write_description(writer->file_, layout, config, source, kernels, comm);
      writer->file_.flush();
    });
    run_collectively(comm, [&] { writer->open_datasets(); });
  } catch (...) {
    // Every rank is here (each step was agreed). A file this job created
    // but could not finish is no ensemble: remove it, so that it neither
    // passes for one nor blocks a rerun (replaced with --force, the old
    // file is gone already). It cannot be closed after a failed write.
    writer->abandon();
    if (comm.is_root()) std::filesystem::remove(path);
    throw;
  }
  return std::move(*writer);
}

EnsembleWriter EnsembleWriter::reopen(const std::string& path, const Communicator& comm) {
  H5File file(path, FileMode::ReadWrite, comm.handle());
  check_ensemble_file(file);
  const H5Attributes root = file.attributes();
  EnsembleLayout layout;
  layout.n_configs = root.read_int64(ensemble::kNTotal);
  layout.lattice_shape = root.read_int64_vector("lattice_shape");
  layout.storage = root.read_int64("store_configs") != 0 ? ConfigStorage::Store : ConfigStorage::Skip;
  if (layout.storage == ConfigStorage::Store) {
    const H5Dataset configs = H5Dataset::open(file, ensemble::kConfigs);
    layout.precision = configs.element_type() == ElementType::Float32 ? Precision::Float32 : Precision::Float64;
    // Rows of another shape would be written where the attributes say they are not.
    std::vector<int64_t> expected{layout.n_configs};
    expected.insert(expected.end(), layout.lattice_shape.begin(), layout.lattice_shape.end());
    if (configs.shape() != expected) {
      throw ConfigError(path + ": /configs does not have the shape its attributes give (n_configs x lattice_shape); "
                        "the file cannot be continued");
    }
  }
  if (file.contains(ensemble::kChainFields)) {
    layout.chain_states = H5Dataset::open(file, ensemble::kChainFields).rows();
  }
  const int64_t n_written = root.read_int64(ensemble::kNWritten);
  for (const char* dataset : {ensemble::kLogQ, ensemble::kLogP, ensemble::kChainState, ensemble::kChainAccepted}) {
    if (!file.contains(dataset)) {
      throw ConfigError(path + ": has no " + dataset + ", so it is no complete flowlat ensemble; it cannot be "
                        "continued");
    }
  }
  EnsembleWriter writer(std::move(file), layout, comm);
  writer.n_written_ = n_written;
  writer.open_datasets();
  return writer;
}

void EnsembleWriter::open_datasets() {
  if (layout_.storage == ConfigStorage::Store) {
    configs_ = std::make_unique<H5Dataset>(H5Dataset::open(file_, ensemble::kConfigs));
  }
  log_q_ = std::make_unique<H5Dataset>(H5Dataset::open(file_, ensemble::kLogQ));
  log_p_ = std::make_unique<H5Dataset>(H5Dataset::open(file_, ensemble::kLogP));
  log_w_ = std::make_unique<H5Dataset>(H5Dataset::open(file_, ensemble::kLogW));
  if (file_.contains(ensemble::kSumPhi2) && file_.contains(ensemble::kSumPhi4)) {
    sum_phi2_ = std::make_unique<H5Dataset>(H5Dataset::open(file_, ensemble::kSumPhi2));
    sum_phi4_ = std::make_unique<H5Dataset>(H5Dataset::open(file_, ensemble::kSumPhi4));
  }
  chain_state_ = std::make_unique<H5Dataset>(H5Dataset::open(file_, ensemble::kChainState));
  chain_accepted_ = std::make_unique<H5Dataset>(H5Dataset::open(file_, ensemble::kChainAccepted));
  if (layout_.chain_states > 0) {
    chain_fields_ = std::make_unique<H5Dataset>(H5Dataset::open(file_, ensemble::kChainFields));
  }
}

void EnsembleWriter::write_rows(const EnsembleRows& rows) {
  std::vector<double> log_w(static_cast<size_t>(rows.count));
  for (int64_t i = 0; i < rows.count; ++i) log_w[static_cast<size_t>(i)] = rows.log_p[i] - rows.log_q[i];
  if (configs_) {
    if (layout_.precision == Precision::Float32) {
      configs_->write_rows<float>(rows.offset, rows.count, static_cast<const float*>(rows.configs));
    } else {
      configs_->write_rows<double>(rows.offset, rows.count, static_cast<const double*>(rows.configs));
    }
  }
  log_q_->write_rows<double>(rows.offset, rows.count, rows.log_q);
  log_p_->write_rows<double>(rows.offset, rows.count, rows.log_p);
  log_w_->write_rows<double>(rows.offset, rows.count, rows.count ? log_w.data() : nullptr);
  if (sum_phi2_) {
    if (rows.count > 0 && (rows.sum_phi2 == nullptr || rows.sum_phi4 == nullptr)) {
      throw std::invalid_argument("EnsembleWriter::write_rows: rows without their sums of phi^2 and phi^4");
    }
    sum_phi2_->write_rows<double>(rows.offset, rows.count, rows.sum_phi2);
    sum_phi4_->write_rows<double>(rows.offset, rows.count, rows.sum_phi4);
  }
}

void EnsembleWriter::write_chain(int64_t offset, int64_t count, const int64_t* state, const uint8_t* accepted) {
  chain_state_->write_rows<int64_t>(offset, count, state);
  chain_accepted_->write_rows<uint8_t>(offset, count, accepted);
}

void EnsembleWriter::write_chain_states(int64_t first, int64_t count, const double* fields) {
  chain_fields_->write_rows<double>(first, count, fields);
}

std::vector<double> EnsembleWriter::read_chain_states(int64_t first, int64_t count) const {
  return chain_fields_->read_rows<double>(first, count);
}

std::vector<double> EnsembleWriter::read_log_w(int64_t offset, int64_t count) const {
  return log_w_->read_rows<double>(offset, count);
}

void EnsembleWriter::commit(int64_t n_written) {
  n_written_ = n_written;
  file_.attributes().write_int64(ensemble::kNWritten, n_written);
  file_.flush();
}

void EnsembleWriter::set_attribute(const std::string& name, const std::string& value) {
  file_.attributes().write_string(name, value);
}
void EnsembleWriter::set_attribute(const std::string& name, double value) {
  file_.attributes().write_double(name, value);
}
void EnsembleWriter::set_attribute(const std::string& name, int64_t value) {
  file_.attributes().write_int64(name, value);
}

bool EnsembleWriter::has_attribute(const std::string& name) const { return file_.attributes().contains(name); }
double EnsembleWriter::attribute_double(const std::string& name) const { return file_.attributes().read_double(name); }
int64_t EnsembleWriter::attribute_int64(const std::string& name) const { return file_.attributes().read_int64(name); }

void EnsembleWriter::abandon() noexcept {
  for (auto* dataset :
       {&configs_, &log_q_, &log_p_, &log_w_, &sum_phi2_, &sum_phi4_, &chain_state_, &chain_accepted_, &chain_fields_}) {
    if (*dataset) (*dataset)->abandon();
  }
  file_.abandon();
}

void EnsembleWriter::close() {
  configs_.reset();
  log_q_.reset();
  log_p_.reset();
  log_w_.reset();
  sum_phi2_.reset();
  sum_phi4_.reset();
  chain_state_.reset();
  chain_accepted_.reset();
  chain_fields_.reset();
  file_.close();
}

}  // namespace flowlat
