#!/usr/bin/env bash
# The GPU benchmarks in one go, for the GPU machine: builds gm against the machine's CUDA LibTorch
# (scripts/gpu-build.sh, with gpu-deps/ carried from scripts/gpu-pack.sh) unless BUILD_DIR
# already holds the tools, then times sampling on the GPU. For the toy MLP and the 28x28 UNet:
# the GAN generator (toy only), the 1-step consistency student and the Heun-18 EDM teacher, at
# batch 1 (latency per sample) and at a large batch (time per sample), gm-sample (CUDA graphs on,
# their default for students) against the same networks run eagerly in Python PyTorch on the same
# device (bench/gpu_eager.py), measured in this run. Prints a Markdown table; about 5 minutes.
#
# Usage: bench/gpu.sh [BUILD_DIR=build-cuda] [OUT_DIR=.]   (the repository root holds gpu-deps/)
# GM_BENCH_DEVICE=cpu runs the same script small on a CPU build, to check it without a GPU.
root=$(cd "$(dirname "$0")/.." && pwd)
build=$(realpath -m "${1:-$root/build-cuda}")
out=$(realpath -m "${2:-.}")
[[ -x $build/cmd/gm-sample/gm-sample ]] || bash "$root/scripts/gpu-build.sh" "$build" || exit 1
source "$root/bench/lib.bash"
python=${GM_PYTHON:-$(command -v python3)}  # the one with the CUDA torch
for tool in train distill sample eval convert; do PATH=$build/cmd/gm-$tool:$PATH; done
device=${GM_BENCH_DEVICE:-cuda}
toy_batch=65536 unet_batch=512 b1_rows=500
[[ $device == cpu ]] && toy_batch=1024 unet_batch=8 b1_rows=20
cuda=(--device "$device" -q)

# Few training steps: speed does not depend on how trained a network is.
gm-sample toy:grid25 -n 20000 --seed 1 -q -o grid.h5
gm-train gan --data grid.h5 --steps 20 --seed 1 "${cuda[@]}" -o gan.h5
gm-train diffusion --data grid.h5 --steps 20 --seed 1 "${cuda[@]}" -o edm.h5
gm-distill consistency edm.h5 --data grid.h5 --steps 5 --seed 1 "${cuda[@]}" -o cm.h5
"$python" -c "
import numpy as np
rng = np.random.default_rng(0)
np.save('x.npy', rng.integers(0, 256, (512, 1, 28, 28)).astype(np.uint8)); np.save('y.npy', rng.integers(0, 10, 512))"
gm-convert x.npy --labels y.npy -q images.h5
gm-train diffusion --data images.h5 --steps 5 --batch 64 --seed 1 "${cuda[@]}" -o unet.h5
gm-distill consistency unet.h5 --data images.h5 --steps 2 --batch 16 --seed 1 "${cuda[@]}" -o ucm.h5

# sample NAME MODEL BATCH_ROWS ARGS...: runs at batch 1 and at BATCH_ROWS, each twice with 1x and
# 3x the chunks, so that the difference of gm-sample's clocks leaves out the first chunk's set-up.
sample() {
  local name=$1 model=$2 rows=$3; shift 3
  for k in 1 3; do
    gm-sample "$model" -n $((b1_rows * k)) --chunk 1 --seed 0 "${cuda[@]}" "$@" -o "$name-b1-$k.h5"
    gm-sample "$model" -n $((rows * 2 * k)) --chunk "$rows" --seed 0 "${cuda[@]}" "$@" -o "$name-large-$k.h5"
  done
}
sample toy-gan gan.h5 $toy_batch
sample toy-cm1 cm.h5 $toy_batch --steps 1
sample toy-heun edm.h5 $toy_batch --sampler heun --steps 18
sample unet-cm1 ucm.h5 $unet_batch --steps 1
sample unet-heun unet.h5 $unet_batch --sampler heun --steps 18
"$python" "$root/bench/gpu_eager.py" --device "$device" --toy-batch $toy_batch --unet-batch $unet_batch \
  --repeats $((b1_rows / 2)) >eager.json
"$python" - "$out/gpu.md" "$b1_rows" <<'PY'
import json, subprocess, sys
eager = json.load(open("eager.json"))
b1_rows = int(sys.argv[2])
rows = [("toy GAN", "toy-gan"), ("toy consistency, 1 step", "toy-cm1"), ("toy EDM teacher, Heun 18", "toy-heun"),
        ("UNet consistency, 1 step", "unet-cm1"), ("UNet EDM teacher, Heun 18", "unet-heun")]
def attrs(name):
    out = subprocess.run(["gm-convert", name + ".h5", "--describe", "--json"], capture_output=True, text=True, check=True)
    return json.loads(out.stdout)["attributes"]
try:
    device = subprocess.run(["nvidia-smi", "--query-gpu=name", "--format=csv,noheader"], capture_output=True, text=True).stdout.strip()
except FileNotFoundError:
    device = "none (no nvidia-smi)"
lines = [f"GPU: {device or 'unknown'}", "",
         "| sampler | NFE | gm batch 1 (ms) | eager batch 1 (ms) | gm / eager speed, batch 1 | batch | gm (us/sample) | eager (us/sample) | gm / eager speed |",
         "|---|---|---|---|---|---|---|---|---|"]
def ms_per_sample(name, rows):
    """Milliseconds per sample of the runs with 3x and 1x the chunks: the extra chunks' time per extra row."""
    return 1000 * (attrs(name + "-3")["seconds"] - attrs(name + "-1")["seconds"]) / (2 * rows)
for label, name in rows:
    e = eager[label]
    b1, large = ms_per_sample(name + "-b1", b1_rows), ms_per_sample(name + "-large", 2 * e["large_batch"])
    nfe = attrs(name + "-b1-1")["nfe"]
    lines.append(f"| {label} | {nfe} | {b1:.3f} | {e['batch1_ms']:.3f} | {e['batch1_ms'] / b1:.2f} "
                 f"| {e['large_batch']} | {1000 * large:.3f} | {1000 * e['large_ms_per_sample']:.3f} "
                 f"| {e['large_ms_per_sample'] / large:.2f} |")
open(sys.argv[1], "w").write("\n".join(lines) + "\n")
print("\n".join(lines))
PY
