#!/usr/bin/env bash
# Configure and build flowlat (Release) into build/. Used by test.sh and
# quickstart.sh; extra arguments go to cmake's configure step.
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release "$@" >/dev/null
cmake --build build -j"$(nproc)"
