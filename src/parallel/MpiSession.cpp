#include "parallel/MpiSession.hpp"

#include <mpi.h>

#include <cstdlib>

namespace flowlat {
namespace {

MpiSession::Launcher launcher_from_environment() {
  const auto set = [](const char* name) { return std::getenv(name) != nullptr; };
  if (set("OMPI_COMM_WORLD_SIZE")) return MpiSession::Launcher::OpenMpi;
  const bool pmi = set("PMI_SIZE") || set("PMIX_RANK");
  if (pmi && set("SLURM_STEP_ID")) return MpiSession::Launcher::Srun;
  return pmi ? MpiSession::Launcher::OtherMpi : MpiSession::Launcher::None;
}

MpiSession::Launcher recorded_launcher = MpiSession::Launcher::None;

}  // namespace

MpiSession::Launcher MpiSession::launcher() { return recorded_launcher; }

MpiSession::MpiSession(int* argc, char*** argv) {
  recorded_launcher = launcher_from_environment();
  int initialized = 0;
  MPI_Initialized(&initialized);
  if (!initialized) MPI_Init(argc, argv);
  // Errors in MPI calls abort the job with MPI's message instead of hanging.
  MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_ARE_FATAL);
}

MpiSession::~MpiSession() {
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (!finalized) MPI_Finalize();
}

}  // namespace flowlat
