#pragma once
// RAII ownership of one HDF5 identifier (hid_t), closed with the H5?close
// matching its kind, plus the error helpers every io/H5*.cpp uses: HDF5's
// automatic error-stack printing is switched off and each failure becomes a
// std::runtime_error naming the action, the object and the file, followed by
// HDF5's own innermost message. Header-only; everything here is Local.
#include <hdf5.h>

#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace flowlat {

namespace h5detail {
// Set once a file could not be closed, or was abandoned, after a failed
// write (e.g. a full disk): HDF5 1.10 then crashes when it terminates, at
// MPI_Finalize or at exit, so main() ends such a process without
// terminating it. Local.
inline bool& file_left_open() {
  static bool failed = false;
  return failed;
}
}  // namespace h5detail

enum class H5Kind { File, Group, Dataset, Dataspace, Datatype, Attribute, PropertyList, Object };

class H5Handle {
 public:
  H5Handle() noexcept = default;
  // Takes ownership of `id` (a negative id means "none"). Local.
  H5Handle(hid_t id, H5Kind kind) noexcept : id_(id), kind_(kind) {}
  ~H5Handle() { close(); }
  H5Handle(const H5Handle&) = delete;
  H5Handle& operator=(const H5Handle&) = delete;
  H5Handle(H5Handle&& other) noexcept : id_(std::exchange(other.id_, H5I_INVALID_HID)), kind_(other.kind_) {}
  H5Handle& operator=(H5Handle&& other) noexcept {
    if (this != &other) {
      close();
      id_ = std::exchange(other.id_, H5I_INVALID_HID);
      kind_ = other.kind_;
    }
    return *this;
  }

  hid_t id() const noexcept { return id_; }
  // Gives the id up without closing it (an object HDF5 can no longer close
  // after a failed write; see h5detail::file_left_open). Local.
  void abandon() noexcept { id_ = H5I_INVALID_HID; }
  H5Kind kind() const noexcept { return kind_; }
  bool valid() const noexcept { return id_ >= 0; }

  // Closes the id (if any) and returns HDF5's status; the handle is empty
  // afterwards either way. Collective for File (and, in parallel mode, for
  // objects the caller treats as collective); otherwise Local.
  herr_t close() noexcept {
    if (id_ < 0) return 0;
    const hid_t id = std::exchange(id_, H5I_INVALID_HID);
    switch (kind_) {
      case H5Kind::File: {
        const herr_t status = H5Fclose(id);
        if (status < 0) h5detail::file_left_open() = true;
        return status;
      }
      case H5Kind::Group: return H5Gclose(id);
      case H5Kind::Dataset: return H5Dclose(id);
      case H5Kind::Dataspace: return H5Sclose(id);
      case H5Kind::Datatype: return H5Tclose(id);
      case H5Kind::Attribute: return H5Aclose(id);
      case H5Kind::PropertyList: return H5Pclose(id);
      case H5Kind::Object: return H5Oclose(id);
    }
    return -1;
  }

 private:
  hid_t id_ = H5I_INVALID_HID;
  H5Kind kind_ = H5Kind::Object;
};

// Where an HDF5 call acted, for error messages.
struct H5Context {
  std::string file;    // file name as given by the caller
  std::string object;  // path inside the file, e.g. "/configs" or "/"
};

namespace h5detail {

// `path` with a leading "/", as HDF5 names objects (and as errors show them). Local.
inline std::string absolute_path(const std::string& path) {
  return !path.empty() && path.front() == '/' ? path : "/" + path;
}

// Stops HDF5 printing its error stack to stderr; the stack is folded into
// the exception message instead. Idempotent. Local.
inline void silence_error_printing() {
  static const bool silenced = (H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr), true);
  (void)silenced;
}

// Innermost and outermost descriptions of HDF5's current error stack,
// which is then cleared. Local.
inline std::string take_error_stack() {
  std::vector<std::string> messages;
  auto collect = [](unsigned, const H5E_error2_t* error, void* data) -> herr_t {
    if (error->desc && *error->desc) static_cast<std::vector<std::string>*>(data)->push_back(error->desc);
    return 0;
  };
  H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, collect, &messages);
  H5Eclear2(H5E_DEFAULT);
  if (messages.empty()) return "";
  std::string text = messages.front();  // the most specific cause
  if (messages.size() > 1 && messages.back() != messages.front()) text = messages.back() + ": " + text;
  return text;
}

// Throws "HDF5: <action> '<object>' in file '<file>'[: <detail>] (<HDF5's
// stack>)", or "HDF5: <action> file '<file>'..." for an empty object. Local.
[[noreturn]] inline void throw_error(const std::string& action, const H5Context& where,
                                     const std::string& detail = "") {
  std::string message = "HDF5: " + action;
  message += where.object.empty() ? " file '" + where.file + "'"
                                  : " '" + where.object + "' in file '" + where.file + "'";
  const std::string stack = take_error_stack();
  if (!detail.empty()) message += ": " + detail;
  if (!stack.empty()) message += " (" + stack + ")";
  throw std::runtime_error(message);
}

// Wraps a freshly returned id, throwing if HDF5 reported failure. Local.
inline H5Handle check_id(hid_t id, H5Kind kind, const std::string& action, const H5Context& where) {
  if (id < 0) throw_error(action, where);
  return H5Handle(id, kind);
}

// Throws if an herr_t/htri_t status is negative. Returns the status. Local.
inline int check_status(int status, const std::string& action, const H5Context& where) {
  if (status < 0) throw_error(action, where);
  return status;
}

}  // namespace h5detail
}  // namespace flowlat
