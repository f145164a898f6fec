#pragma once
// An open HDF5 file, either shared by all ranks of a communicator through
// MPI-IO (parallel mode) or opened by one process alone (serial mode: single
// process runs, reader tools, rank 0 re-reading a closed parallel file).
//
// Parallel-mode rules (HDF5's, not ours): every call marked Collective must be
// made by all ranks of the file's communicator, in the same order, with the
// same arguments (attribute values included); otherwise the job hangs or the
// file's metadata diverges. Errors raised before a collective HDF5 call (bad
// arguments) are thrown on the ranks that see them only: pass the same
// arguments everywhere, or treat a throw as fatal for the job. In serial mode
// "Collective" simply means Local.
//
// Every HDF5 failure is a std::runtime_error naming the file and the object.
#include <mpi.h>

#include <string>

#include "io/H5Attributes.hpp"
#include "io/H5Handle.hpp"
#include "io/WriterClaim.hpp"

namespace flowlat {

// Every mode but ReadOnly claims the file for this writer (WriterClaim:
// refused while another process writes it, and claimed before an existing
// file is truncated); HDF5's own file locking is off, so readers never wait.
enum class FileMode {
  CreateNew,  // create; fail, leaving it untouched, if the file already exists
  Truncate,   // create, replacing any existing file (the explicit overwrite)
  ReadWrite,  // open an existing file for reading and writing
  ReadOnly,   // open an existing file for reading
};

enum class FileAccess { Serial, Parallel };

class H5File {
 public:
  // Opens or creates `path` for this process alone (sec2 driver). Local.
  H5File(const std::string& path, FileMode mode);
  // Opens or creates `path` on all ranks of `comm` through MPI-IO
  // (H5Pset_fapl_mpio; HDF5 duplicates `comm`). Collective over `comm`.
  H5File(const std::string& path, FileMode mode, MPI_Comm comm);

  // Closes the file, ignoring errors; see close(). Destroy the file's
  // H5Dataset and H5Attributes objects first (declare the H5File before them):
  // MPI-IO cannot close a file with open objects. Collective in parallel mode.
  ~H5File() = default;
  H5File(H5File&&) noexcept = default;
  H5File& operator=(H5File&&) noexcept = default;
  H5File(const H5File&) = delete;
  H5File& operator=(const H5File&) = delete;

  // Creates the group `path` ("mcmc" or "/a/b"), and any missing parent
  // groups; throws if it already exists. Collective.
  void create_group(const std::string& path) const;
  // Creates the group `path` unless it exists already. Collective.
  void ensure_group(const std::string& path) const;
  // True iff an object (group or dataset) exists at `path`, every parent
  // included. Local (independent metadata read).
  bool contains(const std::string& path) const;

  // Attributes of the object at `path` ("/" is the file's root group; a group
  // or dataset path otherwise). Reads are Local; writes are Collective, see
  // H5Attributes. Opening: Local.
  H5Attributes attributes(const std::string& path = "/") const;

  // Writes all buffered data and metadata to the file (H5Fflush, global
  // scope), so a job killed afterwards leaves a readable file. Collective.
  void flush() const;
  // Closes the file, throwing if HDF5 fails (e.g. a dataset, group or
  // attribute of it is still open: close those first), and gives up the
  // writer claim. Collective.
  void close();

  // Gives the file up without closing it, after a write failed on some rank
  // (a collective close would hang, and HDF5 1.10 cannot close it anyway);
  // the process must then end without terminating HDF5: main() does when
  // h5detail::file_left_open() is set. Local.
  void abandon() noexcept {
    if (!handle_.valid()) return;
    handle_.abandon();
    h5detail::file_left_open() = true;
  }

  const std::string& path() const { return path_; }
  FileAccess access() const { return access_; }
  bool is_parallel() const { return access_ == FileAccess::Parallel; }
  bool is_open() const { return handle_.valid(); }
  // The raw file id, for H5Dataset and for HDF5 calls not wrapped here. Local.
  hid_t id() const;

 private:
  void open(FileMode mode, hid_t file_access_list, MPI_Comm comm);
  // Takes the writer claim on rank 0 of `comm` (MPI_COMM_NULL: this process
  // alone) and throws the same ConfigError on every rank if it failed.
  // Collective over `comm`.
  void claim(MPI_Comm comm);
  // Names `object` (absolute) in errors; "" names the file itself.
  H5Context context(const std::string& object) const {
    return {path_, object.empty() ? "" : h5detail::absolute_path(object)};
  }

  std::string path_;
  FileAccess access_;
  WriterClaim claim_;  // released after the file is closed (handle_ goes first)
  H5Handle handle_;
};

}  // namespace flowlat
