#!/usr/bin/env bash
# Data-parallel training on one workstation with plain mpirun.
# Expects: flowlat built in build/ (bash tools/build.sh), Open MPI's mpirun
# on PATH, run from the repository root. One rank per core (CPU) or per GPU.
#   usage: bash jobscripts/train_mpirun.sh [CONFIG] [RANKS] [extra flowlat args]
set -euo pipefail
config=${1:-input/phi4_L8.yaml}
ranks=${2:-2}
shift $(( $# > 2 ? 2 : $# )) || true
mpi_args=(--bind-to none)
if [ "$(id -u)" -eq 0 ]; then mpi_args+=(--allow-run-as-root); fi
if [ "$ranks" -gt "$(nproc)" ]; then mpi_args+=(--oversubscribe); fi
# One LibTorch thread per rank (run.threads_per_rank) keeps ranks from competing.
exec mpirun "${mpi_args[@]}" -np "$ranks" build/flowlat train "$config" "$@"
