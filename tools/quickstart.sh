#!/usr/bin/env bash
# From a fresh machine: install, build the binary in Release, then on 2 ranks
#   1. the HMC baseline for the couplings of input/phi4_L8.yaml (~10 s),
#   2. the recommended recipe, input/phi4_L8_best.yaml (spline couplings after
#      a Fourier layer): train, sample 65,536 configurations, analyze, plot
#      (~2 minutes),
#   3. the tutorial's recipe, input/phi4_L8.yaml, the same way, as the
#      baseline (~25 s),
# and ends with a verdict for each: ensemble ESS, independence-Metropolis
# acceptance, log Z, chi2 against HMC in standard errors, seconds per
# independent configuration of flow and HMC (flowlat analyze --versus).
# Extra arguments go to flowlat (e.g. --force to run again).
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/install-deps.sh
# Only the binary: tools/test.sh builds the tests.
FLOWLAT_TARGET=flowlat bash tools/build.sh
MPIRUN=(mpirun --oversubscribe -np 2)
if [ "$(id -u)" -eq 0 ]; then
  export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
  MPIRUN+=(--allow-run-as-root)
fi
hmc=runs/phi4_L8_hmc.h5  # beside the run directories, which training wants empty
"${MPIRUN[@]}" build/flowlat hmc input/phi4_L8.yaml --output "$hmc" "$@"
"${MPIRUN[@]}" build/flowlat run input/phi4_L8_best.yaml --hmc "$hmc" "$@"
"${MPIRUN[@]}" build/flowlat run input/phi4_L8.yaml --hmc "$hmc" "$@"

for recipe in "phi4_L8_best: the recommended recipe" "phi4_L8: the tutorial's recipe (2021)"; do
  run=${recipe%%:*}
  echo
  echo "=== ${recipe#*: } (input/$run.yaml; plots: runs/$run/*.png)"
  build/flowlat analyze "runs/$run/ensemble.h5" --versus "$hmc" | sed -n '/^verdict/,$p' | tail -n +2
done
