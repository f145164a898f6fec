#pragma once
// One writer per file: an advisory lock (flock, exclusive) that a process
// holds on a file for as long as it writes it, so that a second writer
// (another `flowlat sample`, `hmc`, or `analyze --store`) is refused
// instead of tearing the file apart. Readers take no claim: `flowlat
// analyze` may read an ensemble while it is being written (its first
// n_written rows are complete). Other HDF5 programs that lock files (h5py,
// h5dump) cannot open a claimed file, which is what keeps them from reading
// half-written metadata. On a filesystem without flock (some parallel
// filesystems mounted without it) no claim is possible; the file is then
// written unclaimed.
#include <string>

namespace flowlat {

class WriterClaim {
 public:
  WriterClaim() = default;
  // Claims the existing file `path`; throws ConfigError naming the file if
  // another process holds a claim ("... is being written by another
  // process ...") or the file cannot be opened. Local.
  static WriterClaim acquire(const std::string& path);
  // The error acquire() would throw, or "" when the claim was taken (into
  // `claim`). Local.
  static std::string try_acquire(const std::string& path, WriterClaim& claim);

  ~WriterClaim();
  WriterClaim(WriterClaim&& other) noexcept;
  WriterClaim& operator=(WriterClaim&& other) noexcept;
  WriterClaim(const WriterClaim&) = delete;
  WriterClaim& operator=(const WriterClaim&) = delete;

  // Gives the claim up (closing the descriptor). Local.
  void release() noexcept;

 private:
  int fd_ = -1;
};

}  // namespace flowlat
