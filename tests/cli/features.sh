# gm-eval --features: FID and PRDC in the space of a TorchScript network a user brings, checked
# against the same network run by PyTorch and pytorch-fid's formula in scipy.
source "$(dirname "$0")/lib.bash"

gm-sample toy:grid25 -n 3000 --seed 1 -o ref.h5 && gm-sample toy:grid25-lt100 -n 2000 --seed 2 -o s.h5 || fail "setup"
"$python" - <<'PY' || fail "setup: torch.jit.save"
import torch
class Features(torch.nn.Module):
    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.a = torch.nn.Linear(2, 16)
        self.b = torch.nn.Linear(16, 8)
    def forward(self, x):
        return self.b(torch.tanh(self.a(x)))
class Wrong(torch.nn.Module):
    def forward(self, x):
        return x[:1]
torch.jit.save(torch.jit.trace(Features(), torch.zeros(4, 2)), "features.pt")  # scripting needs a source file
torch.jit.save(torch.jit.trace(Wrong(), torch.zeros(4, 2)), "wrong.pt")
PY
expect_exit 0 gm-eval s.h5 --ref ref.h5 --features features.pt --json
"$python" - "$meta/out" <<'PY' && pass "FID on the network's features agrees with PyTorch + scipy to 1e-6" \
  || fail "features FID: $(cat "$meta/out")"
import h5py, json, sys, torch
import numpy as np, scipy.linalg
got = json.load(open(sys.argv[1]))
net = torch.jit.load("features.pt")
with torch.no_grad():
    f1, f2 = (net(torch.from_numpy(h5py.File(p)["x"][:])).double().numpy() for p in ("s.h5", "ref.h5"))
mu1, mu2 = f1.mean(0), f2.mean(0)
s1, s2 = np.cov(f1, rowvar=False), np.cov(f2, rowvar=False)
covmean, _ = scipy.linalg.sqrtm(s1.dot(s2), disp=False)
fid = ((mu1 - mu2) ** 2).sum() + np.trace(s1) + np.trace(s2) - 2 * np.trace(covmean.real)
assert abs(got["fid"] - fid) <= 1e-6 * abs(fid), (got["fid"], fid)
assert got["features"] == "features.pt" and "precision" in got and got["modes"] <= 25
PY
cp "$meta/out" with_features.json
expect_exit 0 gm-eval s.h5 --ref ref.h5 --json
"$python" - "$meta/out" <<'PY' && pass "without --features the metrics use the raw rows" || fail "raw metrics"
import json, sys
raw, feat = json.load(open(sys.argv[1])), json.load(open("with_features.json"))
assert raw["features"] == "raw" and raw["fid"] != feat["fid"] and raw["modes"] == feat["modes"]
PY
expect_exit 1 gm-eval s.h5 --ref ref.h5 --features ref.h5
expect_one_line_naming "ref.h5: is a dataset file, expected model"
expect_exit 1 gm-eval s.h5 --ref ref.h5 --features wrong.pt
expect_one_line_naming "wrong.pt"
expect_exit 1 gm-eval s.h5 --ref ref.h5 --features missing.pt
expect_one_line_naming "missing.pt"
finish
