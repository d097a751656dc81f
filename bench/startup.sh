#!/usr/bin/env bash
# Whole-process wall time of each tool, start-up included: --version, and a small real job per
# tool, against a Python process that only imports torch and h5py (what a Python script pays
# before its first line of work), all measured in this run. Best of REPEATS runs each.
#
# Usage: bench/startup.sh [REPEATS=5]   (gm tools on PATH)
repeats=${1:-5}
source "$(dirname "$0")/lib.bash"
gm-sample toy:grid25 -n 2000 --seed 1 -q -o grid.h5
gm-train diffusion --data grid.h5 --steps 20 --seed 1 -q -o edm.h5
best_ms() {  # best_ms COMMAND...: the best wall time of REPEATS runs, in ms
  local best=""
  for _ in $(seq "$repeats"); do
    local ms
    ms=$(awk "BEGIN { printf \"%.1f\", $(seconds "$@" 2>/dev/null) * 1000 }")
    if [[ -z $best ]] || awk "BEGIN { exit !($ms < $best) }"; then best=$ms; fi
  done
  echo "$best"
}
reference=$(best_ms "$python" -c "import torch, h5py")
printf '| command | ms | vs python3 -c "import torch, h5py" (%s ms) |\n|---|---|---|\n' "$reference"
row() {
  local ms
  ms=$(best_ms "$@")
  printf '| `%s` | %s | %s |\n' "$*" "$ms" "$(awk "BEGIN { printf \"%.2fx\", $ms / $reference }")"
}
for tool in gm-train gm-distill gm-sample gm-eval gm-convert; do row "$tool" --version; done
row gm-sample toy:grid25 -n 1000 -o s.h5
row gm-sample edm.h5 -n 1000 --steps 4 -o e.h5
row gm-train diffusion --data grid.h5 --steps 1 -o one.h5
row gm-distill consistency edm.h5 --data grid.h5 --steps 1 -o cm.h5
row gm-eval grid.h5 --ref toy:grid25 --json
row gm-convert grid.h5 --describe
row gm-convert grid.h5 grid.npy
