#!/usr/bin/env bash
# The toy trilemma: on each toy source, a GAN, an EDM diffusion model, a consistency student and
# two progressive students, trained with the step budgets of issue 3, then sampled and scored side
# by side. Needs the gm tools on PATH.
#
# Usage: toy-trilemma.sh [OUT_DIR [SOURCE...]]    (default: trilemma toy:grid25 toy:grid25-lt100)
#
# The sources train in parallel, one core each (a small MLP gains little from a second thread);
# sampling and scoring then run one at a time so that the measured ms per sample is not shared.
# GM_TRILEMMA_SCALE (default 1) multiplies every step budget, for quick looks.
set -euo pipefail
out=${1:-trilemma}
shift || true
sources=("$@")
((${#sources[@]})) || sources=(toy:grid25 toy:grid25-lt100)
scale=${GM_TRILEMMA_SCALE:-1}
steps() { python3 -c "import sys; print(max(1, round(int(sys.argv[1]) * float(sys.argv[2]))))" "$1" "$scale"; }
gan_steps=$(steps 20000) edm_steps=$(steps 40000) cm_steps=$(steps 40000) pd_steps=$(steps 40000)

# Trains every model of one source in DIR; its log goes to DIR/train.log.
train_source() {
  local source=$1 dir=$2
  gm-sample "$source" -n 100000 --seed 1 -o "$dir/data.h5"
  gm-train gan --data "$dir/data.h5" --steps "$gan_steps" --seed 1 --threads 1 -o "$dir/gan.h5"
  gm-train diffusion --data "$dir/data.h5" --steps "$edm_steps" --seed 1 --threads 1 -o "$dir/edm.h5"
  gm-distill consistency "$dir/edm.h5" --data "$dir/data.h5" --steps "$cm_steps" --seed 1 --threads 1 -o "$dir/cm.h5"
  for k in 2 1; do
    gm-distill progressive "$dir/edm.h5" --data "$dir/data.h5" --to-steps $k --steps "$pd_steps" --seed 1 \
      --threads 1 -o "$dir/pd$k.h5"
  done
}

start=$SECONDS
pids=()
for source in "${sources[@]}"; do
  dir="$out/${source#toy:}"
  mkdir -p "$dir"
  echo "training on $source in $dir (log: $dir/train.log)"
  train_source "$source" "$dir" >"$dir/train.log" 2>&1 &
  pids+=($!)
done
failed=0
for i in "${!pids[@]}"; do
  if ! wait "${pids[$i]}"; then
    echo "toy-trilemma: training on ${sources[$i]} failed; its log:" >&2
    tail -n 5 "$out/${sources[$i]#toy:}/train.log" >&2
    failed=1
  fi
done
((failed == 0)) || exit 1
echo "trained in $((SECONDS - start)) s"

for source in "${sources[@]}"; do
  dir="$out/${source#toy:}"
  gm-sample "$dir/gan.h5" -n 2500 --seed 0 -o "$dir/s_gan.h5"
  gm-sample "$dir/edm.h5" -n 2500 --sampler heun --steps 18 --seed 0 -o "$dir/s_edm.h5"
  gm-sample "$dir/cm.h5" -n 2500 --steps 1 --seed 0 -o "$dir/s_cm1.h5"
  gm-sample "$dir/cm.h5" -n 2500 --steps 2 --seed 0 -o "$dir/s_cm2.h5"
  gm-sample "$dir/pd2.h5" -n 2500 --steps 2 --seed 0 -o "$dir/s_pd2.h5"
  gm-sample "$dir/pd1.h5" -n 2500 --steps 1 --seed 0 -o "$dir/s_pd1.h5"
  echo
  echo "== $source: $out/${source#toy:}/trilemma.png and s_*.png"
  (cd "$dir" && gm-eval --compare s_gan.h5 s_edm.h5 s_cm1.h5 s_cm2.h5 s_pd2.h5 s_pd1.h5 --ref "$source" \
    --plot trilemma.png)
  for samples in "$dir"/s_*.h5; do gm-convert "$samples" "${samples%.h5}.png"; done
done
echo
echo "done in $((SECONDS - start)) s"
