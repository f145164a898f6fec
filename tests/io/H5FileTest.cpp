// Serial HDF5 layer: round trips of every element type and shape, row
// ranges written out of order, attributes, extension, and the errors a
// caller relies on (no silent overwrite, missing objects named).
#include <gtest/gtest.h>
#include <mpi.h>

#include <cctype>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

#include "io/H5Dataset.hpp"
#include "io/H5File.hpp"

namespace flowlat {
namespace {
namespace fs = std::filesystem;

// A fresh file path <test scratch>/h5file/<test name>.h5.
std::string scratch_file() {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  std::string name = std::string(info->test_suite_name()) + "_" + info->name();
  for (char& c : name) c = std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
  const fs::path directory = fs::path(FLOWLAT_TEST_SCRATCH) / "h5file";
  fs::create_directories(directory);
  const fs::path path = directory / (name + ".h5");
  fs::remove(path);
  return path.string();
}

std::string error_of(const std::function<void()>& action) {
  try {
    action();
  } catch (const std::runtime_error& error) {
    return error.what();
  }
  return "";
}

// Distinct, exactly representable values per element type.
template <typename T>
std::vector<T> pattern(size_t count, int salt) {
  std::vector<T> values(count);
  for (size_t i = 0; i < count; ++i) {
    if constexpr (std::is_floating_point_v<T>) {
      values[i] = static_cast<T>(salt) + static_cast<T>(i) * static_cast<T>(0.25) - static_cast<T>(3.5);
    } else if constexpr (std::is_same_v<T, uint8_t>) {
      values[i] = static_cast<uint8_t>((i * 7 + salt) % 256);
    } else {
      values[i] = (int64_t{1} << 40) * salt - static_cast<int64_t>(i) * 1000003;
    }
  }
  return values;
}

template <typename T>
class H5RoundTrip : public ::testing::Test {};
using ElementTypes = ::testing::Types<float, double, int64_t, uint8_t>;
TYPED_TEST_SUITE(H5RoundTrip, ElementTypes);

TYPED_TEST(H5RoundTrip, EveryShapeReadsBackExactlyAfterReopening) {
  using T = TypeParam;
  const std::string path = scratch_file();
  const std::vector<std::vector<int64_t>> shapes = {{7}, {5, 3}, {4, 3, 2}, {3, 2, 3, 4}, {1, 1}};
  {
    H5File file(path, FileMode::CreateNew);
    for (size_t s = 0; s < shapes.size(); ++s) {
      H5Dataset dataset = H5Dataset::create(file, "/d" + std::to_string(s), ElementTypeOf<T>::value, shapes[s],
                                            s % 2 ? RowCapacity::Fixed : RowCapacity::Unlimited, s == 2 ? 2 : 0);
      const std::vector<T> values = pattern<T>(static_cast<size_t>(shapes[s][0] * dataset.row_size()), int(s));
      dataset.write_rows(0, shapes[s][0], values.data());
    }
  }
  H5File file(path, FileMode::ReadOnly);
  for (size_t s = 0; s < shapes.size(); ++s) {
    const H5Dataset dataset = H5Dataset::open(file, "/d" + std::to_string(s));
    EXPECT_EQ(dataset.element_type(), ElementTypeOf<T>::value);
    EXPECT_EQ(dataset.shape(), shapes[s]);
    const std::vector<T> expected = pattern<T>(static_cast<size_t>(shapes[s][0] * dataset.row_size()), int(s));
    EXPECT_EQ(dataset.read_rows<T>(0, shapes[s][0]), expected) << "shape #" << s;
  }
}

TEST(H5Dataset, RowRangesWrittenInAnyOrderLandWhereAsked) {
  const std::string path = scratch_file();
  const std::vector<int64_t> shape = {10, 4, 4};
  const std::vector<float> all = pattern<float>(10 * 16, 1);
  H5File file(path, FileMode::CreateNew);
  H5Dataset dataset = H5Dataset::create(file, "configs", ElementType::Float32, shape, RowCapacity::Fixed, 3);
  // [7,10), [0,2), [4,7), [2,4): chunks of 3 rows are split across writes.
  for (auto [begin, end] : std::vector<std::pair<int64_t, int64_t>>{{7, 10}, {0, 2}, {4, 7}, {2, 4}}) {
    dataset.write_rows(begin, end - begin, all.data() + begin * 16);
  }
  dataset.write_rows<float>(5, 0, nullptr);  // an empty range is a no-op
  EXPECT_EQ(dataset.read_rows<float>(0, 10), all);
  const std::vector<float> middle = dataset.read_rows<float>(3, 5);
  EXPECT_EQ(middle, std::vector<float>(all.begin() + 3 * 16, all.begin() + 8 * 16));
  EXPECT_TRUE(dataset.read_rows<float>(10, 0).empty());
}

TEST(H5Dataset, FloatAndDoubleConvertButOtherMismatchesAreRefused) {
  H5File file(scratch_file(), FileMode::CreateNew);
  H5Dataset configs = H5Dataset::create(file, "configs", ElementType::Float32, {2, 2});
  const std::vector<double> values = {0.5, -1.25, 3.0, 1e-3};
  configs.write_rows(0, 2, values.data());
  const std::vector<double> back = configs.read_rows<double>(0, 2);
  for (size_t i = 0; i < values.size(); ++i) EXPECT_EQ(back[i], static_cast<double>(static_cast<float>(values[i])));

  H5Dataset state = H5Dataset::create(file, "state", ElementType::Int64, {2});
  const std::vector<uint8_t> bytes = {1, 2};
  const std::string error = error_of([&] { state.write_rows(0, 2, bytes.data()); });
  EXPECT_NE(error.find("uint8"), std::string::npos) << error;
  EXPECT_NE(error.find("int64"), std::string::npos) << error;
}

TEST(H5Dataset, RowsOutsideTheShapeAreRefusedNamingTheRange) {
  const std::string path = scratch_file();
  H5File file(path, FileMode::CreateNew);
  H5Dataset dataset = H5Dataset::create(file, "log_w", ElementType::Float64, {4});
  const std::vector<double> values(3, 1.0);
  const std::string error = error_of([&] { dataset.write_rows(2, 3, values.data()); });
  EXPECT_NE(error.find("[2, 5)"), std::string::npos) << error;
  EXPECT_NE(error.find("/log_w"), std::string::npos) << error;
  EXPECT_NE(error.find(path), std::string::npos) << error;
  EXPECT_FALSE(error_of([&] { dataset.read_rows<double>(-1, 1); }).empty());
}

TEST(H5Dataset, ExtendGrowsUnlimitedDatasetsAndKeepsRows) {
  const std::string path = scratch_file();
  {
    H5File file(path, FileMode::CreateNew);
    H5Dataset dataset = H5Dataset::create(file, "/mcmc/state", ElementType::Int64, {0, 2});
    EXPECT_EQ(dataset.shape(), (std::vector<int64_t>{0, 2}));
    const std::vector<int64_t> first = pattern<int64_t>(6, 1), second = pattern<int64_t>(10, 2);
    dataset.extend(3);
    dataset.write_rows(0, 3, first.data());
    dataset.extend(8);
    dataset.write_rows(3, 5, second.data());
    EXPECT_EQ(dataset.rows(), 8);
    EXPECT_FALSE(error_of([&] { dataset.extend(2); }).empty());  // shrinking would drop rows

    H5Dataset fixed = H5Dataset::create(file, "fixed", ElementType::UInt8, {4}, RowCapacity::Fixed);
    const std::string error = error_of([&] { fixed.extend(5); });
    EXPECT_NE(error.find("/fixed"), std::string::npos) << error;
    EXPECT_EQ(fixed.rows(), 4);
  }
  H5File file(path, FileMode::ReadOnly);
  const H5Dataset dataset = H5Dataset::open(file, "mcmc/state");
  std::vector<int64_t> expected = pattern<int64_t>(6, 1);
  const std::vector<int64_t> second = pattern<int64_t>(10, 2);
  expected.insert(expected.end(), second.begin(), second.end());
  EXPECT_EQ(dataset.read_rows<int64_t>(0, 8), expected);
}

TEST(H5Dataset, OpeningAMissingDatasetNamesItAndTheFile) {
  const std::string path = scratch_file();
  { H5File file(path, FileMode::CreateNew); file.create_group("mcmc"); }
  H5File file(path, FileMode::ReadOnly);
  for (const std::string missing : {"/log_q", "/mcmc/accepted", "/nothing/here"}) {
    const std::string error = error_of([&] { H5Dataset::open(file, missing); });
    EXPECT_NE(error.find("'" + missing + "'"), std::string::npos) << error;
    EXPECT_NE(error.find(path), std::string::npos) << error;
  }
  EXPECT_FALSE(error_of([&] { H5Dataset::open(file, "/mcmc"); }).empty());  // a group, not a dataset
}

TEST(H5File, CreateNewRefusesAnExistingFileAndLeavesItUntouched) {
  const std::string path = scratch_file();
  const std::vector<double> values = {1.5, 2.5, 3.5};
  {
    H5File file(path, FileMode::CreateNew);
    H5Dataset::create(file, "log_p", ElementType::Float64, {3}).write_rows(0, 3, values.data());
    file.attributes().write_int64("n_written", 3);
  }
  const auto size_before = fs::file_size(path);
  const auto time_before = fs::last_write_time(path);

  const std::string error = error_of([&] { H5File again(path, FileMode::CreateNew); });
  EXPECT_NE(error.find(path), std::string::npos) << error;
  EXPECT_NE(error.find("overwrite"), std::string::npos) << error;
  EXPECT_EQ(fs::file_size(path), size_before);
  EXPECT_EQ(fs::last_write_time(path), time_before);
  {
    H5File file(path, FileMode::ReadOnly);
    EXPECT_EQ(H5Dataset::open(file, "log_p").read_rows<double>(0, 3), values);
    EXPECT_EQ(file.attributes().read_int64("n_written"), 3);
  }
  // Truncate is the explicit overwrite.
  H5File file(path, FileMode::Truncate);
  EXPECT_FALSE(file.contains("log_p"));
}

TEST(H5File, CreateNewDoesNotClobberANonHdf5File) {
  const std::string path = scratch_file();
  { std::ofstream(path) << "precious notes\n"; }
  EXPECT_FALSE(error_of([&] { H5File file(path, FileMode::CreateNew); }).empty());
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  EXPECT_EQ(text.str(), "precious notes\n");
}

TEST(H5File, OpeningAMissingFileNamesIt) {
  const std::string path = scratch_file();
  for (FileMode mode : {FileMode::ReadOnly, FileMode::ReadWrite}) {
    const std::string error = error_of([&] { H5File file(path, mode); });
    EXPECT_NE(error.find(path), std::string::npos) << error;
    EXPECT_NE(error.find("no such file"), std::string::npos) << error;
  }
}

TEST(H5File, ReadOnlyFilesRefuseWrites) {
  const std::string path = scratch_file();
  { H5File file(path, FileMode::CreateNew); H5Dataset::create(file, "x", ElementType::Float64, {2}); }
  H5File file(path, FileMode::ReadOnly);
  H5Dataset dataset = H5Dataset::open(file, "x");
  const std::vector<double> values = {1, 2};
  EXPECT_NE(error_of([&] { dataset.write_rows(0, 2, values.data()); }).find("/x"), std::string::npos);
  EXPECT_FALSE(error_of([&] { file.attributes().write_double("beta", 1.0); }).empty());
}

TEST(H5File, GroupsNestAndAreFoundByPath) {
  H5File file(scratch_file(), FileMode::CreateNew);
  file.create_group("mcmc");
  file.create_group("/a/b/c");
  file.ensure_group("mcmc");  // exists: nothing happens
  EXPECT_TRUE(file.contains("mcmc"));
  EXPECT_TRUE(file.contains("/a/b"));
  EXPECT_TRUE(file.contains("/a/b/c"));
  EXPECT_TRUE(file.contains("/"));
  EXPECT_FALSE(file.contains("/a/x/c"));
  EXPECT_FALSE(error_of([&] { file.create_group("mcmc"); }).empty());
}

TEST(H5File, CloseRefusesWhileADatasetIsOpenAndSucceedsAfter) {
  H5File file(scratch_file(), FileMode::CreateNew);
  H5Dataset dataset = H5Dataset::create(file, "x", ElementType::UInt8, {1});
  EXPECT_NE(error_of([&] { file.close(); }).find("still open"), std::string::npos);
  dataset.close();
  file.close();
  EXPECT_FALSE(file.is_open());
  EXPECT_FALSE(error_of([&] { file.flush(); }).empty());
}

TEST(H5Attributes, EveryTypeRoundTripsOnRootGroupAndDataset) {
  const std::string path = scratch_file();
  const std::string unicode = "m\xC2\xB2 = -4, \xCE\xBB = 8";  // "m² = -4, λ = 8"
  const std::vector<int64_t> lattice = {16, 8, 4};
  const std::vector<double> couplings = {-4.0, 8.0, 1e-300, -0.0};
  {
    H5File file(path, FileMode::CreateNew);
    file.create_group("mcmc");
    H5Dataset dataset = H5Dataset::create(file, "configs", ElementType::Float32, {0, 2, 2});
    for (const H5Attributes& attributes : {file.attributes(), file.attributes("mcmc"), dataset.attributes()}) {
      attributes.write_string("action", unicode);
      attributes.write_string("empty", "");
      attributes.write_double("beta", 0.1);
      attributes.write_int64("seed", std::numeric_limits<int64_t>::min() + 1);
      attributes.write_int64_vector("lattice", lattice);
      attributes.write_int64_vector("none", {});
      attributes.write_double_vector("couplings", couplings);
    }
  }
  H5File file(path, FileMode::ReadOnly);
  const H5Dataset dataset = H5Dataset::open(file, "configs");
  for (const H5Attributes& attributes : {file.attributes("/"), file.attributes("/mcmc"), dataset.attributes()}) {
    EXPECT_EQ(attributes.read_string("action"), unicode);
    EXPECT_EQ(attributes.read_string("empty"), "");
    EXPECT_EQ(attributes.read_double("beta"), 0.1);
    EXPECT_EQ(attributes.read_int64("seed"), std::numeric_limits<int64_t>::min() + 1);
    EXPECT_EQ(attributes.read_int64_vector("lattice"), lattice);
    EXPECT_TRUE(attributes.read_int64_vector("none").empty());
    const std::vector<double> back = attributes.read_double_vector("couplings");
    ASSERT_EQ(back.size(), couplings.size());
    for (size_t i = 0; i < back.size(); ++i) EXPECT_EQ(back[i], couplings[i]);
    EXPECT_TRUE(std::signbit(back[3]));
    EXPECT_EQ(attributes.names(),
              (std::vector<std::string>{"action", "beta", "couplings", "empty", "lattice", "none", "seed"}));
  }
}

TEST(H5Attributes, OverwritingReplacesValueAndType) {
  const std::string path = scratch_file();
  {
    H5File file(path, FileMode::CreateNew);
    const H5Attributes root = file.attributes();
    for (int64_t n = 0; n <= 5; ++n) {  // the per-batch counter pattern
      root.write_int64("n_written", n);
      file.flush();
    }
    root.write_string("note", "a rather long first value");
    root.write_string("note", "short");
    root.write_int64_vector("shape", {4, 4});
    root.write_int64_vector("shape", {8, 8, 8});
    root.write_double("changes_type", 1.5);
    root.write_string("changes_type", "now a string");
  }
  H5File file(path, FileMode::ReadOnly);
  const H5Attributes root = file.attributes();
  EXPECT_EQ(root.read_int64("n_written"), 5);
  EXPECT_EQ(root.read_string("note"), "short");
  EXPECT_EQ(root.read_int64_vector("shape"), (std::vector<int64_t>{8, 8, 8}));
  EXPECT_EQ(root.read_string("changes_type"), "now a string");
}

TEST(H5Attributes, MissingOrMistypedAttributesAreNamedInTheError) {
  const std::string path = scratch_file();
  H5File file(path, FileMode::CreateNew);
  const H5Attributes root = file.attributes();
  root.write_string("name", "phi4");
  root.write_int64_vector("lattice", {4, 4});

  std::string error = error_of([&] { root.read_double("missing"); });
  EXPECT_NE(error.find("'missing'"), std::string::npos) << error;
  EXPECT_NE(error.find(path), std::string::npos) << error;
  error = error_of([&] { root.read_double("name"); });
  EXPECT_NE(error.find("'name'"), std::string::npos) << error;
  EXPECT_NE(error.find("string"), std::string::npos) << error;
  error = error_of([&] { root.read_int64("lattice"); });
  EXPECT_NE(error.find("2 values"), std::string::npos) << error;
  EXPECT_FALSE(root.contains("missing"));
  EXPECT_TRUE(root.contains("name"));
  EXPECT_NE(error_of([&] { file.attributes("/no/such/group"); }).find("/no/such/group"), std::string::npos);
}

// The collective (MPI-IO) code path on a one-rank communicator; the MPI
// tests cover several ranks. Needs MPI_Init, which the unit-test main does.
TEST(H5File, ParallelModeOnOneRankRoundTrips) {
  int initialized = 0;
  MPI_Initialized(&initialized);
  if (!initialized) GTEST_SKIP() << "MPI is not initialised by this test main";
  const std::string path = scratch_file();
  const std::vector<double> values = pattern<double>(12, 3);
  {
    H5File file(path, FileMode::CreateNew, MPI_COMM_SELF);
    EXPECT_TRUE(file.is_parallel());
    H5Dataset dataset = H5Dataset::create(file, "log_q", ElementType::Float64, {0, 3});
    dataset.extend(4);
    dataset.write_rows(0, 4, values.data());
    dataset.write_rows<double>(4, 0, nullptr);
    file.attributes().write_int64("n_written", 4);
    file.flush();
  }
  H5File file(path, FileMode::ReadOnly);
  EXPECT_EQ(H5Dataset::open(file, "log_q").read_rows<double>(0, 4), values);
  EXPECT_EQ(file.attributes().read_int64("n_written"), 4);
}

}  // namespace
}  // namespace flowlat
