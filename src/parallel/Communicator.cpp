#include "parallel/Communicator.hpp"

#include <limits>
#include <stdexcept>

namespace flowlat {

Communicator::Communicator(MPI_Comm comm) : comm_(comm) {
  MPI_Comm_rank(comm_, &rank_);
  MPI_Comm_size(comm_, &size_);
}

void Communicator::barrier() const { MPI_Barrier(comm_); }

double Communicator::sum(double value) const {
  double result = 0;
  MPI_Allreduce(&value, &result, 1, MPI_DOUBLE, MPI_SUM, comm_);
  return result;
}

double Communicator::max(double value) const {
  double result = 0;
  MPI_Allreduce(&value, &result, 1, MPI_DOUBLE, MPI_MAX, comm_);
  return result;
}

void Communicator::sum_in_place(double* data, int count) const {
  MPI_Allreduce(MPI_IN_PLACE, data, count, MPI_DOUBLE, MPI_SUM, comm_);
}

void Communicator::sum_in_place(float* data, int count) const {
  MPI_Allreduce(MPI_IN_PLACE, data, count, MPI_FLOAT, MPI_SUM, comm_);
}

bool Communicator::all_equal(uint64_t value) const {
  uint64_t low = 0, high = 0;
  MPI_Allreduce(&value, &low, 1, MPI_UINT64_T, MPI_MIN, comm_);
  MPI_Allreduce(&value, &high, 1, MPI_UINT64_T, MPI_MAX, comm_);
  return low == high;
}

std::string Communicator::broadcast(const std::string& text, int root) const {
  int64_t length = static_cast<int64_t>(text.size());
  MPI_Bcast(&length, 1, MPI_INT64_T, root, comm_);
  std::string result = rank_ == root ? text : std::string(static_cast<size_t>(length), '\0');
  broadcast(result.data(), length, root);
  return result;
}

void Communicator::broadcast(void* data, int64_t bytes, int root) const {
  // MPI counts are int: send in chunks below 2^31 bytes.
  constexpr int64_t kChunk = std::numeric_limits<int>::max() / 2;
  auto* bytes_ptr = static_cast<char*>(data);
  for (int64_t offset = 0; offset < bytes; offset += kChunk) {
    const int count = static_cast<int>(std::min(kChunk, bytes - offset));
    MPI_Bcast(bytes_ptr + offset, count, MPI_BYTE, root, comm_);
  }
}

std::vector<double> Communicator::all_gather(const std::vector<double>& local) const {
  const int count = static_cast<int>(local.size());
  std::vector<int> counts(size_), offsets(size_, 0);
  MPI_Allgather(&count, 1, MPI_INT, counts.data(), 1, MPI_INT, comm_);
  for (int r = 1; r < size_; ++r) offsets[r] = offsets[r - 1] + counts[r - 1];
  std::vector<double> all(static_cast<size_t>(offsets.back() + counts.back()));
  MPI_Allgatherv(local.data(), count, MPI_DOUBLE, all.data(), counts.data(), offsets.data(), MPI_DOUBLE, comm_);
  return all;
}

void Communicator::abort_job(int exit_code) {
  MPI_Abort(MPI_COMM_WORLD, exit_code);
  std::abort();  // MPI_Abort does not return; keep the compiler sure of it.
}

NodeLayout NodeLayout::of(const Communicator& comm, const std::string& tag) {
  MPI_Comm node;
  MPI_Comm_split_type(comm.handle(), MPI_COMM_TYPE_SHARED, 0, MPI_INFO_NULL, &node);
  NodeLayout layout;
  MPI_Comm_rank(node, &layout.local_rank);
  MPI_Comm_size(node, &layout.local_size);
  const int length = static_cast<int>(tag.size());
  std::vector<int> lengths(static_cast<size_t>(layout.local_size)), offsets(lengths.size(), 0);
  MPI_Allgather(&length, 1, MPI_INT, lengths.data(), 1, MPI_INT, node);
  for (size_t r = 1; r < lengths.size(); ++r) offsets[r] = offsets[r - 1] + lengths[r - 1];
  std::string all(static_cast<size_t>(offsets.back() + lengths.back()), '\0');
  MPI_Allgatherv(tag.data(), length, MPI_CHAR, all.data(), lengths.data(), offsets.data(), MPI_CHAR, node);
  for (size_t r = 0; r < lengths.size(); ++r) layout.tags.push_back(all.substr(offsets[r], lengths[r]));
  MPI_Comm_free(&node);
  return layout;
}

}  // namespace flowlat
