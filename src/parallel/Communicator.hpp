#pragma once
// Thin value wrapper over an MPI communicator. Every member marked
// "Collective" must be called by all ranks of the communicator.
#include <mpi.h>

#include <cstdint>
#include <string>
#include <vector>

namespace flowlat {

class Communicator {
 public:
  static Communicator world() { return Communicator(MPI_COMM_WORLD); }
  static Communicator self() { return Communicator(MPI_COMM_SELF); }
  explicit Communicator(MPI_Comm comm);

  MPI_Comm handle() const { return comm_; }
  int rank() const { return rank_; }
  int size() const { return size_; }
  bool is_root() const { return rank_ == 0; }

  void barrier() const;                                 // Collective.
  double sum(double value) const;                       // Collective.
  double max(double value) const;                       // Collective.
  void sum_in_place(double* data, int count) const;     // Collective.
  void sum_in_place(float* data, int count) const;      // Collective.
  // True on every rank iff `value` is the same on every rank. Collective.
  bool all_equal(uint64_t value) const;
  // Root's string on every rank. Collective.
  std::string broadcast(const std::string& text, int root) const;
  void broadcast(void* data, int64_t bytes, int root) const;  // Collective.
  // Gathers `local` from every rank onto every rank, in rank order. Collective.
  std::vector<double> all_gather(const std::vector<double>& local) const;

  // Kills the whole job (all ranks of MPI_COMM_WORLD). Local, never returns.
  [[noreturn]] static void abort_job(int exit_code);

 private:
  MPI_Comm comm_;
  int rank_ = 0;
  int size_ = 1;
};

// Where a rank sits among the ranks sharing its node
// (MPI_COMM_TYPE_SHARED): computed once per job, for device selection.
struct NodeLayout {
  int local_rank = 0;  // rank among the ranks on this node
  int local_size = 1;  // ranks on this node
  // Every node-local rank's `tag`, in node-local rank order (device
  // selection passes the GPUs a rank sees).
  std::vector<std::string> tags;
  // Splits `comm` by node once and gathers the tags. Collective.
  static NodeLayout of(const Communicator& comm, const std::string& tag = "");
};

}  // namespace flowlat
