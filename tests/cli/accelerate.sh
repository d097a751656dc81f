#!/usr/bin/env bash
# gm-sample's accelerator options on a CPU build: bf16 autocast runs and stays near fp32; CUDA
# graphs and fp16, which need a CUDA device, are clear usage errors here (tests/gpu covers them).
source "$(dirname "$0")/lib.bash"

gm-sample toy:grid25 -n 2000 --seed 1 -o grid.h5 || fail "setup"
gm-train diffusion --data grid.h5 --steps 30 --batch 64 --hidden 32 --depth 1 -q -o edm.h5 || fail "setup edm"
expect_exit 0 gm-sample edm.h5 -n 500 --steps 4 -o f32.h5
expect_exit 0 gm-sample edm.h5 -n 500 --steps 4 --precision bf16 -o bf16.h5
if "$python" - <<'PY'; then pass "bf16 autocast changes the products, and the samples stay within 2% of fp32"; else fail "bf16"; fi
import h5py, numpy as np
a, b = h5py.File("f32.h5"), h5py.File("bf16.h5")
x, y = a["x"][:], b["x"][:]
assert not np.array_equal(x, y)
assert np.abs(x - y).max() <= 0.02 * np.abs(x).max(), (np.abs(x - y).max(), np.abs(x).max())
assert b.attrs["precision"] == "bf16" and a.attrs["precision"] == "fp32" and b.attrs["cuda_graph"] == 0
assert np.array_equal(a["z"][:], b["z"][:])
PY
expect_exit 2 gm-sample edm.h5 -n 5 --cuda-graph on -o bad.h5
expect_one_line_naming "--cuda-graph on"
expect_exit 2 gm-sample edm.h5 -n 5 --cuda-graph sometimes -o bad.h5
expect_one_line_naming "--cuda-graph sometimes"
expect_exit 2 gm-sample edm.h5 -n 5 --precision fp16 -o bad.h5
expect_one_line_naming "--precision fp16"
expect_exit 2 gm-sample edm.h5 -n 5 --precision fp8 -o bad.h5
expect_one_line_naming "--precision fp8"
[[ ! -e bad.h5 ]] && pass "no output from a refused command" || fail "bad.h5 left behind"
finish
