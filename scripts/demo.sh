#!/usr/bin/env bash
# README command 1: install what is missing, build the tools, and run the main job on built-in
# data: the toy trilemma (share/gm/recipes/toy-trilemma.sh) on toy:grid25 and toy:grid25-lt100,
# at half the step budgets of issue 3 so that it runs in about 7 minutes on 2 cores.
# GM_TRILEMMA_SCALE=1 runs the full budgets (about 13 minutes); GM_DEMO_DIR sets where it writes.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh demo
scripts/build.sh
for tool in train distill sample eval convert; do PATH="$PWD/build/cmd/gm-$tool:$PATH"; done
export PATH
GM_TRILEMMA_SCALE=${GM_TRILEMMA_SCALE:-0.5} share/gm/recipes/toy-trilemma.sh "${GM_DEMO_DIR:-demo}"
