#!/usr/bin/env bash
# Data-parallel training on one workstation with plain mpirun, stopped
# cleanly by Ctrl-C or kill (checkpoint, exit 3) and continued by running
# the same command again with --resume.
# Expects: flowlat built in build/ (bash tools/build.sh) or FLOWLAT=<path>,
# Open MPI's mpirun on PATH, run from the repository root. One rank per core
# (CPU) or per GPU.
#   usage: bash jobscripts/train_mpirun.sh [CONFIG] [RANKS] [extra flowlat args, e.g. --resume]
set -euo pipefail
config=${1:-input/phi4_L8.yaml}
ranks=${2:-2}
shift $(( $# > 2 ? 2 : $# )) || true
source jobscripts/launch_common.sh
FLOWLAT_LAUNCH=mpirun
if [ "$ranks" -gt "$(nproc)" ]; then export OMPI_MCA_rmaps_base_oversubscribe=1; fi
# One LibTorch thread per rank (run.threads_per_rank) keeps ranks from competing.
# Ctrl-C/SIGTERM to this script become SIGUSR1 to mpirun, which passes it
# to every rank (mpirun itself would kill the ranks on SIGTERM).
flowlat_launch "$ranks" train "$config" "$@"
rc=0
flowlat_wait || rc=$?
if [ "$rc" -eq 3 ]; then echo "stopped with a checkpoint; continue with: bash $0 $config $ranks --resume"; fi
exit "$rc"
