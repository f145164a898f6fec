#include "io/H5File.hpp"

#include <filesystem>
#include <stdexcept>

#include "config/ConfigError.hpp"
#include "parallel/Communicator.hpp"

namespace flowlat {
namespace {

using h5detail::check_id;
using h5detail::check_status;
using h5detail::throw_error;

const char* mode_name(FileMode mode) {
  switch (mode) {
    case FileMode::CreateNew: return "create";
    case FileMode::Truncate: return "create (truncating)";
    case FileMode::ReadWrite: return "open for writing";
    case FileMode::ReadOnly: return "open for reading";
  }
  return "open";
}

// Link creation list that also creates missing parent groups ("a/b/c").
H5Handle parents_creating_list(const std::string& action, const H5Context& where) {
  H5Handle list = check_id(H5Pcreate(H5P_LINK_CREATE), H5Kind::PropertyList, action, where);
  check_status(H5Pset_create_intermediate_group(list.id(), 1), action, where);
  return list;
}

// A file access list without HDF5's own flock: writers hold a WriterClaim
// instead (HDF5's lock on a second descriptor would collide with it), and
// readers must not be locked out of a file being written.
H5Handle unlocked_access_list(const std::string& action, const H5Context& where) {
  H5Handle list = check_id(H5Pcreate(H5P_FILE_ACCESS), H5Kind::PropertyList, action, where);
  check_status(H5Pset_file_locking(list.id(), false, true), action, where);
  return list;
}

}  // namespace

H5File::H5File(const std::string& path, FileMode mode) : path_(path), access_(FileAccess::Serial) {
  h5detail::silence_error_printing();
  const H5Handle access_list = unlocked_access_list(std::string("cannot ") + mode_name(mode), context(""));
  open(mode, access_list.id(), MPI_COMM_NULL);
}

H5File::H5File(const std::string& path, FileMode mode, MPI_Comm comm) : path_(path), access_(FileAccess::Parallel) {
  h5detail::silence_error_printing();
  const std::string action = std::string("cannot ") + mode_name(mode);
  int initialized = 0;
  MPI_Initialized(&initialized);
  if (!initialized) throw_error(action, context(""), "MPI is not initialised (parallel mode needs MPI_Init)");
  const H5Handle access_list = unlocked_access_list(action, context(""));
  check_status(H5Pset_fapl_mpio(access_list.id(), comm, MPI_INFO_NULL), action, context(""));
  open(mode, access_list.id(), comm);
}

// All ranks get the same outcome in parallel mode: MPI-IO opens collectively
// and reports the same error everywhere (e.g. O_EXCL on an existing file).
void H5File::open(FileMode mode, hid_t file_access_list, MPI_Comm comm) {
  const char* name = path_.c_str();
  // An existing file is claimed before it is opened for writing or
  // truncated; a new one (nobody else can be writing it) right after.
  const bool writing = mode != FileMode::ReadOnly;
  const bool existed = std::filesystem::exists(path_);
  if (writing && existed && mode != FileMode::CreateNew) claim(comm);
  hid_t id = H5I_INVALID_HID;
  switch (mode) {
    case FileMode::CreateNew: id = H5Fcreate(name, H5F_ACC_EXCL, H5P_DEFAULT, file_access_list); break;
    case FileMode::Truncate: id = H5Fcreate(name, H5F_ACC_TRUNC, H5P_DEFAULT, file_access_list); break;
    case FileMode::ReadWrite: id = H5Fopen(name, H5F_ACC_RDWR, file_access_list); break;
    case FileMode::ReadOnly: id = H5Fopen(name, H5F_ACC_RDONLY, file_access_list); break;
  }
  const std::string action = std::string("cannot ") + mode_name(mode);
  if (id < 0 && mode == FileMode::CreateNew && std::filesystem::exists(path_)) {
    throw_error(action, context(""), "refusing to overwrite an existing file (FileMode::CreateNew)");
  }
  if (id < 0 && mode != FileMode::CreateNew && mode != FileMode::Truncate && !std::filesystem::exists(path_)) {
    throw_error(action, context(""), "no such file");
  }
  handle_ = check_id(id, H5Kind::File, action, context(""));
  if (writing && !existed) claim(comm);
}

void H5File::claim(MPI_Comm comm) {
  if (comm == MPI_COMM_NULL) {
    claim_ = WriterClaim::acquire(path_);
    return;
  }
  const Communicator ranks(comm);
  const std::string error = ranks.broadcast(
      ranks.is_root() ? WriterClaim::try_acquire(path_, claim_) : std::string(), 0);
  if (!error.empty()) throw ConfigError(error);
}

hid_t H5File::id() const {
  if (!handle_.valid()) throw std::runtime_error("HDF5: file '" + path_ + "' is closed");
  return handle_.id();
}

void H5File::create_group(const std::string& path) const {
  const H5Context where = context(path);
  const H5Handle link_list = parents_creating_list("cannot create group", where);
  H5Handle group = check_id(H5Gcreate2(id(), path.c_str(), link_list.id(), H5P_DEFAULT, H5P_DEFAULT),
                            H5Kind::Group, "cannot create group", where);
  check_status(group.close(), "cannot create group", where);
}

void H5File::ensure_group(const std::string& path) const {
  if (!contains(path)) create_group(path);
}

bool H5File::contains(const std::string& path) const {
  // H5Lexists fails (rather than saying "no") when a parent is missing, so
  // walk the path one component at a time.
  const H5Context where = context(path);
  std::string prefix;
  size_t start = path.find_first_not_of('/');
  while (start != std::string::npos) {
    const size_t end = path.find('/', start);
    prefix += "/" + path.substr(start, end == std::string::npos ? std::string::npos : end - start);
    if (check_status(H5Lexists(id(), prefix.c_str(), H5P_DEFAULT), "cannot look up", where) == 0) return false;
    start = end == std::string::npos ? end : path.find_first_not_of('/', end);
  }
  return true;  // "" and "/" name the root group, which always exists
}

H5Attributes H5File::attributes(const std::string& path) const {
  const H5Context where = context(path);
  H5Handle object = check_id(H5Oopen(id(), path.c_str(), H5P_DEFAULT), H5Kind::Object, "cannot open", where);
  return H5Attributes(std::move(object), where);
}

void H5File::flush() const {
  check_status(H5Fflush(id(), H5F_SCOPE_GLOBAL), "cannot flush", context(""));
}

void H5File::close() {
  if (!handle_.valid()) return;
  // The MPI-IO driver refuses to close a file with open objects while the
  // serial one silently defers it; fail the same way in both modes.
  const ssize_t open_objects = H5Fget_obj_count(handle_.id(), H5F_OBJ_ALL | H5F_OBJ_LOCAL);
  if (open_objects > 1) {
    throw_error("cannot close", context(""),
                std::to_string(open_objects - 1) + " dataset(s), group(s) or attribute(s) of it are still open");
  }
  check_status(handle_.close(), "cannot close", context(""));
  claim_.release();
}

}  // namespace flowlat
