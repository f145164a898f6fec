// Parallel HDF5: every rank writes its own rows collectively (uneven
// splits, ranks with no rows, growing datasets batch by batch), then rank 0
// re-reads the closed file serially (the one-process reference) and checks
// every value and attribute.
#include <gtest/gtest.h>
#include <mpi.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "io/H5Dataset.hpp"
#include "io/H5File.hpp"
#include "support/TestSupport.hpp"

namespace flowlat {
namespace {

constexpr int64_t kSite = 16;  // a [4, 4] configuration

int world_rank() {
  int rank = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  return rank;
}

int world_size() {
  int size = 0;
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  return size;
}

// A fresh file path, the same on every rank; rank 0 prepares the directory
// (one per rank count: the np2 and np4 runs may overlap). Collective.
std::string shared_file(const std::string& name) {
  const std::string directory = "parallel_hdf5_np" + std::to_string(world_size());
  std::string path;
  if (world_rank() == 0) path = testing::scratch_directory(directory) + "/" + name + ".h5";
  MPI_Barrier(MPI_COMM_WORLD);
  if (world_rank() != 0) path = std::string(FLOWLAT_TEST_SCRATCH) + "/" + directory + "/" + name + ".h5";
  return path;
}

float config_value(int64_t row, int64_t site) { return static_cast<float>(row * 100 + site) + 0.5f; }
double weight_value(int64_t row) { return -0.125 * static_cast<double>(row) + 1e-9; }
int64_t state_value(int64_t row) { return (int64_t{1} << 41) + row * 7; }
uint8_t accepted_value(int64_t row) { return static_cast<uint8_t>(row % 3 == 0); }

struct RowRange {
  int64_t begin;
  int64_t count;
};

// Rows [begin, begin + count) of rank `rank` when `rows` are split by `counts`.
RowRange my_rows(const std::vector<int64_t>& counts, int64_t first_row) {
  int64_t begin = first_row;
  for (int r = 0; r < world_rank(); ++r) begin += counts[r];
  return {begin, counts[world_rank()]};
}

// Writes this rank's rows of all four record datasets. Collective.
void write_records(H5Dataset& configs, H5Dataset& log_w, H5Dataset& state, H5Dataset& accepted, RowRange rows) {
  std::vector<float> c;
  std::vector<double> w;
  std::vector<int64_t> s;
  std::vector<uint8_t> a;
  for (int64_t row = rows.begin; row < rows.begin + rows.count; ++row) {
    for (int64_t site = 0; site < kSite; ++site) c.push_back(config_value(row, site));
    w.push_back(weight_value(row));
    s.push_back(state_value(row));
    a.push_back(accepted_value(row));
  }
  // A rank with no rows passes null buffers: it must still take part.
  configs.write_rows(rows.begin, rows.count, rows.count ? c.data() : nullptr);
  log_w.write_rows(rows.begin, rows.count, rows.count ? w.data() : nullptr);
  state.write_rows(rows.begin, rows.count, rows.count ? s.data() : nullptr);
  accepted.write_rows(rows.begin, rows.count, rows.count ? a.data() : nullptr);
}

// The serial, one-process reference check of a closed file. Rank 0.
void expect_records(const std::string& path, int64_t rows) {
  H5File file(path, FileMode::ReadOnly);
  const H5Dataset configs = H5Dataset::open(file, "configs");
  ASSERT_EQ(configs.shape(), (std::vector<int64_t>{rows, 4, 4}));
  const std::vector<float> c = configs.read_rows<float>(0, rows);
  const std::vector<double> w = H5Dataset::open(file, "log_w").read_rows<double>(0, rows);
  const std::vector<int64_t> s = H5Dataset::open(file, "mcmc/state").read_rows<int64_t>(0, rows);
  const std::vector<uint8_t> a = H5Dataset::open(file, "mcmc/accepted").read_rows<uint8_t>(0, rows);
  int64_t wrong = 0;
  for (int64_t row = 0; row < rows; ++row) {
    for (int64_t site = 0; site < kSite; ++site) wrong += c[row * kSite + site] != config_value(row, site);
    wrong += w[row] != weight_value(row);
    wrong += s[row] != state_value(row);
    wrong += a[row] != accepted_value(row);
  }
  EXPECT_EQ(wrong, 0) << "values differing from the reference in " << path;
  EXPECT_EQ(file.attributes().read_int64("n_written"), rows);
}

struct RecordFile {
  H5File file;
  H5Dataset configs, log_w, state, accepted;
};

// Creates the ensemble layout with `rows` rows (Unlimited). Collective.
RecordFile create_records(const std::string& path, int64_t rows, int64_t chunk_rows) {
  H5File file(path, FileMode::CreateNew, MPI_COMM_WORLD);
  H5Dataset configs = H5Dataset::create(file, "configs", ElementType::Float32, {rows, 4, 4},
                                        RowCapacity::Unlimited, chunk_rows);
  H5Dataset log_w = H5Dataset::create(file, "log_w", ElementType::Float64, {rows}, RowCapacity::Unlimited, chunk_rows);
  H5Dataset state = H5Dataset::create(file, "mcmc/state", ElementType::Int64, {rows}, RowCapacity::Unlimited, chunk_rows);
  H5Dataset accepted = H5Dataset::create(file, "mcmc/accepted", ElementType::UInt8, {rows}, RowCapacity::Unlimited,
                                         chunk_rows);
  return {std::move(file), std::move(configs), std::move(log_w), std::move(state), std::move(accepted)};
}

void close_records(RecordFile& records) {
  records.configs.close();
  records.log_w.close();
  records.state.close();
  records.accepted.close();
  records.file.close();
}

// Fixed-size datasets, uneven split: rank r writes r + 1 rows, the last rank none.
TEST(ParallelHdf5, EachRankWritesItsRowsAndRankZeroReadsThemSerially) {
  const int size = world_size();
  std::vector<int64_t> counts(size);
  for (int r = 0; r < size; ++r) counts[r] = r + 1 < size ? r + 1 : 0;
  int64_t rows = 0;
  for (int64_t n : counts) rows += n;
  const std::string path = shared_file("uneven");
  {
    RecordFile records = create_records(path, rows, 2);  // chunks shared between ranks
    write_records(records.configs, records.log_w, records.state, records.accepted, my_rows(counts, 0));
    records.file.attributes().write_int64("n_written", rows);
    close_records(records);
  }
  MPI_Barrier(MPI_COMM_WORLD);
  if (world_rank() == 0) expect_records(path, rows);
  MPI_Barrier(MPI_COMM_WORLD);
}

// The sampler's pattern: extend, write this batch's rows, bump n_written,
// flush. The last batch has fewer rows than ranks, so some write nothing.
TEST(ParallelHdf5, BatchesGrowTheDatasetsWithNWrittenAfterEachBatch) {
  const int size = world_size();
  const std::string path = shared_file("batches");
  const std::vector<int64_t> batch_rows = {3 * size + 1, 2 * size, 1};
  int64_t written = 0;
  {
    RecordFile records = create_records(path, 0, 0);
    for (int64_t batch : batch_rows) {
      std::vector<int64_t> counts(size, batch / size);
      for (int r = 0; r < batch % size; ++r) ++counts[r];
      records.configs.extend(written + batch);
      records.log_w.extend(written + batch);
      records.state.extend(written + batch);
      records.accepted.extend(written + batch);
      write_records(records.configs, records.log_w, records.state, records.accepted, my_rows(counts, written));
      written += batch;
      records.file.attributes().write_int64("n_written", written);
      records.file.flush();
    }
    // Collective reads in parallel mode: each rank reads back a different row.
    const int64_t row = (world_rank() * 5) % written;
    EXPECT_EQ(records.log_w.read_rows<double>(row, 1).at(0), weight_value(row));
    EXPECT_EQ(records.configs.read_rows<float>(row, 1).at(kSite - 1), config_value(row, kSite - 1));
    close_records(records);
  }
  MPI_Barrier(MPI_COMM_WORLD);
  if (world_rank() == 0) expect_records(path, written);
  MPI_Barrier(MPI_COMM_WORLD);
}

TEST(ParallelHdf5, AttributesWrittenCollectivelyReadBackEverywhere) {
  const std::string path = shared_file("attributes");
  const std::vector<int64_t> lattice = {16, 16};
  const std::vector<double> couplings = {-4.0, 8.0};
  {
    H5File file(path, FileMode::CreateNew, MPI_COMM_WORLD);
    file.create_group("mcmc");
    H5Dataset configs = H5Dataset::create(file, "configs", ElementType::Float64, {0, 16, 16});
    for (const H5Attributes& attributes : {file.attributes(), file.attributes("mcmc"), configs.attributes()}) {
      attributes.write_string("flowlat_version", "0.1.0 (\xCE\xBB)");
      attributes.write_double("beta", 0.75);
      attributes.write_int64("seed", -(int64_t{1} << 60));
      attributes.write_int64_vector("lattice", lattice);
      attributes.write_double_vector("couplings", couplings);
      attributes.write_int64("n_written", 0);
      attributes.write_int64("n_written", 42);  // overwritten in place
    }
    EXPECT_EQ(file.attributes().read_string("flowlat_version"), "0.1.0 (\xCE\xBB)");  // Local read
  }
  MPI_Barrier(MPI_COMM_WORLD);
  if (world_rank() == 0) {
    H5File file(path, FileMode::ReadOnly);
    const H5Dataset configs = H5Dataset::open(file, "configs");
    for (const H5Attributes& attributes : {file.attributes(), file.attributes("mcmc"), configs.attributes()}) {
      EXPECT_EQ(attributes.read_string("flowlat_version"), "0.1.0 (\xCE\xBB)");
      EXPECT_EQ(attributes.read_double("beta"), 0.75);
      EXPECT_EQ(attributes.read_int64("seed"), -(int64_t{1} << 60));
      EXPECT_EQ(attributes.read_int64_vector("lattice"), lattice);
      EXPECT_EQ(attributes.read_double_vector("couplings"), couplings);
      EXPECT_EQ(attributes.read_int64("n_written"), 42);
    }
  }
  MPI_Barrier(MPI_COMM_WORLD);
}

// Every rank gets the same refusal, so none is left waiting in a collective.
TEST(ParallelHdf5, CreateNewFailsOnEveryRankAndKeepsTheFile) {
  const std::string path = shared_file("existing");
  {
    H5File file(path, FileMode::CreateNew, MPI_COMM_WORLD);
    file.attributes().write_int64("n_written", 7);
  }
  bool refused = false;
  try {
    H5File again(path, FileMode::CreateNew, MPI_COMM_WORLD);
  } catch (const std::runtime_error& error) {
    refused = std::string(error.what()).find(path) != std::string::npos;
  }
  EXPECT_TRUE(refused) << "rank " << world_rank();
  MPI_Barrier(MPI_COMM_WORLD);
  if (world_rank() == 0) {
    EXPECT_EQ(H5File(path, FileMode::ReadOnly).attributes().read_int64("n_written"), 7);
  }
  MPI_Barrier(MPI_COMM_WORLD);
}

}  // namespace
}  // namespace flowlat

int main(int argc, char** argv) { return flowlat::testing::run_mpi_tests(argc, argv); }
