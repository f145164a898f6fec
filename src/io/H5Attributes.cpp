#include "io/H5Attributes.hpp"

#include <cstring>
#include <utility>

namespace flowlat {
namespace {

using h5detail::check_id;
using h5detail::check_status;
using h5detail::throw_error;

const char* class_name(H5T_class_t type_class) {
  switch (type_class) {
    case H5T_INTEGER: return "an integer";
    case H5T_FLOAT: return "a float";
    case H5T_STRING: return "a string";
    default: return "of an unsupported type";
  }
}

// Variable-length UTF-8: what h5py reads back as str.
H5Handle string_type(const std::string& action, const H5Context& where) {
  H5Handle type = check_id(H5Tcopy(H5T_C_S1), H5Kind::Datatype, action, where);
  check_status(H5Tset_size(type.id(), H5T_VARIABLE), action, where);
  check_status(H5Tset_cset(type.id(), H5T_CSET_UTF8), action, where);
  return type;
}

// Scalar for one value, 1-D for vectors, null (no elements) for empty ones.
H5Handle make_space(size_t count, bool scalar, const std::string& action, const H5Context& where) {
  if (scalar) return check_id(H5Screate(H5S_SCALAR), H5Kind::Dataspace, action, where);
  if (count == 0) return check_id(H5Screate(H5S_NULL), H5Kind::Dataspace, action, where);
  const hsize_t dims[1] = {static_cast<hsize_t>(count)};
  return check_id(H5Screate_simple(1, dims, nullptr), H5Kind::Dataspace, action, where);
}

bool has_layout(hid_t attribute, hid_t file_type, hid_t space, const std::string& action, const H5Context& where) {
  H5Handle old_type = check_id(H5Aget_type(attribute), H5Kind::Datatype, action, where);
  H5Handle old_space = check_id(H5Aget_space(attribute), H5Kind::Dataspace, action, where);
  return check_status(H5Tequal(old_type.id(), file_type), action, where) > 0 &&
         check_status(H5Sextent_equal(old_space.id(), space), action, where) > 0;
}

// Creates or replaces attribute `name`. An existing attribute of the same
// type and shape is overwritten in place: no metadata churn per batch.
void write_attribute(hid_t object, const std::string& name, hid_t file_type, hid_t memory_type, hid_t space,
                     const void* data, const std::string& action, const H5Context& where) {
  H5Handle attribute;
  if (check_status(H5Aexists(object, name.c_str()), action, where) > 0) {
    attribute = check_id(H5Aopen(object, name.c_str(), H5P_DEFAULT), H5Kind::Attribute, action, where);
    if (!has_layout(attribute.id(), file_type, space, action, where)) {
      check_status(attribute.close(), action, where);
      check_status(H5Adelete(object, name.c_str()), action, where);
    }
  }
  if (!attribute.valid()) {
    attribute = check_id(H5Acreate2(object, name.c_str(), file_type, space, H5P_DEFAULT, H5P_DEFAULT),
                         H5Kind::Attribute, action, where);
  }
  if (data) check_status(H5Awrite(attribute.id(), memory_type, data), action, where);
  check_status(attribute.close(), action, where);
}

struct OpenedAttribute {
  H5Handle attribute;
  H5Handle type;
  size_t count = 0;  // number of elements; 0 for a null dataspace
};

OpenedAttribute open_attribute(hid_t object, const std::string& name, H5T_class_t expected,
                               const std::string& action, const H5Context& where) {
  if (check_status(H5Aexists(object, name.c_str()), action, where) == 0) {
    throw_error(action, where, "no such attribute");
  }
  OpenedAttribute opened;
  opened.attribute = check_id(H5Aopen(object, name.c_str(), H5P_DEFAULT), H5Kind::Attribute, action, where);
  opened.type = check_id(H5Aget_type(opened.attribute.id()), H5Kind::Datatype, action, where);
  const H5T_class_t found = H5Tget_class(opened.type.id());
  if (found != expected) {
    throw_error(action, where, std::string("it is ") + class_name(found) + ", not " + class_name(expected));
  }
  H5Handle space = check_id(H5Aget_space(opened.attribute.id()), H5Kind::Dataspace, action, where);
  if (H5Sget_simple_extent_type(space.id()) != H5S_NULL) {
    const hssize_t points = H5Sget_simple_extent_npoints(space.id());
    if (points < 0) throw_error(action, where);
    opened.count = static_cast<size_t>(points);
  }
  return opened;
}

template <typename T>
std::vector<T> read_numbers(hid_t object, const std::string& name, H5T_class_t expected, hid_t memory_type,
                            const std::string& action, const H5Context& where) {
  const OpenedAttribute opened = open_attribute(object, name, expected, action, where);
  std::vector<T> values(opened.count);
  if (!values.empty()) check_status(H5Aread(opened.attribute.id(), memory_type, values.data()), action, where);
  return values;
}

template <typename T>
T single_value(const std::vector<T>& values, const std::string& action, const H5Context& where) {
  if (values.size() != 1) {
    throw_error(action, where, "it holds " + std::to_string(values.size()) + " values, not one");
  }
  return values.front();
}

}  // namespace

H5Attributes::H5Attributes(H5Handle object, H5Context where) : object_(std::move(object)), where_(std::move(where)) {}

std::string H5Attributes::action(const std::string& verb, const std::string& name) {
  return verb + " attribute '" + name + "' of";
}

void H5Attributes::write_string(const std::string& name, const std::string& value) const {
  const std::string what = action("cannot write", name);
  const H5Handle type = string_type(what, where_);
  const H5Handle space = make_space(1, true, what, where_);
  const char* text = value.c_str();
  write_attribute(object_.id(), name, type.id(), type.id(), space.id(), &text, what, where_);
}

void H5Attributes::write_double(const std::string& name, double value) const {
  const std::string what = action("cannot write", name);
  const H5Handle space = make_space(1, true, what, where_);
  write_attribute(object_.id(), name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, space.id(), &value, what, where_);
}

void H5Attributes::write_int64(const std::string& name, int64_t value) const {
  const std::string what = action("cannot write", name);
  const H5Handle space = make_space(1, true, what, where_);
  write_attribute(object_.id(), name, H5T_STD_I64LE, H5T_NATIVE_INT64, space.id(), &value, what, where_);
}

void H5Attributes::write_double_vector(const std::string& name, const std::vector<double>& values) const {
  const std::string what = action("cannot write", name);
  const H5Handle space = make_space(values.size(), false, what, where_);
  const void* data = values.empty() ? nullptr : values.data();
  write_attribute(object_.id(), name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, space.id(), data, what, where_);
}

void H5Attributes::write_int64_vector(const std::string& name, const std::vector<int64_t>& values) const {
  const std::string what = action("cannot write", name);
  const H5Handle space = make_space(values.size(), false, what, where_);
  const void* data = values.empty() ? nullptr : values.data();
  write_attribute(object_.id(), name, H5T_STD_I64LE, H5T_NATIVE_INT64, space.id(), data, what, where_);
}

std::string H5Attributes::read_string(const std::string& name) const {
  const std::string what = action("cannot read", name);
  const OpenedAttribute opened = open_attribute(object_.id(), name, H5T_STRING, what, where_);
  if (opened.count != 1) throw_error(what, where_, "it holds " + std::to_string(opened.count) + " strings, not one");
  const hid_t type = opened.type.id();  // read in the stored form: no charset conversion
  if (check_status(H5Tis_variable_str(type), what, where_) > 0) {
    char* text = nullptr;
    check_status(H5Aread(opened.attribute.id(), type, &text), what, where_);
    std::string value = text ? text : "";
    H5free_memory(text);
    return value;
  }
  const size_t size = H5Tget_size(type);
  std::vector<char> buffer(size + 1, '\0');
  check_status(H5Aread(opened.attribute.id(), type, buffer.data()), what, where_);
  std::string value(buffer.data(), strnlen(buffer.data(), size));
  if (H5Tget_strpad(type) == H5T_STR_SPACEPAD) value.erase(value.find_last_not_of(' ') + 1);
  return value;
}

double H5Attributes::read_double(const std::string& name) const {
  const std::string what = action("cannot read", name);
  return single_value(read_numbers<double>(object_.id(), name, H5T_FLOAT, H5T_NATIVE_DOUBLE, what, where_), what,
                      where_);
}

int64_t H5Attributes::read_int64(const std::string& name) const {
  const std::string what = action("cannot read", name);
  return single_value(read_numbers<int64_t>(object_.id(), name, H5T_INTEGER, H5T_NATIVE_INT64, what, where_),
                      what, where_);
}

std::vector<double> H5Attributes::read_double_vector(const std::string& name) const {
  return read_numbers<double>(object_.id(), name, H5T_FLOAT, H5T_NATIVE_DOUBLE, action("cannot read", name), where_);
}

std::vector<int64_t> H5Attributes::read_int64_vector(const std::string& name) const {
  return read_numbers<int64_t>(object_.id(), name, H5T_INTEGER, H5T_NATIVE_INT64, action("cannot read", name),
                               where_);
}

bool H5Attributes::contains(const std::string& name) const {
  return check_status(H5Aexists(object_.id(), name.c_str()), action("cannot look up", name), where_) > 0;
}

std::vector<std::string> H5Attributes::names() const {
  std::vector<std::string> names;
  auto collect = [](hid_t, const char* name, const H5A_info_t*, void* data) -> herr_t {
    static_cast<std::vector<std::string>*>(data)->push_back(name);
    return 0;
  };
  check_status(H5Aiterate2(object_.id(), H5_INDEX_NAME, H5_ITER_INC, nullptr, collect, &names),
               "cannot list the attributes of", where_);
  return names;
}

}  // namespace flowlat
