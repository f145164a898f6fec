// What EnsembleWriter promises about space and writers: the disk space it
// checks before creating a file covers the file it creates, and a file
// being written cannot be claimed by a second writer.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "config/Config.hpp"
#include "config/ConfigError.hpp"
#include "ensemble/EnsembleWriter.hpp"
#include "io/WriterClaim.hpp"
#include "support/TestSupport.hpp"

namespace flowlat::testing {
namespace {

EnsembleLayout layout_of(int64_t rows, ConfigStorage storage) {
  EnsembleLayout layout;
  layout.n_configs = rows;
  layout.lattice_shape = {8, 8};
  layout.precision = Precision::Float64;
  layout.storage = storage;
  layout.chunk_rows = 256;
  return layout;
}

TEST(EnsembleWriter, TheSpaceCheckedBeforehandCoversTheFileCreated) {
  const std::string dir = scratch_directory("writer_space");
  for (const ConfigStorage storage : {ConfigStorage::Store, ConfigStorage::Skip}) {
    const std::string path = dir + (storage == ConfigStorage::Store ? "/stored.h5" : "/skipped.h5");
    const EnsembleLayout layout = layout_of(20000, storage);
    EnsembleWriter::create(path, layout, Config{}, EnsembleSource::Flow, "test", OverwritePolicy::Refuse,
                           Communicator::self())
        .close();
    const double size = static_cast<double>(std::filesystem::file_size(path));
    const double estimate = ensemble_file_bytes(layout);
    // Datasets are allocated in full at creation: the estimate is the file
    // plus at most its 1 MiB allowance for metadata.
    EXPECT_LE(size, estimate) << path;
    EXPECT_GE(size, estimate - (1 << 20) - 0.02 * estimate) << path;
  }
}

TEST(EnsembleWriter, AFileBeingWrittenCannotBeClaimedAgain) {
  const std::string path = scratch_directory("writer_claim") + "/ensemble.h5";
  EnsembleWriter writer = EnsembleWriter::create(path, layout_of(100, ConfigStorage::Skip), Config{},
                                                 EnsembleSource::Flow, "test", OverwritePolicy::Refuse,
                                                 Communicator::self());
  // flock locks belong to an open file: a second claim conflicts even
  // within this process, as one from another process would.
  try {
    WriterClaim::acquire(path);
    FAIL() << "a second claim was granted while the writer holds the file";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("is being written by another process"), std::string::npos) << e.what();
  }
  EXPECT_THROW(EnsembleWriter::reopen(path, Communicator::self()), ConfigError);
  writer.close();
  EXPECT_NO_THROW(WriterClaim::acquire(path));  // released with the file
}

}  // namespace
}  // namespace flowlat::testing
