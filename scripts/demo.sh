#!/usr/bin/env bash
# README command 1: install what is missing, build the tools, and run the main job on built-in
# data: the toy trilemma (share/gm/recipes/toy-trilemma.sh) on toy:grid25 and toy:grid25-lt100
# with the step budgets of issue 3, about 12 minutes on 2 cores after the build.
# GM_TRILEMMA_SCALE=0.5 halves every budget (about 6.5 minutes); GM_DEMO_DIR sets where it writes.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh demo
scripts/build.sh
for tool in train distill sample eval convert; do PATH="$PWD/build/cmd/gm-$tool:$PATH"; done
export PATH
share/gm/recipes/toy-trilemma.sh "${GM_DEMO_DIR:-demo}"
