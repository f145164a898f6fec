#!/usr/bin/env bash
# The GPU checks (README: GPU runs), one script for a machine with an NVIDIA
# GPU, the CUDA toolkit (LibTorch's CMake enables the CUDA language), a CUDA
# LibTorch 2.x with the cxx11 ABI, and a python3 with a CUDA torch and h5py.
# Sized for about 15 minutes on one GPU:
#   0. build against the CUDA LibTorch (the configure line must say CUDA);
#   1. CUDA against the CPU reference (coupling layers, values and gradients);
#   2. one GPU, 1 rank vs 2 ranks, float64, deterministic: equal models;
#   3. a checkpoint written on the GPU resumed on the CPU;
#   4. run.deterministic: ensembles bitwise equal across rank counts;
#   5. the continuous (ODE) family: 1 rank vs 2 ranks, GPU log q against the CPU's;
#   6. training ms/step and sampling configs/s against the tutorial's code, and
#      the continuous family's at L = 32.
#
#   LIBTORCH=/path/to/libtorch bash tools/gpu/check.sh
#   CMAKE_ARGS='-DMPI_C_COMPILER=... -DCMAKE_CXX_STANDARD=20' adds configure options.
set -euo pipefail
cd "$(dirname "$0")/../.."
: "${LIBTORCH:?set LIBTORCH to the unpacked CUDA LibTorch (the folder holding share/cmake/Torch)}"
PYTHON=${PYTHON:-python3}
BUILD=${BUILD:-build-gpu}
WORK=$BUILD/gpu-check
JOBS=$(nproc)
if [ "$(id -u)" -eq 0 ]; then export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1; fi
MPIRUN=(mpirun --oversubscribe)
FLOWLAT=$BUILD/flowlat
failures=0
step() { printf '\n== %s\n' "$*"; }
check() { if "$@"; then echo "PASS"; else echo "FAIL: $*"; failures=$((failures + 1)); fi; }
# median_ms_per_step DIR: a training's median ms/step, its first tenth (warm-up) left out.
median_ms_per_step() {
  "$PYTHON" -c "import statistics, sys; r = [float(l.split(',')[3]) for l in open(sys.argv[1]).read().splitlines()[1:]]; print(f'{1e3 * statistics.median(r[len(r) // 10:]):.2f}')" "$1/history.csv"
}
# configs_per_s: the rate printed by `flowlat sample` (on stdin).
configs_per_s() { grep "configs/s" | sed 's| configs/s.*||' | awk '{print $NF}'; }

step "0. build"
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader || true
mkdir -p "$BUILD"
cmake -S . -B "$BUILD" -DCMAKE_PREFIX_PATH="$LIBTORCH" -DCMAKE_BUILD_TYPE=Release ${CMAKE_ARGS:-} > "$BUILD/gpu-configure.log" 2>&1 \
  || { tail -30 "$BUILD/gpu-configure.log"; exit 1; }
grep "LibTorch" "$BUILD/gpu-configure.log"
grep -q "LibTorch .*: CUDA" "$BUILD/gpu-configure.log" || { echo "FAIL: the LibTorch at $LIBTORCH is not a CUDA build"; exit 1; }
make -C "$BUILD" -j"$JOBS" flowlat > "$BUILD/gpu-build.log" 2>&1 || { tail -30 "$BUILD/gpu-build.log"; exit 1; }
# The tests separately: a test that does not compile fails step 1, not the runtime checks.
test_flow_built=yes
make -C "$BUILD" -k -j"$JOBS" test_flow > "$BUILD/gpu-build-tests.log" 2>&1 \
  || { grep -B2 -A6 "error" "$BUILD/gpu-build-tests.log" | head -60; test_flow_built=no; }
rm -rf "$WORK" && mkdir -p "$WORK"

step "1. CUDA against the CPU reference"
if [ "$test_flow_built" = yes ]; then
  check "$BUILD/test_flow" --gtest_filter='*Cuda*:FlowLayers.*'
else
  echo "FAIL: test_flow did not compile"; failures=$((failures + 1))
fi

common=(--set lattice.shape=[8,8] --set train.batch_size=64 --set run.precision=float64 --set run.deterministic=true
        --set sample.n_configs=4096 --set sample.batch_size=512)
gpu=(--set run.device=cuda)
step "2. one GPU: 1 rank vs 2 ranks (run.gpu_sharing: allow), float64"
"${MPIRUN[@]}" -np 1 "$FLOWLAT" train input/phi4_L8.yaml --force "${common[@]}" "${gpu[@]}" --set train.steps=40 \
  --set train.log_every=40 --set run.output_dir="$WORK/np1" > "$WORK/np1.log"
"${MPIRUN[@]}" -np 2 "$FLOWLAT" train input/phi4_L8.yaml --force "${common[@]}" "${gpu[@]}" --set train.steps=40 \
  --set train.log_every=40 --set run.gpu_sharing=allow --set run.output_dir="$WORK/np2" > "$WORK/np2.log"
check "$PYTHON" tools/gpu/compare.py models "$WORK/np1/model.pt" "$WORK/np2/model.pt" 1e-10

step "3. checkpoint written on the GPU, resumed on the CPU"
"${MPIRUN[@]}" -np 1 "$FLOWLAT" train input/phi4_L8.yaml --force "${common[@]}" "${gpu[@]}" --set train.steps=20 \
  --set train.log_every=40 --set train.checkpoint_every=20 --set run.output_dir="$WORK/moved" > "$WORK/moved1.log"
