#!/usr/bin/env bash
# Short transfer trainings for log Z at L = 20 and 32 (README: Free energies, "A training
# budget for log Z"). Needs the flows of the small critical-line study
# (bash tools/study/critical_line.sh --budget small, runs/study/small_continuous) and
# build/flowlat; run from the repository root on an idle machine. Each step trains from the
# previous model for STEPS steps (the input's cosine schedule over those steps, no warm-up),
# samples 65,536 fresh configurations without storing them (log Z needs only the weights) and
# analyses the ensemble.
set -euo pipefail
cd "$(dirname "$0")/../../.."
if [ "$(id -u)" -eq 0 ]; then export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1; fi
short() {  # L STEPS INIT OUT
  local L=$1 steps=$2 init=$3 out=$4
  mpirun -np 2 build/flowlat train input/critical_ode/phi4_L$L.yaml --set run.output_dir=$out \
    --set train.steps=$steps --set train.warmup_steps=0 --set train.eval_every=$steps \
    --set train.init_from=$init --force
  mpirun -np 2 build/flowlat sample input/critical_ode/phi4_L$L.yaml --model $out/model_best.pt \
    --output $out/ensemble.h5 --set run.output_dir=$out --set sample.n_configs=65536 \
    --set sample.store_configs=false --json $out/sample.json
  build/flowlat analyze $out/ensemble.h5 --json $out/analysis.json
}
short 20 300 runs/study/small_continuous/L14/flow/model_best.pt runs/short_transfer/L20_s300
short 32 400 runs/short_transfer/L20_s300/model_best.pt runs/short_transfer/L32_s400
short 32 800 runs/short_transfer/L20_s300/model_best.pt runs/short_transfer/L32_s800
