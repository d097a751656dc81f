#!/usr/bin/env bash
# Data-parallel training throughput on this machine, measured in one run: the same training job
# (same global batch) as one process on every core, one process on one core, and N processes of
# one core each, launched the torchrun way on one node (Gloo over loopback). Two workloads: the
# toy MLP diffusion model, and the Fashion-MNIST UNet (on the 10,000 test images). Prints steps per second
# (whole-process wall time, start-up included) and each as a ratio to one process on every core.
#
# Usage: bench/parallel.sh [RANKS=2] [TOY_STEPS=2000] [UNET_STEPS=30]   (gm tools on PATH)
ranks=${1:-2}
toy_steps=${2:-2000}
unet_steps=${3:-30}
cores=$(nproc)
idx=${GM_FMNIST_DIR:-/usr/share/datasets/fashion-mnist}
source "$(dirname "$0")/lib.bash"
gm-sample toy:grid25 -n 20000 --seed 1 -q -o grid.h5
gm-convert "$idx/t10k-images-idx3-ubyte.gz" --labels "$idx/t10k-labels-idx1-ubyte.gz" -q -o fmnist.h5

port=$((20000 + RANDOM % 20000))
launch() {  # launch N ARGS...: N local ranks of one job
  local n=$1 pids=()
  shift
  port=$((port + 1))
  for ((rank = 0; rank < n; ++rank)); do
    RANK=$rank WORLD_SIZE=$n MASTER_ADDR=127.0.0.1 MASTER_PORT=$port "$@" --threads 1 & pids+=($!)
  done
  for pid in "${pids[@]}"; do wait "$pid"; done
}

printf '%s, %s cores; steps/s from whole-process wall time\n\n' "$(uname -n)" "$cores"
printf '| workload | setup | steps/s | vs 1 process, %s threads |\n|---|---|---|---|\n' "$cores"
for workload in toy unet; do
  if [[ $workload == toy ]]; then
    job=(gm-train diffusion --data grid.h5 --steps "$toy_steps" --batch 256 --seed 1 -q)
    steps=$toy_steps
    name="toy MLP diffusion, batch 256"
  else
    job=(gm-train diffusion --data fmnist.h5 --steps "$unet_steps" --batch 64 --seed 1 -q)
    steps=$unet_steps
    name="Fashion-MNIST UNet, batch 64"
  fi
  all=$(seconds "${job[@]}" --threads "$cores" -o all.h5)
  one=$(seconds "${job[@]}" --threads 1 -o one.h5)
  many=$(seconds launch "$ranks" "${job[@]}" -o many.h5)
  for row in "1 process, $cores threads:$all" "1 process, 1 thread:$one" "$ranks processes, 1 thread each:$many"; do
    awk -v name="$name" -v setup="${row%%:*}" -v t="${row##*:}" -v steps="$steps" -v all="$all" \
      'BEGIN { printf "| %s | %s | %.1f | %.2fx |\n", name, setup, steps / t, all / t }'
  done
done
