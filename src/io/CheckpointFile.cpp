#include "io/CheckpointFile.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "io/FileChecksum.hpp"

namespace flowlat {
namespace fs = std::filesystem;
namespace {
constexpr const char* kMagic = "flowlat-checkpoint 1";

std::string errno_text() { return std::strerror(errno); }

void write_all(int fd, const std::string& bytes, const std::string& path) {
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw std::runtime_error(path + ": write failed: " + errno_text());
    done += static_cast<size_t>(n);
  }
}

void fsync_path(const std::string& path, int flags) {
  const int fd = ::open(path.c_str(), flags);
  if (fd < 0) throw std::runtime_error(path + ": cannot open for fsync: " + errno_text());
  const int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) throw std::runtime_error(path + ": fsync failed: " + errno_text());
}
}  // namespace

void write_checkpoint_file(const std::string& path, const std::string& payload) {
  const std::string header = std::string(kMagic) + "\nbytes " + std::to_string(payload.size()) + "\nchecksum " +
                             bytes_checksum(payload) + "\n\n";
  const std::string temporary = path + ".tmp";
  const int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) throw std::runtime_error(temporary + ": cannot create: " + errno_text());
  try {
    write_all(fd, header, temporary);
    write_all(fd, payload, temporary);
    if (::fsync(fd) != 0) throw std::runtime_error(temporary + ": fsync failed: " + errno_text());
  } catch (...) {
    ::close(fd);
    throw;
  }
  ::close(fd);
  // Between the two renames only .prev exists; readers fall back to it.
  if (fs::exists(path)) fs::rename(path, previous_checkpoint_path(path));
  fs::rename(temporary, path);
  const fs::path directory = fs::path(path).parent_path();
  fsync_path(directory.empty() ? "." : directory.string(), O_RDONLY | O_DIRECTORY);
}

std::string read_checkpoint_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw CheckpointError(path + ": no such checkpoint");
  std::string magic, bytes_word, checksum_word, checksum, blank;
  long long expected = -1;
  std::getline(in, magic);
  in >> bytes_word >> expected >> checksum_word >> checksum;
  in.get();  // end of the checksum line
  std::getline(in, blank);
  if (!in || magic != kMagic || bytes_word != "bytes" || checksum_word != "checksum" || expected < 0 ||
      !blank.empty()) {
    throw CheckpointError(path + ": not a readable flowlat checkpoint (damaged header)");
  }
  std::ostringstream rest;
  rest << in.rdbuf();
  std::string payload = rest.str();
  if (static_cast<long long>(payload.size()) < expected) {
    throw CheckpointError(path + ": truncated (" + std::to_string(payload.size()) + " of " +
                          std::to_string(expected) + " payload bytes)");
  }
  if (static_cast<long long>(payload.size()) > expected) {
    throw CheckpointError(path + ": " + std::to_string(payload.size() - expected) +
                          " unexpected bytes after the payload");
  }
  const std::string actual = bytes_checksum(payload);
  if (actual != checksum) {
    throw CheckpointError(path + ": checksum mismatch (header " + checksum + ", content " + actual +
                          "): the file is corrupted");
  }
  return payload;
}

}  // namespace flowlat
