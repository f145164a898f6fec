#pragma once
// A chunked HDF5 dataset of shape [rows, rest...] whose first dimension
// counts records (configurations, weights, chain states); rows are written
// and read as contiguous C-order blocks.
//
// In parallel mode (an H5File opened on a communicator) every transfer uses
// a COLLECTIVE MPI-IO transfer list: all ranks call write_rows/read_rows
// together, each with its own row range; a rank with nothing to do passes
// row_count 0 (it then selects nothing but still takes part). Collective
// calls need the same dataset on every rank; see H5File.hpp for the rules.
// Argument checks are Local and happen before any HDF5 call.
#include <cstdint>
#include <string>
#include <vector>

#include "io/H5Attributes.hpp"
#include "io/H5File.hpp"
#include "io/H5Handle.hpp"

namespace flowlat {

enum class ElementType { Float32, Float64, Int64, UInt8 };

// Unlimited: the first dimension can grow without bound through extend().
// Fixed: it stays at the creation size (extend() then fails).
enum class RowCapacity { Unlimited, Fixed };

// The ElementType of a C++ element type (float, double, int64_t, uint8_t).
template <typename T>
struct ElementTypeOf;
template <>
struct ElementTypeOf<float> { static constexpr ElementType value = ElementType::Float32; };
template <>
struct ElementTypeOf<double> { static constexpr ElementType value = ElementType::Float64; };
template <>
struct ElementTypeOf<int64_t> { static constexpr ElementType value = ElementType::Int64; };
template <>
struct ElementTypeOf<uint8_t> { static constexpr ElementType value = ElementType::UInt8; };

// "float32", "float64", "int64", "uint8". Local.
const char* element_type_name(ElementType type);

class H5Dataset {
 public:
  // Creates dataset `path` (and any missing parent groups) holding `type`
  // elements of shape `shape` = [rows, rest...] (rest may be empty; each
  // rest extent >= 1). Chunks span `chunk_rows` whole rows; 0 picks about
  // 1 MiB per chunk (capped at `rows` when Fixed). Fails if `path` exists.
  // Collective.
  static H5Dataset create(const H5File& file, const std::string& path, ElementType type,
                          const std::vector<int64_t>& shape, RowCapacity capacity = RowCapacity::Unlimited,
                          int64_t chunk_rows = 0);
  // Opens an existing float32/float64/int64/uint8 dataset; the error names
  // `path` if it is missing. HDF5 lets ranks open independently, but keep
  // opens and closes on all ranks alike in parallel mode. Collective.
  static H5Dataset open(const H5File& file, const std::string& path);

  // Closes the dataset, ignoring errors. Collective in parallel mode.
  ~H5Dataset() = default;
  H5Dataset(H5Dataset&&) noexcept = default;
  H5Dataset& operator=(H5Dataset&&) noexcept = default;
  H5Dataset(const H5Dataset&) = delete;
  H5Dataset& operator=(const H5Dataset&) = delete;

  // Writes rows [row_offset, row_offset + row_count) from `data`, which
  // holds row_count * row_size() elements in C order. T must match
  // element_type(), except that float and double convert into each other
  // (conversion may make HDF5 fall back from collective to independent I/O).
  // The rows must lie inside shape(): extend() first. Collective.
  template <typename T>
  void write_rows(int64_t row_offset, int64_t row_count, const T* data) {
    write_raw(row_offset, row_count, ElementTypeOf<T>::value, data);
  }
  // Reads rows [row_offset, row_offset + row_count) into `out` (room for
  // row_count * row_size() elements); same type rules as write_rows.
  // Collective in parallel mode.
  template <typename T>
  void read_rows(int64_t row_offset, int64_t row_count, T* out) const {
    read_raw(row_offset, row_count, ElementTypeOf<T>::value, out);
  }
  // As above, returning the elements. Collective in parallel mode.
  template <typename T>
  std::vector<T> read_rows(int64_t row_offset, int64_t row_count) const {
    std::vector<T> values(static_cast<size_t>(row_count > 0 ? row_count * row_size() : 0));
    read_rows(row_offset, row_count, values.data());
    return values;
  }

  // Grows the first dimension to `rows` (>= the current count). New rows
  // are unspecified until written (no fill pass: that would cost a full
  // write in parallel mode). Collective.
  void extend(int64_t rows);

  // Current extent [rows, rest...]. Local.
  std::vector<int64_t> shape() const;
  // shape()[0]. Local.
  int64_t rows() const;
  // Elements per row: the product of shape()[1..]. Local.
  int64_t row_size() const;
  ElementType element_type() const { return type_; }
  const std::string& path() const { return where_.object; }

  // Attributes of this dataset; see H5Attributes for collectiveness. Local.
  H5Attributes attributes() const;
  // Closes the dataset, throwing if HDF5 fails. Collective in parallel mode.
  void close();

  // Gives the dataset up without closing it: after a failed write on some
  // rank, a collective close would hang. Local.
  void abandon() noexcept {
    dataset_.abandon();
    transfer_list_.abandon();
  }

 private:
  H5Dataset(H5Handle dataset, H5Context where, ElementType type, FileAccess access);
  void write_raw(int64_t row_offset, int64_t row_count, ElementType memory_type, const void* data);
  void read_raw(int64_t row_offset, int64_t row_count, ElementType memory_type, void* out) const;
  struct Selection;
  Selection select_rows(int64_t row_offset, int64_t row_count, ElementType memory_type,
                        const std::string& action) const;
  hid_t id() const;

  H5Handle dataset_;
  H5Handle transfer_list_;  // collective MPI-IO transfer; empty in serial mode
  H5Context where_;
  ElementType type_;
};

}  // namespace flowlat
