#!/usr/bin/env bash
# The free-energy study on a cluster (tools/study/free_energy.py): the
# critical-line study's jobs for the flows and HMC (submit_critical_line.sh);
# per L a thermodynamic integration as an array over quadrature nodes
# (submit_ti.sh; independent of the flows, so it starts at once); the
# annealed ensembles as an array over L, task i after sampling task i; the
# brackets as an array whose task i waits for sampling task i (aftercorr)
# and for HMC; then the table and plot (free_energy.py, which finds every
# step done). Jobs requeue themselves at the time limit and continue.
#   usage: bash jobscripts/submit_free_energy.sh [STUDY_OUT [FE_OUT]]
# Environment: STUDY_SIZES (default "6 8 10 12 14 20 32"), STUDY_CONFIGS,
# STUDY_SET, SBATCH_EXTRA and FLOWLAT as for submit_critical_line.sh;
# FE_OPTIONS: extra free_energy.py options (e.g. "--ti-nodes 16").
set -euo pipefail
export STUDY_OUT=$(realpath -m "${1:-runs/study/full}")
export FE_OUT=$(realpath -m "${2:-runs/free_energy/full}")
export STUDY_SIZES=${STUDY_SIZES:-"6 8 10 12 14 20 32"}
read -r -a sizes <<< "$STUDY_SIZES"
read -r -a extra <<< "${SBATCH_EXTRA:-}"
last=$((${#sizes[@]} - 1))
mkdir -p "$STUDY_OUT" "$FE_OUT"

STUDY_JOBS_FILE=$FE_OUT/critical_line_jobs.txt bash jobscripts/submit_critical_line.sh "$STUDY_OUT"
source "$FE_OUT/critical_line_jobs.txt"   # hmc, train, sample, analyze, table

source jobscripts/free_energy_common.sh
combines=()
for size in "${sizes[@]}"; do
  free_energy_arguments ti "$size"
  if [ "${#arguments[@]}" -eq 0 ]; then continue; fi    # ti.json already there
  ti=("${arguments[@]}")
  free_energy_arguments ti-json "$size"
  mkdir -p "$(dirname "${arguments[0]}")"
  line=$(TI_JSON=${arguments[0]} bash jobscripts/submit_ti.sh "${ti[@]}")
  echo "L = $size thermodynamic integration: $line"
  combines+=("${line##* }")
done
anneal=$(sbatch --parsable "${extra[@]}" --dependency=aftercorr:"$sample" --job-name=free-energy-anneal \
         --array=0-$last jobscripts/free_energy_step.sbatch anneal)
bracket=$(sbatch --parsable "${extra[@]}" --dependency=aftercorr:"$sample",afterok:"$hmc" \
          --job-name=free-energy-bracket --array=0-$last jobscripts/free_energy_step.sbatch bracket)
after="afterok:$analyze:$anneal:$bracket"
for job in "${combines[@]}"; do after+=":$job"; done
sizes_csv=$(IFS=,; echo "${sizes[*]}")
table=$(sbatch --parsable "${extra[@]}" --dependency="$after" --job-name=free-energy-table \
        --output="$FE_OUT/table-%j.out" \
        --wrap="bash tools/study/free_energy.sh --budget full --sizes $sizes_csv --study $STUDY_OUT --out $FE_OUT ${STUDY_CONFIGS:+--configs $STUDY_CONFIGS} ${FE_OPTIONS:-}")
echo "free energy: anneal $anneal  bracket $bracket  TI combines ${combines[*]:-none}  table $table  (output $FE_OUT)"
