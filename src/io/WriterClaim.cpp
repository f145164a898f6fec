#include "io/WriterClaim.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <utility>

#include "config/ConfigError.hpp"

namespace flowlat {

std::string WriterClaim::try_acquire(const std::string& path, WriterClaim& claim) {
  claim.release();
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return "cannot open '" + path + "' to claim it for writing: " + std::strerror(errno);
  if (::flock(fd, LOCK_EX | LOCK_NB) == 0) {
    claim.fd_ = fd;
    return "";
  }
  const int error = errno;
  ::close(fd);
  // No flock on this filesystem: nothing to claim with, nothing to refuse.
  if (error == ENOLCK || error == ENOSYS || error == EOPNOTSUPP || error == EINVAL) return "";
  if (error == EWOULDBLOCK) {
    return "'" + path + "' is being written by another process (a running flowlat sample, hmc or analyze "
           "--store holds it); nothing was changed: wait for it to finish, or choose another output";
  }
  return "cannot claim '" + path + "' for writing: " + std::strerror(error);
}

WriterClaim WriterClaim::acquire(const std::string& path) {
  WriterClaim claim;
  const std::string error = try_acquire(path, claim);
  if (!error.empty()) throw ConfigError(error);
  return claim;
}

WriterClaim::~WriterClaim() { release(); }

WriterClaim::WriterClaim(WriterClaim&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}

WriterClaim& WriterClaim::operator=(WriterClaim&& other) noexcept {
  if (this != &other) {
    release();
    fd_ = std::exchange(other.fd_, -1);
  }
  return *this;
}

void WriterClaim::release() noexcept {
  if (fd_ >= 0) ::close(std::exchange(fd_, -1));
}

}  // namespace flowlat
