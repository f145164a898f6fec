#!/usr/bin/env bash
# The near-critical scaling study (flow against HMC on m2 = -4, xi ~ L/4),
# one command; see critical_line.py for what it runs and writes.
#   usage: bash tools/study/critical_line.sh [--budget small|full] [--family continuous|coupling]
#                                            [--sizes 6,8,...] [--ranks N] [--out DIR]
# Small budget, continuous flows (the default): L = 6..32 on 2 ranks of a
# 2-core machine in about an hour; coupling flows: L = 6..20 in 15 minutes.
# Full budget on a cluster: jobscripts/submit_critical_line.sh (SLURM).
# FLOWLAT=path/to/flowlat runs another build (default build/flowlat).
set -euo pipefail
cd "$(dirname "$0")/../.."
if [ "$(id -u)" -eq 0 ]; then export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1; fi
exec python3 tools/study/critical_line.py "$@"
