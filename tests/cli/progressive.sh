# gm-distill progressive: rounds that halve the steps, and a student that samples on its grid.
source "$(dirname "$0")/lib.bash"

gm-sample toy:grid25 -n 3000 --seed 1 -o grid.h5 || fail "setup"
gm-train diffusion --data grid.h5 --steps 50 --batch 64 --hidden 32 --depth 1 -o edm.h5 -q || fail "setup teacher"
expect_exit 0 gm-distill progressive edm.h5 --data grid.h5 --from-steps 8 --to-steps 2 --steps 60 --batch 64 -o pd2.h5
expect_exit 0 gm-sample pd2.h5 -n 100 --seed 0 -o s.h5
"$python" - <<'PY' && pass "student records its grid and rounds; samples take 2 steps" || fail "progressive files are wrong"
import h5py, json, numpy as np
m = h5py.File("pd2.h5")
c = json.loads(m.attrs["config"])
assert m.attrs["family"] == "diffusion" and len(c["grid"]) == 3 and c["grid"][0] == 80.0 and c["grid"][-1] == 0.0, c
d = c["distillation"]
assert d["method"] == "progressive" and [r["steps"] for r in d["rounds"]] == [4, 2], d["rounds"]
assert sum(r["optimiser_steps"] for r in d["rounds"]) == 60
s = h5py.File("s.h5")
assert s.attrs["nfe"] == 2 and s.attrs["steps"] == 2 and s.attrs["sampler"] == "euler"
PY
expect_exit 2 gm-sample pd2.h5 -n 10 --steps 4 -o bad.h5
expect_one_line_naming "distilled for 2 steps"
expect_exit 2 gm-sample pd2.h5 -n 10 --sampler heun -o bad.h5
expect_exit 2 gm-distill progressive edm.h5 --data grid.h5 --from-steps 12 --to-steps 1 --steps 10 -o bad.h5
expect_exit 1 gm-distill progressive pd2.h5 --data grid.h5 --from-steps 4 --to-steps 2 --steps 10 -o bad.h5
expect_one_line_naming pd2.h5
[[ ! -e bad.h5 ]] && pass "no output after errors" || fail "bad.h5 left behind"
finish
