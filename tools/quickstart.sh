#!/usr/bin/env bash
# From a fresh machine: install, build in Release, run the HMC baseline for
# input/phi4_L8.yaml, then train the tutorial's flow, sample an ensemble from
# it, analyze and plot it (flowlat run), each on 2 ranks. Extra arguments go
# to flowlat (e.g. --force).
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/install-deps.sh
bash tools/build.sh
MPIRUN=(mpirun --oversubscribe -np 2)
if [ "$(id -u)" -eq 0 ]; then
  export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
  MPIRUN+=(--allow-run-as-root)
fi
# The HMC baseline first (hmc: in the YAML; ~1 minute), so that the plots
# show its M histogram and C(t) beside the flow's.
# Its file lies beside the run directory, which training wants empty.
"${MPIRUN[@]}" build/flowlat hmc input/phi4_L8.yaml --output runs/phi4_L8_hmc.h5 "$@"
# Train, sample, analyze and plot on 2 ranks: ends with the observables
# table and the paths of the plots.
"${MPIRUN[@]}" build/flowlat run input/phi4_L8.yaml --hmc runs/phi4_L8_hmc.h5 "$@"
