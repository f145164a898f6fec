#pragma once
// RAII MPI_Init/MPI_Finalize for the executable and the MPI tests.
namespace flowlat {

class MpiSession {
 public:
  MpiSession(int* argc, char*** argv);
  ~MpiSession();
  MpiSession(const MpiSession&) = delete;
  MpiSession& operator=(const MpiSession&) = delete;

  // Which launcher started this process, from the environment it had
  // before MPI_Init (MPI_Init of a singleton sets launcher variables
  // itself). Local.
  enum class Launcher { None, OpenMpi, Srun, OtherMpi };
  static Launcher launcher();
};

}  // namespace flowlat
