#!/usr/bin/env bash
# README command 2: install what is missing, build everything, run every test.
set -euo pipefail
cd "$(dirname "$0")/.."
start=$SECONDS
scripts/deps.sh test
scripts/build.sh -DGM_BUILD_TESTS=ON -DGM_WERROR=ON
echo "build took $((SECONDS - start)) s" >&2
cd build
ctest --output-on-failure -j "$(nproc)" --timeout 600
echo "build and tests took $((SECONDS - start)) s" >&2
