#pragma once
// The command that continues a stopped job, printed after "stopped by ...":
// the same launcher, binary, subcommand and arguments (every --set, --output,
// --model, --json ...), without --force and with --resume, each shell-quoted,
// so that pasting it continues the job.
#include <string>
#include <vector>

namespace flowlat {

// `arguments` is argv as main received it; `n_ranks` the job's size. The
// launcher is the parent process's own command line up to the binary when
// the parent is Open MPI's mpirun (it starts its node's ranks), so that its
// options (--oversubscribe, --mca ...) are kept; else (MpiSession::launcher)
// `mpirun -np N` under Open MPI, `srun -n N` under SLURM's srun, `mpiexec -n
// N` for another launcher, nothing for one process not started by a
// launcher. Local.
std::string resume_command(const std::vector<std::string>& arguments, int n_ranks);

}  // namespace flowlat
