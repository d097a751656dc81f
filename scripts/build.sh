#!/usr/bin/env bash
# Configures and builds gm in build/ (Release, Ninja). Extra arguments go to CMake.
# Usage: scripts/build.sh [-DGM_BUILD_TESTS=OFF ...]
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release "$@" >/dev/null
cmake --build build -j "$(nproc)"
