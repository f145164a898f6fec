#pragma once
// RAII MPI_Init/MPI_Finalize for the executable and the MPI tests.
namespace flowlat {

class MpiSession {
 public:
  MpiSession(int* argc, char*** argv);
  ~MpiSession();
  MpiSession(const MpiSession&) = delete;
  MpiSession& operator=(const MpiSession&) = delete;
};

}  // namespace flowlat
