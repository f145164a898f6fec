#!/usr/bin/env bash
# Install every Debian package flowlat needs to build, test and run.
# Idempotent: packages already installed are skipped; apt is only touched when
# something is missing. Needs root (or sudo) for the install step.
set -euo pipefail

PACKAGES=(
  build-essential cmake pkg-config git
  libtorch-dev                      # LibTorch 1.13 (CPU)
  libopenblas0-pthread              # optimized BLAS picked up by libtorch (6.4 -> 83 GFLOP/s sgemm)
  libopenmpi-dev openmpi-bin        # MPI
  libhdf5-openmpi-dev hdf5-tools    # parallel HDF5 + h5dump
  libyaml-cpp-dev                   # YAML input
  libcli11-dev                      # command line
  nlohmann-json3-dev                # JSON output
  libgtest-dev googletest           # unit tests
  python3 python3-numpy python3-h5py python3-matplotlib python3-torch  # tools/ and baseline
  slurm-wlm munge                   # jobscript tests under a real SLURM
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#PACKAGES[@]} packages present"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
