#!/usr/bin/env bash
# Configure and build flowlat (Release) into build/. Used by test.sh and
# quickstart.sh; extra arguments go to cmake's configure step; FLOWLAT_WERROR=ON
# (as CI sets it) makes every compiler warning an error; FLOWLAT_TARGET builds
# that target alone (e.g. flowlat, without the tests).
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DFLOWLAT_WERROR="${FLOWLAT_WERROR:-OFF}" "$@" >/dev/null
cmake --build build -j"$(nproc)" ${FLOWLAT_TARGET:+--target "$FLOWLAT_TARGET"}
