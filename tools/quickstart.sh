#!/usr/bin/env bash
# From a fresh machine: install, build in Release, and train the tutorial's
# flow on input/phi4_L8.yaml, sample an ensemble from it and analyze it
# (flowlat run, 2 ranks). Extra arguments go to flowlat (e.g. --force).
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/install-deps.sh
bash tools/build.sh
if [ "$(id -u)" -eq 0 ]; then
  export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
fi
# Train, sample and analyze on 2 ranks.
mpirun --oversubscribe $( [ "$(id -u)" -eq 0 ] && echo --allow-run-as-root ) -np 2 build/flowlat run input/phi4_L8.yaml "$@"
