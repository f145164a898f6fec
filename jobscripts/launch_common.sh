# Sourced by the jobscripts: how to start flowlat on the allocation and how
# to pass a batch-shell signal on to it. Variables the caller may set:
#   FLOWLAT         the executable (default: build/flowlat)
#   FLOWLAT_LAUNCH  mpirun (default; Open MPI reads the SLURM allocation) or srun
# Open MPI's mpirun forwards SIGUSR1 to every rank; on SIGTERM it kills the
# ranks after odls_base_sigkill_timeout (1 s by default), so SIGUSR1 is the
# signal used to ask flowlat for a checkpoint.
FLOWLAT=${FLOWLAT:-build/flowlat}
FLOWLAT_LAUNCH=${FLOWLAT_LAUNCH:-mpirun}

# flowlat_launch NTASKS ARGS...: starts flowlat in the background; sets $flowlat_pid.
flowlat_launch() {
  local ntasks=$1
  shift
  local launcher=()
  if [ "$FLOWLAT_LAUNCH" = srun ]; then
    launcher=(srun --kill-on-bad-exit=1 -n "$ntasks")
  else
    launcher=(mpirun --bind-to none -np "$ntasks")
    if [ "$(id -u)" -eq 0 ]; then launcher+=(--allow-run-as-root); fi
  fi
  "${launcher[@]}" "$FLOWLAT" "$@" &
  flowlat_pid=$!
}

# flowlat_wait: waits for $flowlat_pid, forwarding SIGUSR1/SIGTERM/SIGINT
# as SIGUSR1 (checkpoint and stop); returns flowlat's exit code.
flowlat_wait() {
  trap 'echo "$(date +%T) batch shell got a stop signal: asking flowlat to checkpoint and stop"; kill -USR1 "$flowlat_pid" 2>/dev/null || true' USR1 TERM INT
  local rc=0
  wait "$flowlat_pid" || rc=$?
  # A trapped signal interrupts wait (rc > 128) while flowlat still runs.
  while kill -0 "$flowlat_pid" 2>/dev/null; do
    rc=0
    wait "$flowlat_pid" || rc=$?
  done
  trap - USR1 TERM INT
  return "$rc"
}

# flowlat_requeue_if_stopped RC: exit code 3 means "stopped, resumable":
# put the job back in the queue (it continues from its checkpoint).
flowlat_requeue_if_stopped() {
  if [ "$1" -eq 3 ] && [ -n "${SLURM_JOB_ID:-}" ]; then
    echo "$(date +%T) flowlat stopped resumably (exit 3): requeueing job $SLURM_JOB_ID"
    scontrol requeue "$SLURM_JOB_ID"
    exit 0
  fi
}
