#!/usr/bin/env bash
# Strong/weak scaling of training and sampling throughput on this machine.
# Prints ms/step for 1 and 2 ranks (same global batch, and same per-rank
# batch) and configs/s for 1 and 2 ranks at L = 8 and L = 32 with and
# without stored configurations, with the share of time in HDF5 writes.
#   usage: bash tools/bench/scaling.sh [steps] [n_configs at L = 8] [n_configs at L = 32]
set -euo pipefail
cd "$(dirname "$0")/../.."
steps=${1:-200}
n_configs=${2:-65536}
n_configs_32=${3:-4096}
repeats=${REPEATS:-3}  # sampling runs per line; the median is printed
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mpi=(mpirun --bind-to none --oversubscribe)
if [ "$(id -u)" -eq 0 ]; then mpi+=(--allow-run-as-root); fi
flowlat=${FLOWLAT:-build/flowlat}  # FLOWLAT=path/to/flowlat to bench another build

train_ms() {  # ranks batch extra-args...
  local ranks=$1 batch=$2; shift 2
  "${mpi[@]}" -np "$ranks" $flowlat train input/phi4_L8.yaml --force --set run.output_dir="$work/t" \
    --set train.steps="$steps" --set train.batch_size="$batch" --set run.device=cpu "$@" \
    | sed -n 's/.*(\([0-9.]*\) ms\/step).*/\1/p'
}
echo "training, tutorial flow (L = 8, 16 layers, [8, 8]), float32, 1 thread per rank, $steps steps"
printf '  1 rank,  global batch  64 (64 per rank): %s ms/step\n' "$(train_ms 1 64)"
printf '  2 ranks, global batch  64 (32 per rank): %s ms/step   (strong scaling)\n' "$(train_ms 2 64)"
printf '  2 ranks, global batch 128 (64 per rank): %s ms/step   (weak scaling)\n' "$(train_ms 2 128)"

sample_line() {  # ranks L store
  local ranks=$1 L=$2 store=$3 dir="$work/s$2" n=$n_configs
  if [ "$L" -eq 32 ]; then n=$n_configs_32; fi
  if [ ! -f "$dir/model.pt" ]; then
    $flowlat train input/phi4_L8.yaml --force --set run.output_dir="$dir" --set "lattice.shape=[$L, $L]" \
      --set train.steps=1 --set run.device=cpu > /dev/null
  fi
  local rep lines=()
  # Repeated and the median taken: shared machines vary by 4x from run to run.
  for rep in $(seq "$repeats"); do
    lines+=("$("${mpi[@]}" -np "$ranks" $flowlat sample input/phi4_L8.yaml --force --set run.output_dir="$dir" \
      --set "lattice.shape=[$L, $L]" --set sample.n_configs="$n" --set sample.batch_size=1024 \
      --set sample.store_configs="$store" --set run.device=cpu | grep 'configs/s' | sed 's/^[^ ]*Z  *//')")
  done
  printf '%s\n' "${lines[@]}" | sort -g | sed -n "$(( (repeats + 1) / 2 ))p"
}
echo "sampling $n_configs (L = 8) and $n_configs_32 (L = 32) configurations, batch 1024, float32, median of $repeats runs"
for L in 8 32; do
  for store in true false; do
    for ranks in 1 2; do
      printf '  L = %2s, store_configs %-5s, %d rank(s): %s\n' "$L" "$store" "$ranks" "$(sample_line "$ranks" "$L" "$store")"
    done
  done
done
