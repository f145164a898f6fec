#!/usr/bin/env bash
# The critical-line study on a cluster (full budget up to L = 64): HMC as
# an array over L; training as one job per L, each starting from the
# previous L's best model (transfer across volumes) once that job has
# completed; sampling as an array after all training; analysis as an array
# whose task i waits for sampling task i (aftercorr) and for HMC; then the
# table and plot (tools/study/critical_line.py, which finds every step done).
# Every job requeues itself when stopped by the time limit and continues.
#   usage: bash jobscripts/submit_critical_line.sh [OUT_DIR]
# Environment: STUDY_SIZES (default the whole line), STUDY_CONFIGS,
# STUDY_SET (extra --set arguments), SBATCH_EXTRA (e.g. --partition=...),
# FLOWLAT; STUDY_JOBS_FILE: write the job ids there (hmc=, train=, sample=,
# analyze=, table=; submit_free_energy.sh reads them).
set -euo pipefail
export STUDY_OUT=$(realpath -m "${1:-runs/study/full}")
export STUDY_SIZES=${STUDY_SIZES:-"6 8 10 12 14 20 32 64"}
read -r -a sizes <<< "$STUDY_SIZES"
read -r -a extra <<< "${SBATCH_EXTRA:-}"
last=$((${#sizes[@]} - 1))
step=jobscripts/critical_line_step.sbatch
hmc=$(sbatch --parsable "${extra[@]}" --job-name=critical-hmc --array=0-$last "$step" hmc)
train=""
for i in $(seq 0 "$last"); do
  dependency=()
  init=""
  if [ -n "$train" ]; then
    dependency=(--dependency=afterok:"$train")
    init=$STUDY_OUT/L${sizes[$((i - 1))]}/flow/model_best.pt
  fi
  train=$(STUDY_INIT_FROM=$init sbatch --parsable "${extra[@]}" "${dependency[@]}" --job-name=critical-train \
          --array="$i" "$step" train)
done
sample=$(sbatch --parsable "${extra[@]}" --dependency=afterok:"$train" --job-name=critical-sample \
         --array=0-$last "$step" sample)
analyze=$(sbatch --parsable "${extra[@]}" --dependency=aftercorr:"$sample",afterok:"$hmc" \
          --job-name=critical-analyze --array=0-$last "$step" analyze)
sizes_csv=$(IFS=,; echo "${sizes[*]}")
table=$(sbatch --parsable "${extra[@]}" --dependency=afterok:"$analyze" --job-name=critical-table \
        --output="$STUDY_OUT/table-%j.out" \
        --wrap="bash tools/study/critical_line.sh --budget full --sizes $sizes_csv --out $STUDY_OUT --configs ${STUDY_CONFIGS:-input/critical_ode}")
echo "hmc $hmc  train (last) $train  sample $sample  analyze $analyze  table $table  (output $STUDY_OUT)"
if [ -n "${STUDY_JOBS_FILE:-}" ]; then
  printf 'hmc=%s\ntrain=%s\nsample=%s\nanalyze=%s\ntable=%s\n' "$hmc" "$train" "$sample" "$analyze" "$table" \
    > "$STUDY_JOBS_FILE"
fi
