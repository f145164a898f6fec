#include "parallel/CollectiveError.hpp"

#include "config/ConfigError.hpp"

namespace flowlat {

void run_collectively(const Communicator& comm, const std::function<void()>& action) {
  std::string message;
  int code = static_cast<int>(ExitCode::Success);
  int already_attributed = 0;  // nested run_collectively already named the rank
  try {
    action();
  } catch (const CollectiveError& e) {
    message = e.what();
    code = static_cast<int>(e.code());
    already_attributed = 1;
  } catch (const ConfigError& e) {
    message = e.what();
    code = static_cast<int>(ExitCode::InputError);
  } catch (const std::exception& e) {
    message = e.what();
    code = static_cast<int>(ExitCode::RuntimeFailure);
  }
  const int failed = code != 0 ? comm.rank() : comm.size();
  int first_failed = comm.size();
  MPI_Allreduce(&failed, &first_failed, 1, MPI_INT, MPI_MIN, comm.handle());
  if (first_failed == comm.size()) return;
  int header[2] = {code, already_attributed};
  MPI_Bcast(header, 2, MPI_INT, first_failed, comm.handle());
  code = header[0];
  message = comm.broadcast(message, first_failed);
  if (comm.size() > 1 && header[1] == 0 && code != static_cast<int>(ExitCode::InputError)) {
    message = "rank " + std::to_string(first_failed) + ": " + message;
  }
  throw CollectiveError(message, static_cast<ExitCode>(code));
}

}  // namespace flowlat
