#!/usr/bin/env bash
# flowlat against the tutorial's PyTorch code, same machine, same threads:
# training ms/step, sampling configs/s, GFLOP/s against a one-core GEMM,
# peak memory; runs alternate and medians are printed.
#   usage: bash tools/bench/run.sh [--repeats N] [--quick] [--threads T] [--kernel auto|reference|fused]
# FLOWLAT=path/to/flowlat benches another build (default build/flowlat).
set -euo pipefail
cd "$(dirname "$0")/../.."
# Debian's python3-torch: the interpreter at /usr/bin/python3 (a python3
# earlier on PATH may not see it).
python=python3
if ! "$python" -c 'import torch' 2> /dev/null; then python=/usr/bin/python3; fi
exec "$python" tools/bench/bench.py "$@"
