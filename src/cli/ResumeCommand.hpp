#pragma once
// The command that continues a stopped job, printed after "stopped by ...":
// the same launcher, binary, subcommand and arguments (every --set, --output,
// --model, --json ...), without --force and with --resume, each shell-quoted,
// so that pasting it continues the job.
#include <string>
#include <vector>

namespace flowlat {

// `arguments` is argv as main received it; `n_ranks` the job's size. The
// launcher (MpiSession::launcher) is `mpirun -np N` under Open MPI, `srun
// -n N` under SLURM's srun, `mpiexec -n N` for another launcher, nothing for
// one process not started by a launcher. Local.
std::string resume_command(const std::vector<std::string>& arguments, int n_ranks);

}  // namespace flowlat
