#include "ensemble/EnsembleReader.hpp"

#include <filesystem>
#include <stdexcept>

#include "config/ConfigError.hpp"
#include "io/H5Dataset.hpp"
#include "ensemble/EnsembleFormat.hpp"

namespace flowlat {

EnsembleReader::EnsembleReader(const std::string& path) : path_(path), file_(path, FileMode::ReadOnly) {
  check_ensemble_file(file_);
  const H5Attributes root = file_.attributes();
  n_written_ = root.read_int64(ensemble::kNWritten);
  n_total_ = root.read_int64(ensemble::kNTotal);
  lattice_shape_ = root.read_int64_vector("lattice_shape");
}

void check_ensemble_file(const H5File& file) {
  const std::string& path = file.path();
  const H5Attributes root = file.attributes();
  if (!root.contains("format") || root.read_string("format") != ensemble::kFormat) {
    throw std::runtime_error(path + ": not a flowlat ensemble file (root attribute format != \"" +
                             std::string(ensemble::kFormat) + "\")");
  }
  const int64_t format_version = root.contains("format_version") ? root.read_int64("format_version") : -1;
  if (format_version != ensemble::kFormatVersion) {
    throw std::runtime_error(path + ": format_version " + std::to_string(format_version) +
                             ", but this flowlat reads format_version " + std::to_string(ensemble::kFormatVersion) +
                             (format_version > ensemble::kFormatVersion ? " (written by a newer flowlat)" : ""));
  }
  const int64_t n_written = root.read_int64(ensemble::kNWritten), n_total = root.read_int64(ensemble::kNTotal);
  const int64_t rows = H5Dataset::open(file, ensemble::kLogW).rows();
  if (n_written < 0 || n_written > n_total || n_total > rows) {
    throw std::runtime_error(path + ": inconsistent attributes: n_written = " + std::to_string(n_written) +
                             ", n_configs = " + std::to_string(n_total) + ", but " + ensemble::kLogW + " has " +
                             std::to_string(rows) + " rows (need 0 <= n_written <= n_configs <= rows)");
  }
  // One value per row, or every estimator downstream misreads the rows.
  for (const char* column : ensemble::kRowColumns) {
    if (file.contains(column) && H5Dataset::open(file, column).shape().size() != 1) {
      throw std::runtime_error(path + ": " + column + " must hold one value per row (a 1-d dataset)");
    }
  }
  // Chains replicate the Gamma method's analysis and split the rows: 0
  // would divide by zero, a negative count read past the chains.
  if (root.contains("n_chains") && root.read_int64("n_chains") < 1) {
    throw std::runtime_error(path + ": root attribute n_chains = " + std::to_string(root.read_int64("n_chains")) +
                             " (must be >= 1)");
  }
  const std::string source = root.contains(ensemble::kSource) ? root.read_string(ensemble::kSource) : "";
  if (source != "flow" && source != "hmc") {
    throw std::runtime_error(path + ": root attribute " + ensemble::kSource + " is '" + source +
                             "', neither 'flow' nor 'hmc'");
  }
}

EnsembleReader open_ensemble_input(const std::string& path) {
  if (!std::filesystem::is_regular_file(path)) throw ConfigError(path + ": no such ensemble file");
  try {
    return EnsembleReader(path);
  } catch (const std::exception& e) {
    const std::string message = e.what();
    throw ConfigError(message.rfind(path, 0) == 0 ? message : path + ": not a flowlat ensemble: " + message);
  }
}

int64_t EnsembleReader::volume() const {
  int64_t v = 1;
  for (int64_t extent : lattice_shape_) v *= extent;
  return v;
}

bool EnsembleReader::has_configs() const { return file_.contains(ensemble::kConfigs); }
bool EnsembleReader::has_moment_sums() const {
  return file_.contains(ensemble::kSumPhi2) && file_.contains(ensemble::kSumPhi4);
}

bool EnsembleReader::has_chain() const {
  return file_.attributes().contains("accept_rate");
}

std::string EnsembleReader::source() const { return file_.attributes().read_string(ensemble::kSource); }

namespace {
void check_range(const EnsembleReader& reader, int64_t offset, int64_t count) {
  if (offset < 0 || count < 0 || offset + count > reader.n_written()) {
    throw std::out_of_range(reader.path() + ": rows [" + std::to_string(offset) + ", " +
                            std::to_string(offset + count) + ") outside the " +
                            std::to_string(reader.n_written()) + " written rows");
  }
}
}  // namespace

std::vector<double> EnsembleReader::read_column(const std::string& dataset, int64_t offset, int64_t count) const {
  check_range(*this, offset, count);
  return H5Dataset::open(file_, dataset).read_rows<double>(offset, count);
}

std::vector<double> EnsembleReader::read_configs(int64_t offset, int64_t count) const {
  check_range(*this, offset, count);
  return H5Dataset::open(file_, ensemble::kConfigs).read_rows<double>(offset, count);
}

std::vector<int64_t> EnsembleReader::read_chain_state(int64_t offset, int64_t count) const {
  check_range(*this, offset, count);
  return H5Dataset::open(file_, ensemble::kChainState).read_rows<int64_t>(offset, count);
}

std::vector<uint8_t> EnsembleReader::read_chain_accepted(int64_t offset, int64_t count) const {
  check_range(*this, offset, count);
  return H5Dataset::open(file_, ensemble::kChainAccepted).read_rows<uint8_t>(offset, count);
}

double EnsembleReader::attribute_double(const std::string& name) const {
  return file_.attributes().read_double(name);
}
int64_t EnsembleReader::attribute_int64(const std::string& name) const { return file_.attributes().read_int64(name); }
std::string EnsembleReader::attribute_string(const std::string& name) const {
  return file_.attributes().read_string(name);
}
bool EnsembleReader::has_attribute(const std::string& name) const { return file_.attributes().contains(name); }

}  // namespace flowlat
