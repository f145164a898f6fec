// The checkpoint container: exact round trip, .prev rotation, and damaged
// files (a flipped byte, a truncation, a damaged header) each recognised
// with its own message.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "io/CheckpointFile.hpp"
#include "support/TestSupport.hpp"

namespace flowlat::testing {
namespace {
namespace fs = std::filesystem;

std::string binary_payload(size_t n, int seed) {
  std::string bytes(n, '\0');
  for (size_t i = 0; i < n; ++i) bytes[i] = static_cast<char>((i * 131 + static_cast<size_t>(seed) * 7) % 256);
  return bytes;
}

std::string error_of(const std::string& path) {
  try {
    read_checkpoint_file(path);
  } catch (const CheckpointError& e) {
    return e.what();
  }
  return "";
}

void flip_byte(const std::string& path, std::streamoff offset_from_end) {
  std::fstream file(path, std::ios::in | std::ios::out | std::ios::binary);
  file.seekg(-offset_from_end, std::ios::end);
  char c = 0;
  file.get(c);
  file.seekp(-offset_from_end, std::ios::end);
  file.put(static_cast<char>(c ^ 0x10));
}

TEST(CheckpointFile, RoundTripsBytesAndKeepsThePreviousOne) {
  const std::string dir = scratch_directory("checkpoint_file");
  const std::string path = dir + "/c.ckpt";
  const std::string first = binary_payload(10000, 1), second = binary_payload(7000, 2);
  write_checkpoint_file(path, first);
  EXPECT_FALSE(fs::exists(previous_checkpoint_path(path)));
  write_checkpoint_file(path, second);
  EXPECT_EQ(read_checkpoint_file(path), second);
  EXPECT_EQ(read_checkpoint_file(previous_checkpoint_path(path)), first);
  EXPECT_FALSE(fs::exists(path + ".tmp"));
}

TEST(CheckpointFile, FlippedByteIsACorruptionNamedByItsChecksum) {
  const std::string path = scratch_directory("checkpoint_flip") + "/c.ckpt";
  write_checkpoint_file(path, binary_payload(5000, 3));
  flip_byte(path, 1234);
  const std::string message = error_of(path);
  EXPECT_NE(message.find(path + ": checksum mismatch"), std::string::npos) << message;
  EXPECT_NE(message.find("corrupted"), std::string::npos) << message;
}

TEST(CheckpointFile, TruncationIsReportedWithTheMissingBytes) {
  const std::string path = scratch_directory("checkpoint_truncate") + "/c.ckpt";
  write_checkpoint_file(path, binary_payload(5000, 4));
  fs::resize_file(path, fs::file_size(path) - 1000);
  EXPECT_NE(error_of(path).find(path + ": truncated (4000 of 5000 payload bytes)"), std::string::npos)
      << error_of(path);
  fs::resize_file(path, 10);
  EXPECT_NE(error_of(path).find("damaged header"), std::string::npos) << error_of(path);
  EXPECT_NE(error_of(path + ".missing").find("no such checkpoint"), std::string::npos);
}

}  // namespace
}  // namespace flowlat::testing
