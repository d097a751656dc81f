#!/usr/bin/env bash
# Sampling throughput on the toy workload, measured in one run: the GAN's generator (the default,
# and one 5 layers deep, about the student's size), the consistency student at 1 and 2 steps, and
# its EDM teacher with Heun at 18 steps (35 evaluations). Each is a toy network (MLPs of width
# 128); gm-sample's own clock times the network work per sample
# (its ms_per_sample attribute: generating and converting rows, not writing them). Prints each
# model's parameters in the network that runs at sampling, and speed as ratios to the GAN and to
# the teacher. Training is a few steps only: speed does not depend on how trained a network is.
#
# Usage: bench/sampling.sh [ROWS=200000] [THREADS=0: every core]   (gm tools on PATH)
rows=${1:-200000}
threads=${2:-0}
source "$(dirname "$0")/lib.bash"
gm-sample toy:grid25 -n 10000 --seed 1 -q -o data.h5
gm-train gan --data data.h5 --steps 20 --seed 1 -q -o gan.h5
# A deeper generator with about the student's parameter count, for the like-for-like comparison.
gm-train gan --data data.h5 --steps 20 --seed 1 --depth 5 -q -o gan5.h5
gm-train diffusion --data data.h5 --steps 20 --seed 1 -q -o edm.h5
gm-distill consistency edm.h5 --data data.h5 --steps 20 --seed 1 -q -o cm.h5
run() { gm-sample "$@" -n "$rows" --seed 0 --threads "$threads" -q; }
run gan.h5 -o s_gan.h5
run gan5.h5 -o s_gan5.h5
run cm.h5 --steps 1 -o s_cm1.h5
run cm.h5 --steps 2 -o s_cm2.h5
run edm.h5 --sampler heun --steps 18 -o s_edm.h5
"$python" - "$rows" <<'PY'
import h5py, sys
def params(model, prefix=""):
    group = h5py.File(model + ".h5")["params"]
    return sum(group[name].size for name in group if name.startswith(prefix))
rows = [("GAN generator", "s_gan", params("gan", "generator.")),
        ("GAN generator, depth 5", "s_gan5", params("gan5", "generator.")), ("consistency, 1 step", "s_cm1", params("cm")),
        ("consistency, 2 steps", "s_cm2", params("cm")), ("EDM teacher, Heun 18", "s_edm", params("edm"))]
ms = {name: h5py.File(f + ".h5").attrs["ms_per_sample"] for _, f, _ in rows for name in [f]}
nfe = {f: int(h5py.File(f + ".h5").attrs["nfe"]) for _, f, _ in rows}
print(f"{sys.argv[1]} rows each\n")
print("| sampler | parameters | NFE | us/sample | speed / GAN | speed / teacher |")
print("|---|---|---|---|---|---|")
for label, f, p in rows:
    print(f"| {label} | {p:,} | {nfe[f]} | {1000 * ms[f]:.3f} | {ms['s_gan'] / ms[f]:.2f} | {ms['s_edm'] / ms[f]:.1f} |")
PY
