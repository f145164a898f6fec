#!/usr/bin/env bash
# The flow-quality benchmark (quality.py): the tutorial recipe, the
# tutorial's network given the best recipe's wall-clock, each technique
# alone and the best combination, on (a)-(d), the continuous family on
# (d)-(f); ensemble ESS and acceptance
# over seeds, reweighted chi2 next to flowlat hmc.
#   usage: bash tools/bench/quality.sh [--budget small|full] [--problems a,b,c,d,e,f] [--seeds 3] [--ranks 2]
#          [--recipes continuous,...]
# FLOWLAT=path/to/flowlat runs another build (default build/flowlat).
set -euo pipefail
cd "$(dirname "$0")/../.."
if [ "$(id -u)" -eq 0 ]; then export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1; fi
exec python3 tools/bench/quality.py "$@"
