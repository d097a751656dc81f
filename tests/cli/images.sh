#!/usr/bin/env bash
# Image models end to end on a small labelled set: UNet diffusion with classifier-free guidance,
# DCGAN, the classifier, distilled students, and gm-eval's FID, KID, PRDC and class metrics,
# checked against numpy/scipy implementations of the published formulas.
source "$(dirname "$0")/lib.bash"

"$python" - <<'PY'
import numpy as np
rng = np.random.default_rng(0)
y = rng.integers(0, 4, 160)
# Each class a bright square in its own quadrant, on noise: learnable in a few steps.
x = rng.integers(0, 60, (160, 1, 28, 28)).astype(np.uint8)
for i, c in enumerate(y):
    r, col = divmod(int(c), 2)
    x[i, 0, 2 + 14 * r:12 + 14 * r, 2 + 14 * col:12 + 14 * col] = 230
np.save("x.npy", x); np.save("y.npy", y)
PY
expect_exit 0 gm-convert x.npy --labels y.npy --class-names a,b,c,d d.h5
expect_exit 0 gm-train diffusion --arch unet --width 16 --multipliers 1,2 --attention 14 --data d.h5 --steps 20 --batch 16 -o u.h5
expect_exit 0 gm-sample u.h5 -n 16 --steps 4 --class 3 --guidance 2 -o s.h5
expect_exit 0 gm-train gan --arch dcgan --width 16 --data d.h5 --steps 20 --batch 16 -o g.h5
expect_exit 0 gm-sample g.h5 -n 16 --class 1 -o gs.h5
expect_exit 0 gm-train classifier --data d.h5 --test d.h5 --steps 30 --batch 32 -o c.h5
expect_exit 0 gm-distill consistency u.h5 --data d.h5 --steps 4 --batch 8 -o cm.h5
expect_exit 0 gm-sample cm.h5 -n 8 --steps 2 --class 0 --guidance 1 -o cs.h5
expect_exit 0 gm-distill progressive u.h5 --data d.h5 --from-steps 4 --to-steps 2 --steps 4 --batch 8 -o pd.h5
expect_exit 0 gm-sample pd.h5 -n 8 -o ps.h5
if "$python" - <<'PY'; then pass "samples are images of the asked class, in the data's range"; else fail "image samples"; fi
import h5py, json, numpy as np
for name, n, cls in (("s.h5", 16, 3), ("gs.h5", 16, 1), ("cs.h5", 8, 0), ("ps.h5", 8, None)):
    f = h5py.File(name)
    x = f["x"][:]
    assert x.shape == (n, 1, 28, 28) and x.dtype == np.float32, (name, x.shape)
    assert x.min() >= 0 and x.max() <= 255 and list(f["x"].attrs["range"]) == [0, 255], name
    if cls is not None:
        assert (f["y"][:] == cls).all(), name
assert h5py.File("s.h5").attrs["guidance"] == 2
config = json.loads(h5py.File("c.h5").attrs["config"])
assert 0 <= config["test_accuracy"] <= 1 and config["test_data"]["rows"] == 160
PY
expect_exit 2 gm-sample u.h5 -n 4 --class 9 -o bad.h5
expect_one_line_naming "--class 9"
expect_exit 2 gm-sample g.h5 -n 4 --guidance 2 -o bad.h5
expect_one_line_naming "--guidance"

# gm-eval with the classifier: every metric the image issue names.
gm-eval s.h5 --ref d.h5 --features c.h5 --json >eval.json 2>"$meta/err" || fail "gm-eval with a classifier: $(cat "$meta/err")"
if "$python" - <<'PY'; then pass "gm-eval reports fid, kid, prdc and the class metrics"; else fail "gm-eval keys"; fi
import json
m = json.load(open("eval.json"))
for key in ("fid", "kid", "precision", "recall", "density", "coverage", "classes_covered", "class_kl",
            "class_recall", "tail_class_recall"):
    assert key in m, key
assert m["classes"] == 4 and set(m["class_recall"]) == {"a", "b", "c", "d"} and len(m["tail_classes"]) == 3
PY

# 28x28 grayscale images default to the shipped Fashion-MNIST classifier.
gm-eval s.h5 --ref d.h5 --json >default.json 2>"$meta/err" || fail "gm-eval default features: $(cat "$meta/err")"
if "$python" - <<'PY'; then pass "28x28 gray images default to the shipped classifier"; else fail "default features"; fi
import json
m = json.load(open("default.json"))
assert m["features"].endswith("share/gm/models/fmnist-classifier.h5") and m["classes"] == 10, m["features"]
PY

