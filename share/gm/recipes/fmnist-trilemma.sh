#!/usr/bin/env bash
# The Fashion-MNIST trilemma: on Fashion-MNIST and its long-tailed version (imbalance 100), a
# class-conditional DCGAN, a UNet diffusion teacher, a consistency student sampled with 1, 2 and
# 4 steps and a 2-step progressive student, then sampled and scored side by side with the shipped
# classifier (FID, KID, precision/recall, classes covered, class KL, recall of the 3 rarest
# classes). Sized for about an hour on 2 cores; needs the gm tools on PATH and Debian's
# dataset-fashion-mnist.
#
# Usage: fmnist-trilemma.sh [OUT_DIR]    (default: fmnist-trilemma)
#
# The two datasets train in parallel, one core each; sampling and scoring then run one at a time
# so that the measured ms per sample is not shared. GM_FMNIST_SCALE (default 1) multiplies every
# step budget and sample count, for quick looks.
set -euo pipefail
out=${1:-fmnist-trilemma}
idx=/usr/share/datasets/fashion-mnist
scale=${GM_FMNIST_SCALE:-1}
scaled() { python3 -c "import sys; print(max(1, round(int(sys.argv[1]) * float(sys.argv[2]))))" "$1" "$scale"; }
gan_steps=$(scaled 600) unet_steps=$(scaled 1200) cm_steps=$(scaled 300) pd_steps=$(scaled 200) n=$(scaled 2000)
names='T-shirt/top,Trouser,Pullover,Dress,Coat,Sandal,Shirt,Sneaker,Bag,Ankle boot'
[[ -f $idx/train-images-idx3-ubyte.gz ]] || { echo "fmnist-trilemma: install dataset-fashion-mnist" >&2; exit 1; }

start=$SECONDS
mkdir -p "$out/fmnist" "$out/fmnist-lt"
for part in train t10k; do
  gm-convert "$idx/$part-images-idx3-ubyte.gz" --labels "$idx/$part-labels-idx1-ubyte.gz" --class-names "$names" \
    "$out/$part.h5"
done
cp "$out/train.h5" "$out/fmnist/data.h5"
cp "$out/t10k.h5" "$out/fmnist/ref.h5"
# The long tail: class c keeps floor(6000 * 100^(-c/9)) training images; its reference is the
# test set with the same profile.
gm-convert "$out/train.h5" "$out/fmnist-lt/data.h5" --imbalance 100 --seed 1
gm-convert "$out/t10k.h5" "$out/fmnist-lt/ref.h5" --imbalance 100 --seed 1

# Trains every model of one dataset in DIR; its log, with progress lines (-v), goes to DIR/train.log.
train_dataset() {
  local dir=$1
  gm-train gan -v --data "$dir/data.h5" --steps "$gan_steps" --batch 64 --seed 1 --threads 1 -o "$dir/gan.h5"
  gm-train diffusion -v --data "$dir/data.h5" --steps "$unet_steps" --batch 64 --seed 1 --threads 1 -o "$dir/edm.h5"
  gm-distill consistency -v "$dir/edm.h5" --data "$dir/data.h5" --steps "$cm_steps" --batch 64 --seed 1 --threads 1 \
    -o "$dir/cm.h5"
  gm-distill progressive -v "$dir/edm.h5" --data "$dir/data.h5" --from-steps 8 --to-steps 2 --steps "$pd_steps" \
    --batch 64 --seed 1 --threads 1 -o "$dir/pd2.h5"
}

pids=()
for set in fmnist fmnist-lt; do
  echo "training on $set in $out/$set (log: $out/$set/train.log)"
  train_dataset "$out/$set" >"$out/$set/train.log" 2>&1 &
  pids+=($!)
done
failed=0
for pid in "${pids[@]}"; do wait "$pid" || failed=1; done
if ((failed)); then
  for set in fmnist fmnist-lt; do tail -n 3 "$out/$set/train.log" >&2; done
  exit 1
fi
echo "trained in $((SECONDS - start)) s"

for set in fmnist fmnist-lt; do
  dir="$out/$set"
  gm-sample "$dir/gan.h5" -n "$n" --seed 0 -o "$dir/s_gan.h5"
  gm-sample "$dir/edm.h5" -n "$n" --sampler heun --steps 18 --seed 0 -o "$dir/s_edm.h5"
  for k in 1 2 4; do gm-sample "$dir/cm.h5" -n "$n" --steps $k --seed 0 -o "$dir/s_cm$k.h5"; done
  gm-sample "$dir/pd2.h5" -n "$n" --seed 0 -o "$dir/s_pd2.h5"
  echo
  echo "== $set: $dir/trilemma.png and s_*.png"
  (cd "$dir" && gm-eval --compare s_gan.h5 s_edm.h5 s_cm1.h5 s_cm2.h5 s_cm4.h5 s_pd2.h5 --ref ref.h5 \
    --plot trilemma.png | tee trilemma.txt)
  for samples in "$dir"/s_*.h5; do gm-convert "$samples" "${samples%.h5}.png" --grid 8x8; done
done
echo
echo "done in $((SECONDS - start)) s"
