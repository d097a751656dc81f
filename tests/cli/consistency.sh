# gm-distill consistency on a small EDM teacher, then 1- and 2-step sampling.
source "$(dirname "$0")/lib.bash"

gm-sample toy:grid25 -n 3000 --seed 1 -o grid.h5 || fail "setup"
gm-train diffusion --data grid.h5 --steps 50 --batch 64 --hidden 32 --depth 1 -o edm.h5 -q || fail "setup teacher"
expect_exit 0 gm-distill consistency edm.h5 --data grid.h5 --steps 60 --batch 64 --grid 10 --seed 4 -o cm.h5
expect_exit 0 gm-sample cm.h5 -n 200 --steps 1 --seed 0 -o s1.h5
expect_exit 0 gm-sample cm.h5 -n 200 --steps 2 --seed 0 -o s2.h5
expect_exit 0 gm-sample cm.h5 -n 200 --steps 2 --seed 0 --shard 1/2 -o s2b.h5
"$python" - <<'PY' && pass "student file and samples follow the format" || fail "consistency files are wrong"
import h5py, json, numpy as np
m = h5py.File("cm.h5")
assert m.attrs["family"] == "consistency"
c = json.loads(m.attrs["config"])
d = c["distillation"]
assert d["method"] == "consistency" and d["teacher"]["path"] == "edm.h5" and d["grid"] == 10, d
assert abs(d["huber_c"] - 0.00054 * np.sqrt(2)) < 1e-12
teacher = h5py.File("edm.h5")
assert set(m["params"]) == set(teacher["params"])
inputs = [i["path"] for i in json.loads(m.attrs["provenance"])["inputs"]]
assert inputs == ["edm.h5", "grid.h5"], inputs
s1, s2 = h5py.File("s1.h5"), h5py.File("s2.h5")
assert s1.attrs["nfe"] == 1 and s2.attrs["nfe"] == 2 and s2.attrs["sampler"] == "multistep"
assert s1["x"].shape == (200, 2) and np.isfinite(s1["x"][:]).all()
assert np.allclose(h5py.File("s2b.h5")["x"][:], s2["x"][100:], atol=1e-5), "2-step shards differ"
PY
expect_exit 1 gm-distill consistency grid.h5 --data grid.h5 --steps 5 -o bad.h5
expect_one_line_naming grid.h5
expect_exit 2 gm-distill consistency edm.h5 --data grid.h5 --steps 5 --grid 1 -o bad.h5
expect_exit 2 gm-sample cm.h5 -n 10 --steps -1 -o bad.h5
[[ ! -e bad.h5 ]] && pass "no output after errors" || fail "bad.h5 left behind"
finish
