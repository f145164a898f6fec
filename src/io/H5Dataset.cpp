#include "io/H5Dataset.hpp"

#include <algorithm>
#include <utility>

namespace flowlat {
namespace {

using h5detail::check_id;
using h5detail::check_status;
using h5detail::throw_error;

constexpr int64_t kTargetChunkBytes = int64_t{1} << 20;

hid_t file_type_of(ElementType type) {
  switch (type) {
    case ElementType::Float32: return H5T_IEEE_F32LE;
    case ElementType::Float64: return H5T_IEEE_F64LE;
    case ElementType::Int64: return H5T_STD_I64LE;
    case ElementType::UInt8: return H5T_STD_U8LE;
  }
  return H5I_INVALID_HID;
}

hid_t memory_type_of(ElementType type) {
  switch (type) {
    case ElementType::Float32: return H5T_NATIVE_FLOAT;
    case ElementType::Float64: return H5T_NATIVE_DOUBLE;
    case ElementType::Int64: return H5T_NATIVE_INT64;
    case ElementType::UInt8: return H5T_NATIVE_UINT8;
  }
  return H5I_INVALID_HID;
}

int64_t bytes_of(ElementType type) {
  switch (type) {
    case ElementType::Float32: return 4;
    case ElementType::Float64: return 8;
    case ElementType::Int64: return 8;
    case ElementType::UInt8: return 1;
  }
  return 1;
}

bool is_float(ElementType type) { return type == ElementType::Float32 || type == ElementType::Float64; }

// Maps a stored type onto ElementType; other types are refused on open.
bool classify(hid_t type, ElementType* out) {
  const H5T_class_t type_class = H5Tget_class(type);
  const size_t size = H5Tget_size(type);
  if (type_class == H5T_FLOAT && (size == 4 || size == 8)) {
    *out = size == 4 ? ElementType::Float32 : ElementType::Float64;
    return true;
  }
  if (type_class != H5T_INTEGER) return false;
  const H5T_sign_t sign = H5Tget_sign(type);
  if (size == 8 && sign == H5T_SGN_2) *out = ElementType::Int64;
  else if (size == 1 && sign == H5T_SGN_NONE) *out = ElementType::UInt8;
  else return false;
  return true;
}

std::string shape_text(const std::vector<int64_t>& shape) {
  std::string text = "[";
  for (size_t i = 0; i < shape.size(); ++i) text += (i ? ", " : "") + std::to_string(shape[i]);
  return text + "]";
}

void check_shape(const std::vector<int64_t>& shape, RowCapacity capacity, const H5Context& where) {
  const std::string action = "cannot create dataset";
  if (shape.empty() || shape.size() > H5S_MAX_RANK) throw_error(action, where, "shape needs 1 to 32 extents");
  if (shape[0] < 0) throw_error(action, where, "negative row count in shape " + shape_text(shape));
  if (std::any_of(shape.begin() + 1, shape.end(), [](int64_t n) { return n < 1; })) {
    throw_error(action, where, "every extent but the first must be >= 1, got " + shape_text(shape));
  }
  if (capacity == RowCapacity::Fixed && shape[0] == 0) {
    throw_error(action, where, "a Fixed dataset needs at least one row");
  }
}

// Rows per chunk: as asked, else about kTargetChunkBytes; never beyond a
// Fixed dataset's rows (HDF5 rejects chunks larger than a fixed extent).
hsize_t chunk_rows_for(const std::vector<int64_t>& shape, ElementType type, RowCapacity capacity,
                       int64_t chunk_rows) {
  int64_t row_bytes = bytes_of(type);
  for (size_t i = 1; i < shape.size(); ++i) row_bytes *= shape[i];
  int64_t rows = chunk_rows > 0 ? chunk_rows : std::max<int64_t>(1, kTargetChunkBytes / row_bytes);
  if (capacity == RowCapacity::Fixed) rows = std::min(rows, shape[0]);
  return static_cast<hsize_t>(rows);
}

}  // namespace

const char* element_type_name(ElementType type) {
  switch (type) {
    case ElementType::Float32: return "float32";
    case ElementType::Float64: return "float64";
    case ElementType::Int64: return "int64";
    case ElementType::UInt8: return "uint8";
  }
  return "unknown";
}

// Memory and file dataspaces selecting the same rows.
struct H5Dataset::Selection {
  H5Handle memory;
  H5Handle file;
};

H5Dataset::H5Dataset(H5Handle dataset, H5Context where, ElementType type, FileAccess access)
    : dataset_(std::move(dataset)), where_(std::move(where)), type_(type) {
  if (access != FileAccess::Parallel) return;
  const std::string action = "cannot set up collective transfers for";
  transfer_list_ = check_id(H5Pcreate(H5P_DATASET_XFER), H5Kind::PropertyList, action, where_);
  check_status(H5Pset_dxpl_mpio(transfer_list_.id(), H5FD_MPIO_COLLECTIVE), action, where_);
}

H5Dataset H5Dataset::create(const H5File& file, const std::string& path, ElementType type,
                            const std::vector<int64_t>& shape, RowCapacity capacity, int64_t chunk_rows) {
  const H5Context where{file.path(), h5detail::absolute_path(path)};
  const std::string action = "cannot create dataset";
  check_shape(shape, capacity, where);
  const std::vector<hsize_t> dims(shape.begin(), shape.end());
  std::vector<hsize_t> max_dims = dims, chunk = dims;
  if (capacity == RowCapacity::Unlimited) max_dims[0] = H5S_UNLIMITED;
  chunk[0] = chunk_rows_for(shape, type, capacity, chunk_rows);

  const int rank = static_cast<int>(dims.size());
  const H5Handle space = check_id(H5Screate_simple(rank, dims.data(), max_dims.data()), H5Kind::Dataspace, action, where);
  const H5Handle creation = check_id(H5Pcreate(H5P_DATASET_CREATE), H5Kind::PropertyList, action, where);
  check_status(H5Pset_chunk(creation.id(), rank, chunk.data()), action, where);
  const H5Handle links = check_id(H5Pcreate(H5P_LINK_CREATE), H5Kind::PropertyList, action, where);
  check_status(H5Pset_create_intermediate_group(links.id(), 1), action, where);

  H5Handle dataset = check_id(H5Dcreate2(file.id(), path.c_str(), file_type_of(type), space.id(), links.id(),
                                         creation.id(), H5P_DEFAULT),
                              H5Kind::Dataset, action, where);
  return H5Dataset(std::move(dataset), where, type, file.access());
}

H5Dataset H5Dataset::open(const H5File& file, const std::string& path) {
  const H5Context where{file.path(), h5detail::absolute_path(path)};
  const std::string action = "cannot open dataset";
  if (!file.contains(path)) throw_error(action, where, "no such dataset");
  H5Handle dataset = check_id(H5Dopen2(file.id(), path.c_str(), H5P_DEFAULT), H5Kind::Dataset, action, where);
  const H5Handle type = check_id(H5Dget_type(dataset.id()), H5Kind::Datatype, action, where);
  ElementType element = ElementType::Float64;
  if (!classify(type.id(), &element)) {
    throw_error(action, where, "unsupported element type (want float32, float64, int64 or uint8)");
  }
  const H5Handle space = check_id(H5Dget_space(dataset.id()), H5Kind::Dataspace, action, where);
  if (check_status(H5Sget_simple_extent_ndims(space.id()), action, where) < 1) {
    throw_error(action, where, "a scalar dataset has no rows");
  }
  return H5Dataset(std::move(dataset), where, element, file.access());
}

hid_t H5Dataset::id() const {
  if (!dataset_.valid()) throw_error("cannot use closed dataset", where_);
  return dataset_.id();
}

std::vector<int64_t> H5Dataset::shape() const {
  const std::string action = "cannot query the shape of";
  const H5Handle space = check_id(H5Dget_space(id()), H5Kind::Dataspace, action, where_);
  const int rank = check_status(H5Sget_simple_extent_ndims(space.id()), action, where_);
  std::vector<hsize_t> dims(static_cast<size_t>(rank));
  check_status(H5Sget_simple_extent_dims(space.id(), dims.data(), nullptr), action, where_);
  return std::vector<int64_t>(dims.begin(), dims.end());
}

int64_t H5Dataset::rows() const { return shape().at(0); }

int64_t H5Dataset::row_size() const {
  const std::vector<int64_t> extent = shape();
  int64_t size = 1;
  for (size_t i = 1; i < extent.size(); ++i) size *= extent[i];
  return size;
}

void H5Dataset::extend(int64_t rows) {
  std::vector<int64_t> extent = shape();
  if (rows < extent.at(0)) {
    throw_error("cannot extend dataset", where_,
                "new row count " + std::to_string(rows) + " is below the current shape " + shape_text(extent));
  }
  std::vector<hsize_t> dims(extent.begin(), extent.end());
  dims[0] = static_cast<hsize_t>(rows);
  check_status(H5Dset_extent(id(), dims.data()), "cannot extend dataset", where_);
}

H5Dataset::Selection H5Dataset::select_rows(int64_t row_offset, int64_t row_count, ElementType memory_type,
                                            const std::string& action) const {
  if (memory_type != type_ && !(is_float(memory_type) && is_float(type_))) {
    throw_error(action, where_,
                std::string("buffer of ") + element_type_name(memory_type) + " for a " + element_type_name(type_) +
                    " dataset");
  }
  Selection selection;
  selection.file = check_id(H5Dget_space(id()), H5Kind::Dataspace, action, where_);
  std::vector<hsize_t> dims(static_cast<size_t>(check_status(H5Sget_simple_extent_ndims(selection.file.id()), action, where_)));
  check_status(H5Sget_simple_extent_dims(selection.file.id(), dims.data(), nullptr), action, where_);
  const int64_t rows = static_cast<int64_t>(dims.at(0));
  if (row_offset < 0 || row_count < 0 || row_offset + row_count > rows) {
    throw_error(action, where_,
                "rows [" + std::to_string(row_offset) + ", " + std::to_string(row_offset + row_count) +
                    ") are outside [0, " + std::to_string(rows) + ")");
  }
  std::vector<hsize_t> start(dims.size(), 0), count = dims;
  start[0] = static_cast<hsize_t>(row_offset);
  count[0] = static_cast<hsize_t>(row_count);
  selection.memory = check_id(H5Screate_simple(static_cast<int>(count.size()), count.data(), nullptr),
                              H5Kind::Dataspace, action, where_);
  if (row_count == 0) {  // still a participant in the collective transfer
    check_status(H5Sselect_none(selection.memory.id()), action, where_);
    check_status(H5Sselect_none(selection.file.id()), action, where_);
  } else {
    check_status(H5Sselect_hyperslab(selection.file.id(), H5S_SELECT_SET, start.data(), nullptr, count.data(),
                                     nullptr),
                 action, where_);
  }
  return selection;
}

void H5Dataset::write_raw(int64_t row_offset, int64_t row_count, ElementType memory_type, const void* data) {
  const std::string action = "cannot write rows to dataset";
  if (!data && row_count > 0) throw_error(action, where_, "null buffer");
  const Selection selection = select_rows(row_offset, row_count, memory_type, action);
  const unsigned char placeholder = 0;  // a rank with no rows may pass no buffer
  const hid_t transfer = transfer_list_.valid() ? transfer_list_.id() : H5P_DEFAULT;
  check_status(H5Dwrite(id(), memory_type_of(memory_type), selection.memory.id(), selection.file.id(), transfer,
                        data ? data : &placeholder),
               action, where_);
}

void H5Dataset::read_raw(int64_t row_offset, int64_t row_count, ElementType memory_type, void* out) const {
  const std::string action = "cannot read rows from dataset";
  if (!out && row_count > 0) throw_error(action, where_, "null buffer");
  const Selection selection = select_rows(row_offset, row_count, memory_type, action);
  unsigned char placeholder = 0;
  const hid_t transfer = transfer_list_.valid() ? transfer_list_.id() : H5P_DEFAULT;
  check_status(H5Dread(id(), memory_type_of(memory_type), selection.memory.id(), selection.file.id(), transfer,
                       out ? out : &placeholder),
               action, where_);
}

H5Attributes H5Dataset::attributes() const {
  H5Handle object = check_id(H5Oopen(id(), ".", H5P_DEFAULT), H5Kind::Object, "cannot open dataset", where_);
  return H5Attributes(std::move(object), where_);
}

void H5Dataset::close() {
  check_status(dataset_.close(), "cannot close dataset", where_);
  transfer_list_.close();
}

}  // namespace flowlat
