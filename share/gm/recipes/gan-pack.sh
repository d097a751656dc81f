#!/usr/bin/env bash
# Does PacGAN packing help the GAN cover modes? Trains the default GAN with --pack 1, 2 and 4 over
# several seeds on each toy source and prints the mode metrics of 2,500 samples from each. Runs two
# trainings at a time, one core each. Needs the gm tools on PATH.
#
# Usage: gan-pack.sh [OUT_DIR [STEPS [SEEDS]]]    (default: gan-pack 20000 "1 2 3")
set -euo pipefail
out=${1:-gan-pack}
steps=${2:-20000}
seeds=${3:-1 2 3}
mkdir -p "$out"
jobs=()
for source in toy:grid25 toy:grid25-lt100; do
  data="$out/${source#toy:}.h5"
  gm-sample "$source" -n 100000 --seed 1 -o "$data"
  for pack in 1 2 4; do
    for seed in $seeds; do jobs+=("$source $pack $seed"); done
  done
done
run() {
  set -- $1
  local source=$1 pack=$2 seed=$3 name="$out/${1#toy:}_p$2_s$3"
  gm-train gan --data "$out/${source#toy:}.h5" --steps "$steps" --pack "$pack" --seed "$seed" --threads 1 \
    -o "$name.h5" 2>/dev/null
  gm-sample "$name.h5" -n 2500 --seed 0 --threads 1 -o "$name.samples.h5"
}
running=0
for job in "${jobs[@]}"; do
  run "$job" &
  if ((++running == 2)); then wait -n; running=$((running - 1)); fi
done
wait
printf '%-18s %4s %4s %6s %7s %8s %5s\n' source pack seed modes hq rkl tail
for job in "${jobs[@]}"; do
  set -- $job
  gm-eval "$out/${1#toy:}_p$2_s$3.samples.h5" --ref "$1" --json |
    python3 -c 'import json, sys
m = json.load(sys.stdin)
print("%-18s %4s %4s %3d/25 %7.3f %8.4f %3d/%d" % (*sys.argv[1:4], m["modes"], m["hq"], m["rkl"], m["tail_modes"], m["tail_total"]))' $job
done
