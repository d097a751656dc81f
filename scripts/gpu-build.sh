#!/usr/bin/env bash
# Builds gm on a GPU machine against the CUDA LibTorch of its python3 (pip's torch), with the
# rest of gm's dependencies from gpu-deps/ (scripts/gpu-pack.sh gathers them on a Debian
# machine). The tools find the carried libraries through their RPATH, which also covers what those
# libraries load, so nothing needs LD_LIBRARY_PATH and python3 keeps its own.
# Usage: scripts/gpu-build.sh [BUILD_DIR=build-cuda]
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build-cuda}
deps=$PWD/gpu-deps/usr
[[ -d $deps ]] || { echo "gpu-build: no gpu-deps/; run scripts/gpu-pack.sh on a Debian machine and carry it" >&2; exit 1; }
torch_prefix=$(python3 -c 'import torch; print(torch.utils.cmake_prefix_path)')
libs=$deps/lib/x86_64-linux-gnu
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DGM_CUDA=ON -DGM_BUILD_TESTS=ON -DGM_BUILD_BENCH=ON \
  -DCMAKE_PREFIX_PATH="$torch_prefix;$deps;$libs/cmake" \
  -DHDF5_C_INCLUDE_DIR="$deps/include/hdf5/serial" -DHDF5_C_LIBRARY_hdf5="$libs/libhdf5_serial.so" \
  -DHDF5_C_LIBRARY_hdf5_hl="$libs/libhdf5_serial_hl.so" -DHDF5_NO_FIND_PACKAGE_CONFIG_FILE=ON \
  -DHDF5_C_COMPILER_EXECUTABLE=HDF5_C_COMPILER_EXECUTABLE-NOTFOUND \
  -DZLIB_ROOT="$deps" -DSTB_INCLUDE_DIR="$deps/include/stb" -DSTB_LIBRARY="$libs/libstb.so" \
  -DCMAKE_BUILD_RPATH="$libs" -DCMAKE_EXE_LINKER_FLAGS="-Wl,--disable-new-dtags" \
  -DCMAKE_SHARED_LINKER_FLAGS="-Wl,--disable-new-dtags" -DGM_PYTHON="$(command -v python3)"
cmake --build "$build" -j "$(nproc)"
"$build/cmd/gm-sample/gm-sample" --version
