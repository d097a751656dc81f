#!/usr/bin/env bash
# README command 1: install what is missing, build the tools, and run the main job on built-in
# data. Until the trainers land, that is the toy round trip (share/gm/recipes/toy-roundtrip.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh build
scripts/build.sh
for tool in train distill sample eval convert; do PATH="$PWD/build/cmd/gm-$tool:$PATH"; done
export PATH
share/gm/recipes/toy-roundtrip.sh "${GM_DEMO_DIR:-demo}"