"${MPIRUN[@]}" -np 1 "$FLOWLAT" train input/phi4_L8.yaml --resume "${common[@]}" --set run.device=cpu --set train.steps=40 \
  --set train.log_every=40 --set train.checkpoint_every=20 --set run.output_dir="$WORK/moved" > "$WORK/moved2.log"
check "$PYTHON" tools/gpu/compare.py models "$WORK/moved/model.pt" "$WORK/np1/model.pt" 1e-8

step "4. run.deterministic: ensembles bitwise equal across rank counts"
for np in 1 2; do
  "${MPIRUN[@]}" -np "$np" "$FLOWLAT" sample input/phi4_L8.yaml --force "${common[@]}" "${gpu[@]}" --set run.gpu_sharing=allow \
    --model "$WORK/np1/model.pt" --set run.output_dir="$WORK/sample$np" > "$WORK/sample$np.log" 2>&1
done
check "$PYTHON" tools/gpu/compare.py ensembles "$WORK/sample1/ensemble.h5" "$WORK/sample2/ensemble.h5"

step "5. the continuous (ODE) family (FFT kernels): 1 rank vs 2 ranks, and the GPU against the CPU, float64"
# The near-critical inputs' continuous flow (input/phi4_L20_critical.yaml) on 8 x 8, from scratch.
cat > "$WORK/ode.yaml" <<'YAML'
lattice: {shape: [8, 8]}
action:  {kind: phi4, m2: -4.0, lambda: 4.807}
flow:    {n_layers: 0, fourier_layer: symmetric, ode_layer: global, ode_pieces: 8, ode_frequencies: 16, ode_channels: 16}
train:   {steps: 20, batch_size: 64, lr: 3.0e-3, seed: 2, log_every: 20, warmup_steps: 2, adam_beta1: 0.8, adam_beta2: 0.9}
run:     {precision: float64, deterministic: true, threads_per_rank: 1}
sample:  {n_configs: 4096, batch_size: 512, seed: 4321}
YAML
for np in 1 2; do
  "${MPIRUN[@]}" -np "$np" "$FLOWLAT" train "$WORK/ode.yaml" --force "${gpu[@]}" --set run.gpu_sharing=allow \
    --set run.output_dir="$WORK/ode$np" > "$WORK/ode$np.log"
done
check "$PYTHON" tools/gpu/compare.py models "$WORK/ode1/model.pt" "$WORK/ode2/model.pt" 1e-10
for dev in cuda cpu; do
  "${MPIRUN[@]}" -np 1 "$FLOWLAT" sample "$WORK/ode.yaml" --force --set run.device=$dev \
    --model "$WORK/ode1/model.pt" --set run.output_dir="$WORK/ode_$dev" > "$WORK/ode_$dev.log" 2>&1
done
check "$PYTHON" tools/gpu/compare.py close "$WORK/ode_cuda/ensemble.h5" "$WORK/ode_cpu/ensemble.h5" 1e-9

step "6. speed on this GPU: flowlat against the tutorial's PyTorch code (same architecture, dtype, batch)"
for cfg in "8 64 float32 300" "32 256 float32 60" "8 64 float32 300 best"; do
  set -- $cfg
  input=input/phi4_L8.yaml layers=16
  if [ "${5:-}" = best ]; then input=input/phi4_L8_best.yaml layers=4; fi
  "$FLOWLAT" train "$input" --force --set lattice.shape=[$1,$1] --set train.batch_size=$2 --set run.precision=$3 \
    --set train.steps=$4 --set train.log_every=$4 --set train.eval_every=0 --set run.device=cuda \
    --set run.output_dir="$WORK/speed" > "$WORK/speed.log"
  ms=$(median_ms_per_step "$WORK/speed")
  rate=$("$FLOWLAT" sample "$input" --force --set lattice.shape=[$1,$1] --set run.precision=$3 --set run.device=cuda \
    --set sample.n_configs=65536 --set sample.batch_size=4096 --set run.output_dir="$WORK/speed" | configs_per_s)
  tutorial=$("$PYTHON" tools/bench/tutorial_baseline.py --device cuda --L "$1" --batch "$2" --dtype "$3" --layers "$layers" \
    --train-steps "$4" --warmup-steps 30 --sample-configs 65536 --sample-batch 4096 | tail -1)
  "$PYTHON" -c "import json; t=json.loads('''$tutorial'''); print(f'L={$1} b={$2} $3 ${5:-tutorial}: train ms/step flowlat $ms, tutorial {t[\"train_ms_per_step_median\"]:.2f}; sample configs/s flowlat $rate, tutorial {t[\"sample_configs_per_s\"]:.0f}')"
done

for batch in 256 1024; do
  "$FLOWLAT" train "$WORK/ode.yaml" --force --set lattice.shape=[32,32] --set train.batch_size=$batch \
    --set train.steps=60 --set train.log_every=60 --set run.precision=float32 --set run.deterministic=false \
    --set run.device=cuda --set run.output_dir="$WORK/speed" > "$WORK/speed.log"
  ms=$(median_ms_per_step "$WORK/speed")
  rate=$("$FLOWLAT" sample "$WORK/ode.yaml" --force --set lattice.shape=[32,32] --set run.device=cuda --set run.precision=float32 \
    --set run.deterministic=false --set sample.n_configs=65536 --set sample.batch_size=4096 --set sample.store_configs=false \
    --model "$WORK/speed/model.pt" --set run.output_dir="$WORK/speed" | configs_per_s)
  echo "continuous family L=32 b=$batch float32: train ms/step $ms; sample configs/s $rate"
done

step "done: $failures failed check(s)"
exit $((failures > 0))
