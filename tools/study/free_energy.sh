#!/usr/bin/env bash
# The free-energy study (flow, flow + annealing, HMC + thermodynamic
# integration on the near-critical line), one command; see free_energy.py
# for what it runs and writes.
#   usage: bash tools/study/free_energy.sh [--sizes 6,8,...] [--ranks N] [--out DIR] [--study DIR]
# FLOWLAT=path/to/flowlat runs another build (default build/flowlat).
set -euo pipefail
cd "$(dirname "$0")/../.."
if [ "$(id -u)" -eq 0 ]; then export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1; fi
exec python3 tools/study/free_energy.py "$@"
