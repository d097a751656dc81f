#!/usr/bin/env bash
# Installs the Debian packages gm needs that this machine lacks; does nothing when all are there.
# Usage: scripts/deps.sh [build|demo|test]   (demo adds gnuplot for the charts; test adds what the
# test suite runs: h5py, PyTorch, ...)
set -euo pipefail
need=(cmake ninja-build g++ libtorch-dev libopenblas0-pthread libhdf5-dev libcli11-dev libfmt-dev libstb-dev
      nlohmann-json3-dev libgtest-dev libgloo-dev zlib1g-dev hdf5-tools python3)
if [[ ${1:-build} == demo ]]; then
  need+=(gnuplot-nox)
elif [[ ${1:-build} == test ]]; then
  # Real clients for the interop tests, and the tools the docs tests run.
  need+=(python3-torch python3-h5py python3-numpy python3-scipy man-db groff-base zsh fish gnuplot-nox
         dataset-fashion-mnist)
fi
missing=()
for package in "${need[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed' || missing+=("$package")
done
if ((${#missing[@]})); then
  echo "installing: ${missing[*]}" >&2
  sudo=()
  [[ $(id -u) == 0 ]] || sudo=(sudo)
  "${sudo[@]}" apt-get update -q
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
# LibTorch calls whichever libblas.so.3 the alternatives system selects; the reference BLAS is
# about 15x slower than OpenBLAS.
blas=$(readlink -f /usr/lib/x86_64-linux-gnu/libblas.so.3 2>/dev/null || true)
if [[ $blas != *openblas* ]]; then
  echo "warning: libblas.so.3 is $blas, not OpenBLAS; run: update-alternatives --config libblas.so.3-x86_64-linux-gnu" >&2
fi
