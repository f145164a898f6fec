#include "sample/EnsembleWriter.hpp"

#include <chrono>
#include <ctime>
#include <filesystem>

#include "BuildInfo.hpp"
#include "config/ConfigError.hpp"
#include "sample/EnsembleFormat.hpp"

namespace flowlat {
namespace {

std::string utc_now() {
  const std::time_t now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&now));
  return text;
}

void create_datasets(const H5File& file, const EnsembleLayout& layout) {
  const int64_t n = layout.n_configs;
  const int64_t chunk = std::max<int64_t>(1, std::min(layout.chunk_rows, n));
  if (layout.storage == ConfigStorage::Store) {
    std::vector<int64_t> shape{n};
    shape.insert(shape.end(), layout.lattice_shape.begin(), layout.lattice_shape.end());
    const auto type = layout.precision == Precision::Float32 ? ElementType::Float32 : ElementType::Float64;
    H5Dataset::create(file, ensemble::kConfigs, type, shape, RowCapacity::Fixed, chunk);
  }
  for (const char* path : {ensemble::kLogQ, ensemble::kLogP, ensemble::kLogW}) {
    H5Dataset::create(file, path, ElementType::Float64, {n}, RowCapacity::Fixed, chunk);
  }
  H5Dataset::create(file, ensemble::kChainState, ElementType::Int64, {n}, RowCapacity::Fixed, chunk);
  H5Dataset::create(file, ensemble::kChainAccepted, ElementType::UInt8, {n}, RowCapacity::Fixed, chunk);
}

void write_description(const H5File& file, const EnsembleLayout& layout, const Config& config,
                       EnsembleSource source, const Communicator& comm) {
  const H5Attributes root = file.attributes();
  root.write_string("format", ensemble::kFormat);
  root.write_int64("format_version", ensemble::kFormatVersion);
  root.write_string("code_version", kVersion);
  root.write_string("git_commit", kGitCommit);
  root.write_string("created", utc_now());
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

}  // namespace

EnsembleWriter::EnsembleWriter(H5File file, const EnsembleLayout& layout, const Communicator& comm)
    : file_(std::move(file)), layout_(layout), comm_(comm) {}

EnsembleWriter EnsembleWriter::create(const std::string& path, const EnsembleLayout& layout, const Config& config,
                                      EnsembleSource source, OverwritePolicy overwrite, const Communicator& comm) {
  if (overwrite == OverwritePolicy::Refuse && std::filesystem::exists(path)) {
    throw ConfigError(path + ": ensemble file exists; pass --force to overwrite it or --resume to continue it");
  }
  const FileMode mode = overwrite == OverwritePolicy::Force ? FileMode::Truncate : FileMode::CreateNew;
  EnsembleWriter writer(H5File(path, mode, comm.handle()), layout, comm);
  create_datasets(writer.file_, layout);
  write_description(writer.file_, layout, config, source, comm);
  writer.file_.flush();
  writer.open_datasets();
  return writer;
}

EnsembleWriter EnsembleWriter::reopen(const std::string& path, const EnsembleLayout& layout,
                                      const Communicator& comm) {
  EnsembleWriter writer(H5File(path, FileMode::ReadWrite, comm.handle()), layout, comm);
  writer.n_written_ = writer.file_.attributes().read_int64(ensemble::kNWritten);
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
}

void EnsembleWriter::write_rows(int64_t offset, const torch::Tensor& configs, const torch::Tensor& log_q,
                                const torch::Tensor& log_p) {
  const torch::Tensor q = log_q.to(torch::kCPU, torch::kFloat64).contiguous();
  const torch::Tensor p = log_p.to(torch::kCPU, torch::kFloat64).contiguous();
  const torch::Tensor w = (p - q).contiguous();
  const int64_t count = q.numel();
  if (configs_) {
    const torch::Tensor x = configs.to(torch::kCPU).contiguous();
    if (x.scalar_type() == torch::kFloat32) {
      configs_->write_rows<float>(offset, count, count ? x.data_ptr<float>() : nullptr);
    } else {
      configs_->write_rows<double>(offset, count, count ? x.data_ptr<double>() : nullptr);
    }
  }
  log_q_->write_rows<double>(offset, count, count ? q.data_ptr<double>() : nullptr);
  log_p_->write_rows<double>(offset, count, count ? p.data_ptr<double>() : nullptr);
  log_w_->write_rows<double>(offset, count, count ? w.data_ptr<double>() : nullptr);
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

void EnsembleWriter::close() {
  configs_.reset();
  log_q_.reset();
  log_p_.reset();
  log_w_.reset();
  file_.close();
}

}  // namespace flowlat
