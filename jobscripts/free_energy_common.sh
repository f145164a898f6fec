# Sourced by submit_free_energy.sh and free_energy_step.sbatch: a step's
# flowlat arguments from tools/study/free_energy.py --arguments, the study's
# one source of truth. Reads STUDY_OUT, FE_OUT and, when set, STUDY_CONFIGS
# and FE_OPTIONS.

# free_energy_arguments STEP SIZE: the arguments of STEP for lattice size
# SIZE into the array $arguments (empty when the step's output is complete).
free_energy_arguments() {
  local listing
  local configs=() options=()
  read -r -a options <<< "${FE_OPTIONS:-}"
  if [ -n "${STUDY_CONFIGS:-}" ]; then configs=(--configs "$STUDY_CONFIGS"); fi
  listing=$(mktemp)
  if ! python3 tools/study/free_energy.py --arguments "$1" --sizes "$2" --study "${STUDY_OUT:?STUDY_OUT is not set}" \
       --out "${FE_OUT:?FE_OUT is not set}" "${configs[@]}" "${options[@]}" > "$listing"; then
    rm -f "$listing"
    return 1
  fi
  mapfile -d '' arguments < "$listing"
  rm -f "$listing"
}
