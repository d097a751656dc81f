#!/usr/bin/env bash
# The CUDA path (ctest -L gpu, on a machine with a GPU and a CUDA LibTorch): every tool with
# --device cuda, CUDA-graph sampling against eager sampling and the CPU, autocast, and the image
# and latent models on the GPU. Reads results through gm-convert's .npy, so it needs numpy but
# not h5py.
source "$(dirname "$0")/../cli/lib.bash"
cuda=(--device cuda)

# close A.h5 B.h5 RTOL: /x of both files agree to RTOL (relative to their largest value).
close() {
  gm-convert "$1" "${1%.h5}.npy" -q && gm-convert "$2" "${2%.h5}.npy" -q || return 1
  "$python" - "${1%.h5}.npy" "${2%.h5}.npy" "$3" <<'PY'
import sys, numpy as np
a, b = np.load(sys.argv[1]), np.load(sys.argv[2])
scale = max(1e-6, float(np.abs(a).max()))
assert a.shape == b.shape and np.abs(a - b).max() <= float(sys.argv[3]) * scale, (a.shape, b.shape, np.abs(a - b).max(), scale)
PY
}

gm-sample toy:grid25 -n 4000 --seed 1 -o grid.h5 || fail "setup"
expect_exit 0 gm-train diffusion --data grid.h5 --steps 50 --batch 128 "${cuda[@]}" -o edm.h5
expect_exit 0 gm-train gan --data grid.h5 --steps 50 --batch 128 "${cuda[@]}" -o gan.h5
expect_exit 0 gm-distill consistency edm.h5 --data grid.h5 --steps 20 --batch 128 "${cuda[@]}" -o cm.h5
expect_exit 0 gm-distill progressive edm.h5 --data grid.h5 --from-steps 4 --to-steps 2 --steps 10 --batch 128 "${cuda[@]}" -o pd.h5
expect_exit 0 gm-sample cm.h5 -n 1000 --steps 2 "${cuda[@]}" --cuda-graph off -o cm_eager.h5
expect_exit 0 gm-sample cm.h5 -n 1000 --steps 2 "${cuda[@]}" --cuda-graph on --chunk 256 -o cm_graph.h5
expect_exit 0 gm-sample cm.h5 -n 1000 --steps 2 --device cpu -o cm_cpu.h5
close cm_eager.h5 cm_graph.h5 1e-5 && pass "a CUDA graph replays the eager sampler" || fail "graph differs from eager"
close cm_cpu.h5 cm_graph.h5 1e-3 && pass "CUDA samples match the CPU's" || fail "CUDA differs from CPU"
expect_exit 0 gm-sample gan.h5 -n 64 --chunk 1 "${cuda[@]}" -o gan_b1.h5
expect_exit 0 gm-sample gan.h5 -n 64 --device cpu -o gan_cpu.h5
close gan_cpu.h5 gan_b1.h5 1e-4 && pass "batch-1 graphs give the rows of one CPU batch" || fail "batch-1 graph"
expect_exit 0 gm-sample edm.h5 -n 500 --steps 8 "${cuda[@]}" -o edm_f32.h5
for precision in bf16 fp16; do
  expect_exit 0 gm-sample edm.h5 -n 500 --steps 8 "${cuda[@]}" --precision $precision -o edm_$precision.h5
  close edm_f32.h5 edm_$precision.h5 0.05 && pass "$precision autocast stays near fp32" || fail "$precision autocast"
done
expect_exit 0 gm-sample pd.h5 -n 200 "${cuda[@]}" -o pd_s.h5
expect_exit 0 gm-eval cm_graph.h5 --ref toy:grid25 "${cuda[@]}" --json

# Images and latents on the GPU.
"$python" - <<'PY'
import numpy as np
rng = np.random.default_rng(0)
y = rng.integers(0, 4, 256)
x = rng.integers(0, 60, (256, 1, 28, 28)).astype(np.uint8)
for i, c in enumerate(y):
    r, col = divmod(int(c), 2)
    x[i, 0, 2 + 14 * r:12 + 14 * r, 2 + 14 * col:12 + 14 * col] = 230
np.save("x.npy", x); np.save("y.npy", y)
PY
expect_exit 0 gm-convert x.npy --labels y.npy d.h5
expect_exit 0 gm-train diffusion --data d.h5 --steps 20 --batch 32 "${cuda[@]}" -o unet.h5
expect_exit 0 gm-distill consistency unet.h5 --data d.h5 --steps 5 --batch 16 "${cuda[@]}" -o ucm.h5
expect_exit 0 gm-sample ucm.h5 -n 32 --chunk 1 --class 2 --guidance 1 "${cuda[@]}" -o ucm_b1.h5
expect_exit 0 gm-sample ucm.h5 -n 32 --class 2 --guidance 1 --device cpu -o ucm_cpu.h5
close ucm_cpu.h5 ucm_b1.h5 1e-3 && pass "UNet student: batch-1 CUDA graph matches the CPU" || fail "UNet graph"
expect_exit 0 gm-train gan --arch dcgan --width 16 --data d.h5 --steps 10 --batch 32 "${cuda[@]}" -o dcgan.h5
expect_exit 0 gm-sample dcgan.h5 -n 32 --chunk 1 "${cuda[@]}" -o dcgan_s.h5
expect_exit 0 gm-train classifier --data d.h5 --steps 20 --batch 32 "${cuda[@]}" -o clf.h5
expect_exit 0 gm-eval ucm_b1.h5 --ref d.h5 --features clf.h5 "${cuda[@]}" --json
expect_exit 0 gm-train vae --data d.h5 --steps 20 --width 8 --batch 32 "${cuda[@]}" -o vae.h5
expect_exit 0 gm-train vqvae --data d.h5 --steps 20 --width 8 --batch 32 --codebook 32 "${cuda[@]}" -o vq.h5
expect_exit 0 gm-eval --nll vae.h5 --data d.h5 --iw 4 "${cuda[@]}" --json
expect_exit 0 gm-sample vae.h5 --encode d.h5 "${cuda[@]}" -o lat.h5
expect_exit 0 gm-train diffusion --data lat.h5 --steps 20 --width 16 --batch 32 "${cuda[@]}" -o ldm.h5
expect_exit 0 gm-distill lcm ldm.h5 --data lat.h5 --steps 5 --batch 16 "${cuda[@]}" -o lcm.h5
expect_exit 0 gm-sample lcm.h5 -n 16 --steps 2 --class 1 --guidance 3 --decode "${cuda[@]}" -o lcm_s.h5
expect_exit 0 gm-sample lcm.h5 -n 16 --steps 2 --class 1 --guidance 3 --decode --device cpu -o lcm_cpu.h5
close lcm_cpu.h5 lcm_s.h5 1e-3 && pass "LCM student through its decoder: CUDA matches the CPU" || fail "LCM on CUDA"
expect_exit 0 gm-convert cm.h5 cm.safetensors
finish
