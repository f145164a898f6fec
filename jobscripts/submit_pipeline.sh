#!/usr/bin/env bash
# Submits training, sampling and analysis as three SLURM jobs, each starting
# only when the previous one has completed successfully (afterok; a
# requeued training job counts as completed only when it has finished).
# Expects: sbatch on PATH, the repository as working directory, flowlat
# built (see train_slurm.sbatch). Extra sbatch options (e.g. --partition)
# go in SBATCH_EXTRA; the three jobs run in RUN_DIR.
#   usage: bash jobscripts/submit_pipeline.sh CONFIG [RUN_DIR]
set -euo pipefail
config=${1:?usage: submit_pipeline.sh CONFIG [RUN_DIR]}
run_dir=${2:-runs/$(basename "${config%.*}")}
read -r -a extra <<< "${SBATCH_EXTRA:-}"
keys=(--set run.output_dir="$run_dir" --set sample.output=ensemble.h5)
train=$(sbatch --parsable "${extra[@]}" jobscripts/train_slurm.sbatch "$config" "${keys[@]}")
sample=$(sbatch --parsable "${extra[@]}" --dependency=afterok:"$train" jobscripts/sample_slurm.sbatch "$config" "${keys[@]}")
analyze=$(sbatch --parsable "${extra[@]}" --dependency=afterok:"$sample" jobscripts/analyze_slurm.sbatch "$run_dir/ensemble.h5")
echo "train $train  sample $sample  analyze $analyze  (run directory $run_dir)"