# Features saved, and the reference's features cached: the second run reads them and agrees.
expect_exit 0 gm-eval s.h5 --ref d.h5 --features c.h5 --save-features feats.h5 --ref-cache refcache.h5 --json
cp "$meta/out" first.json
expect_exit 0 gm-eval s.h5 --ref d.h5 --features c.h5 --ref-cache refcache.h5 --json -v
if [[ $err == *"reference features from refcache.h5"* ]] && cmp -s "$meta/out" first.json; then
  pass "--ref-cache is read back and gives the same metrics"; else fail "--ref-cache: $err"; fi
if "$python" - <<'PY'; then pass "--save-features writes the features and classes"; else fail "--save-features"; fi
import h5py, json
f, r = h5py.File("feats.h5"), h5py.File("refcache.h5")
assert f["x"].shape == (16, 128) and f["y"].shape == (16,) and r["x"].shape == (160, 128)
assert json.loads(f.attrs["features"])["path"] == "c.h5" and json.loads(r.attrs["reference"])["path"] == "d.h5"
PY
expect_exit 0 gm-eval s.h5 --ref d.h5 --features raw --ref-cache refcache.h5 --json -v
if [[ $err == *"caches another reference or feature extractor"* ]]; then pass "a cache of other features is recomputed"
else fail "stale --ref-cache was used: $err"; fi
expect_exit 2 gm-eval --compare s.h5 gs.h5 --ref d.h5 --save-features f2.h5

# Raw features on small arrays: the published formulas in numpy/scipy.
"$python" - <<'PY'
import numpy as np
rng = np.random.default_rng(1)
np.save("real.npy", rng.normal(size=(50, 5)).astype(np.float32))
np.save("fake.npy", (rng.normal(size=(50, 5)) * 1.3 + 0.2).astype(np.float32))
PY
expect_exit 0 gm-convert real.npy real.h5
expect_exit 0 gm-convert fake.npy fake.h5
gm-eval fake.h5 --ref real.h5 --features raw --k 3 --kid-subsets 1 --kid-size 100000 --json >raw.json 2>"$meta/err" ||
  fail "gm-eval raw: $(cat "$meta/err")"
if "$python" - <<'PY'; then pass "raw FID, KID and PRDC equal pytorch-fid's, the KID and prdc definitions"; else fail "raw metrics"; fi
import json, numpy as np
from scipy import linalg
m = json.load(open("raw.json"))
real, fake = np.load("real.npy").astype(np.float64), np.load("fake.npy").astype(np.float64)
# pytorch-fid's calculate_frechet_distance
mu1, mu2 = fake.mean(0), real.mean(0)
s1, s2 = np.cov(fake, rowvar=False), np.cov(real, rowvar=False)
covmean, _ = linalg.sqrtm(s1.dot(s2), disp=False)
fid = ((mu1 - mu2) ** 2).sum() + np.trace(s1) + np.trace(s2) - 2 * np.trace(covmean.real)
assert abs(m["fid"] - fid) < 1e-6 * max(1, fid), (m["fid"], fid)
# KID: unbiased MMD^2 with k(a, b) = (a.b / d + 1)^3; one subset of all 50 rows of each set is a
# permutation, and the statistic does not depend on row order.
n, d = len(real), real.shape[1]
k = lambda a, b: (a @ b.T / d + 1) ** 3
kxx, kyy, kxy = k(real, real), k(fake, fake), k(real, fake)
kid = ((kxx.sum() - np.trace(kxx)) + (kyy.sum() - np.trace(kyy))) / (n * (n - 1)) - 2 * kxy.sum() / n ** 2
assert abs(m["kid"] - kid) < 1e-9 * max(1, abs(kid)), (m["kid"], kid)
# PRDC as Naeem et al.'s prdc package defines it, k = 3.
dist = lambda a, b: np.sqrt(((a[:, None] - b[None]) ** 2).sum(-1))
rr, ff, rf = dist(real, real), dist(fake, fake), dist(real, fake)
r_real, r_fake = np.sort(rr, 1)[:, 3], np.sort(ff, 1)[:, 3]
precision = (rf < r_real[:, None]).any(0).mean()
recall = (rf < r_fake[None, :]).any(1).mean()
density = (rf < r_real[:, None]).sum() / (3 * len(fake))
coverage = (rf.min(1) < r_real).mean()
for key, want in (("precision", precision), ("recall", recall), ("density", density), ("coverage", coverage)):
    assert abs(m[key] - want) < 1e-12, (key, m[key], want)
PY
finish
