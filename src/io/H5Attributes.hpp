#pragma once
// The attributes of one HDF5 object (the file's root group, a group or a
// dataset), obtained from H5File::attributes or H5Dataset::attributes.
//
// Storage (chosen so h5py and h5dump read them naturally):
//   string        -> scalar, variable-length UTF-8 string (h5py: str)
//   double        -> scalar IEEE float64 little-endian
//   int64_t       -> scalar int64 little-endian
//   vector<...>   -> 1-D of the same element type; an empty vector is a
//                    null dataspace (h5py: h5py.Empty)
//
// Writes replace an existing attribute of the same name (in place when type
// and size match, which keeps per-batch counters such as n_written cheap).
// In parallel mode HDF5 requires attribute creation, deletion and writing to
// be Collective: all ranks of the file's communicator call write_* with the
// same name and identical values. Reads are Local. HDF5's default file format
// limits one attribute to 64 KiB (about 8000 numbers): keep bulk data in
// datasets.
#include <cstdint>
#include <string>
#include <vector>

#include "io/H5Handle.hpp"

namespace flowlat {

class H5Attributes {
 public:
  // Takes ownership of an open file, group, dataset or object id; `where`
  // names it in errors. Local.
  H5Attributes(H5Handle object, H5Context where);

  // Write or overwrite one attribute. Collective in parallel mode.
  void write_string(const std::string& name, const std::string& value) const;
  void write_double(const std::string& name, double value) const;
  void write_int64(const std::string& name, int64_t value) const;
  void write_double_vector(const std::string& name, const std::vector<double>& values) const;
  void write_int64_vector(const std::string& name, const std::vector<int64_t>& values) const;

  // Read one attribute; throw naming it if it is missing or of another
  // kind (strings: fixed or variable length; doubles: any float size;
  // int64: any integer type). Local.
  std::string read_string(const std::string& name) const;
  double read_double(const std::string& name) const;
  int64_t read_int64(const std::string& name) const;
  std::vector<double> read_double_vector(const std::string& name) const;
  std::vector<int64_t> read_int64_vector(const std::string& name) const;

  // True iff the attribute exists. Local.
  bool contains(const std::string& name) const;
  // Names of all attributes, sorted by name. Local.
  std::vector<std::string> names() const;

 private:
  // "<verb> attribute '<name>' of", the start of an error message.
  static std::string action(const std::string& verb, const std::string& name);

  H5Handle object_;
  H5Context where_;
};

}  // namespace flowlat
