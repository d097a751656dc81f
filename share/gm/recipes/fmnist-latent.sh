#!/usr/bin/env bash
# The Fashion-MNIST latent pipeline, one tool call per step: a VAE (its bound in bits per
# dimension on the test set), the training images encoded to 4x7x7 latents, a class-conditional
# latent diffusion teacher on them, an LCM student distilled from it, then samples from each
# decoded to images and scored side by side with the shipped classifier (FID, recall, classes
# covered, NFE, ms per sample). A VQ-VAE's bound and codebook use go alongside. Sized for about
# 20 minutes on 2 cores; needs the gm tools on PATH and Debian's dataset-fashion-mnist.
#
# Usage: fmnist-latent.sh [OUT_DIR]    (default: fmnist-latent)
#
# GM_FMNIST_SCALE (default 1) multiplies every step budget and sample count, for quick looks.
# GM_GUIDANCE (default 2) is the guidance scale w the guided rows sample with.
set -euo pipefail
out=${1:-fmnist-latent}
idx=/usr/share/datasets/fashion-mnist
scale=${GM_FMNIST_SCALE:-1}
w=${GM_GUIDANCE:-2}
scaled() { python3 -c "import sys; print(max(1, round(int(sys.argv[1]) * float(sys.argv[2]))))" "$1" "$scale"; }
vae_steps=$(scaled 1000) vq_steps=$(scaled 500) ldm_steps=$(scaled 3000) lcm_steps=$(scaled 1000) n=$(scaled 2000)
names='T-shirt/top,Trouser,Pullover,Dress,Coat,Sandal,Shirt,Sneaker,Bag,Ankle boot'
[[ -f $idx/train-images-idx3-ubyte.gz ]] || { echo "fmnist-latent: install dataset-fashion-mnist" >&2; exit 1; }

start=$SECONDS
mkdir -p "$out"
cd "$out"
for part in train t10k; do
  gm-convert "$idx/$part-images-idx3-ubyte.gz" --labels "$idx/$part-labels-idx1-ubyte.gz" --class-names "$names" "$part.h5"
done

# The autoencoders, and their bounds on the 10,000 test images.
gm-train vae -v --data train.h5 --steps "$vae_steps" --batch 64 --seed 1 -o vae.h5
gm-eval --nll vae.h5 --data t10k.h5 --iw 16 --json >nll-vae.json
gm-train vqvae -v --data train.h5 --steps "$vq_steps" --batch 64 --seed 1 -o vqvae.h5
gm-eval --nll vqvae.h5 --data t10k.h5 --json >nll-vqvae.json

# Latents through files: encode, train diffusion on them, distill.
gm-sample vae.h5 --encode train.h5 --seed 1 -o lat.h5
gm-train diffusion -v --data lat.h5 --steps "$ldm_steps" --batch 64 --seed 1 -o ldm.h5
gm-distill lcm -v ldm.h5 --data lat.h5 --steps "$lcm_steps" --batch 64 --seed 1 -o lcm.h5
echo "trained in $((SECONDS - start)) s"

# Samples, decoded to images; one at a time, so that ms per sample is not shared.
gm-sample vae.h5 -n "$n" --seed 0 -o s_vae.h5
gm-sample ldm.h5 -n "$n" --sampler heun --steps 18 --seed 0 --decode -o s_ldm.h5
gm-sample ldm.h5 -n "$n" --sampler heun --steps 18 --guidance "$w" --seed 0 --decode -o s_ldm_w.h5
for k in 1 2 4; do gm-sample lcm.h5 -n "$n" --steps $k --guidance "$w" --seed 0 --decode -o "s_lcm${k}_w.h5"; done
gm-sample lcm.h5 -n "$n" --steps 2 --seed 0 --decode -o s_lcm2.h5

echo
echo "== $out: bits per dimension on t10k.h5"
python3 - <<'PY'
import json
for name in ("vae", "vqvae"):
    m = json.load(open(f"nll-{name}.json"))
    extra = f", IW-16 {m['iw_bits_per_dim']:.4f}" if "iw_bits_per_dim" in m else f", code usage {m['code_usage']:.3f}, perplexity {m['perplexity']:.1f}"
    print(f"{name}: negative ELBO {m['elbo_bits_per_dim']:.4f} bits/dim{extra}")
PY
echo
echo "== $out: latent.png and s_*.png"
gm-eval --compare s_vae.h5 s_ldm.h5 s_ldm_w.h5 s_lcm1_w.h5 s_lcm2_w.h5 s_lcm4_w.h5 s_lcm2.h5 --ref t10k.h5 \
  --plot latent.png | tee latent.txt
for samples in s_*.h5; do gm-convert "$samples" "${samples%.h5}.png" --grid 8x8; done
echo
echo "done in $((SECONDS - start)) s"
