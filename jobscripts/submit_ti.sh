#!/usr/bin/env bash
# Submits a thermodynamic integration (flowlat ti) as a SLURM array with one
# task per quadrature node (ti.nodes + ti.nodes/2 of them, counted by
# `flowlat ti CONFIG --list`) and the job that combines them into log Z once
# every task has completed (afterok). Expects: sbatch on PATH, the
# repository as working directory, flowlat built. Extra sbatch options go in
# SBATCH_EXTRA; extra arguments (e.g. --set ...) go to every flowlat ti;
# TI_JSON names a file for the combining job's --json (the result).
#   usage: bash jobscripts/submit_ti.sh CONFIG [flowlat ti args]
set -euo pipefail
config=${1:?usage: submit_ti.sh CONFIG [flowlat ti args]}
shift
read -r -a extra <<< "${SBATCH_EXTRA:-}"
flowlat=${FLOWLAT:-build/flowlat}
count=$("$flowlat" ti "$config" "$@" --list | grep -c '^node ')
nodes=$(sbatch --parsable "${extra[@]}" --array=0-$((count - 1)) --job-name=ti-node jobscripts/ti_slurm.sbatch "$config" "$@")
json=()
if [ -n "${TI_JSON:-}" ]; then json=(--json "$TI_JSON"); fi
combine=$(sbatch --parsable "${extra[@]}" --dependency=afterok:"$nodes" --job-name=ti-combine \
  jobscripts/ti_slurm.sbatch "$config" "$@" "${json[@]}")
echo "nodes $nodes (array 0-$((count - 1)))  combine $combine"
