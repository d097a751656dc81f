# gm-convert and PyTorch .pt files, checked against the real client (python3-torch): gm's .pt loads
# with torch.load(weights_only=True); PyTorch's torch.save(state_dict) imports with --like; a
# hostile pickle is refused without running anything.
source "$(dirname "$0")/lib.bash"

gm-sample toy:grid25 -n 2000 --seed 1 -o grid.h5 || fail "setup"
gm-train diffusion --data grid.h5 --steps 50 --batch 64 --hidden 16 --depth 1 --seed 2 -o edm.h5 -q || fail "setup edm"
gm-train gan --data grid.h5 --steps 20 --batch 64 --hidden 16 --depth 2 --seed 2 -o gan.h5 -q || fail "setup gan"

# gm -> .pt -> gm, and PyTorch reads gm's .pt.
expect_exit 0 gm-convert edm.h5 edm.pt
expect_exit 0 gm-convert edm.pt back.h5
"$python" - <<'PY' && pass "torch.load(weights_only=True) reads every tensor h5py reads; the round trip is bit-exact" \
  || fail "the .pt round trip"
import h5py, json, torch
import numpy as np
h5 = h5py.File("edm.h5")
paths = []
h5.visititems(lambda path, item: paths.append(path) if isinstance(item, h5py.Dataset) else None)
state = torch.load("edm.pt", weights_only=True)
meta = state.pop("__metadata__")
assert sorted(state) == sorted(paths), (sorted(state), sorted(paths))
for path in paths:
    assert np.array_equal(state[path].numpy(), h5[path][:]) and state[path].numpy().dtype == h5[path].dtype, path
assert json.loads(meta["config"]) == json.loads(h5.attrs["config"])
back = h5py.File("back.h5")
for path in paths:
    assert back[path][:].tobytes() == h5[path][:].tobytes(), path
assert json.loads(back.attrs["config"]) == json.loads(h5.attrs["config"])
PY
gm-sample edm.h5 -n 100 --steps 3 --seed 4 -o s1.h5 && gm-sample back.h5 -n 100 --steps 3 --seed 4 -o s2.h5 \
  || fail "sampling"
"$python" -c "import h5py; assert h5py.File('s1.h5')['x'][:].tobytes() == h5py.File('s2.h5')['x'][:].tobytes()" \
  && pass "the round-tripped model samples identically" || fail "samples differ after the .pt round trip"

# PyTorch's own checkpoint of a GAN with other names, nested as {"model": ..., "step": N}.
"$python" - <<'PY' || fail "setup: torch.save"
import torch
class Mlp(torch.nn.Module):
    def __init__(self, sizes, act):
        super().__init__()
        self.layers = torch.nn.ModuleList(torch.nn.Linear(a, b) for a, b in zip(sizes, sizes[1:]))
        self.act = act
    def forward(self, x):
        for i, layer in enumerate(self.layers):
            x = layer(x)
            if i + 1 < len(self.layers):
                x = self.act(x)
        return x
def leaky(x):
    return torch.nn.functional.leaky_relu(x, 0.2)
class Gan(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.gen = Mlp([16, 16, 16, 2], torch.relu)
        self.disc = Mlp([2, 16, 16, 1], leaky)
torch.manual_seed(0)
gan = Gan()
torch.save({"model": gan.state_dict(), "step": 5}, "foreign.pt")
torch.save(gan.gen, "whole_module.pt")
torch.save(gan, "gan_module.pt")
torch.save(gan.state_dict(), "flat.pt")
open("rules.txt", "w").write("# PyTorch names -> gm names\ngen\\.(.*) generator.$1\ndisc\\.(.*) discriminator.$1\n")
open("partial_rules.txt", "w").write("gen\\.(.*) generator.$1\n")
torch.save(gan.gen.state_dict(), "gen_only.pt")
PY
expect_exit 1 gm-convert foreign.pt imported.h5 --like gan.h5 --map rules.txt
expect_one_line_naming "--key"
expect_exit 0 gm-convert foreign.pt --key model --like gan.h5 --map rules.txt -o imported.h5
expect_exit 0 gm-sample imported.h5 -n 64 --seed 3 -o s_imported.h5
"$python" - <<'PY' && pass "gm-sample with the imported PyTorch weights matches PyTorch's outputs to 1e-6" \
  || fail "imported weights give other outputs"
import h5py, torch
state = torch.load("foreign.pt", weights_only=True)["model"]
s = h5py.File("s_imported.h5")
x = torch.from_numpy(s["z"][:])
layers = sorted({k.split(".")[2] for k in state if k.startswith("gen.")})
for i, n in enumerate(layers):
    x = x @ state[f"gen.layers.{n}.weight"].T + state[f"gen.layers.{n}.bias"]
    if i + 1 < len(layers):
        x = torch.relu(x)
assert torch.allclose(x, torch.from_numpy(s["x"][:]), atol=1e-6, rtol=0), (x - torch.from_numpy(s["x"][:])).abs().max()
PY
expect_exit 1 gm-convert gen_only.pt --like gan.h5 --map partial_rules.txt -o partial.h5
[[ $err == *"unused: discriminator.layers.0.weight"* && $(tail -n 1 <<<"$err") == *"gen_only.pt"*"unused"* ]] \
  && pass "the report lists unused tensors and the error names the file" || fail "report: $err"
expect_exit 0 gm-convert gen_only.pt --like gan.h5 --map partial_rules.txt --allow-partial -o partial.h5
expect_exit 1 gm-convert flat.pt --like edm.h5 -o wrong.h5
[[ $err == *"unmapped: gen.layers.0.weight"* ]] && pass "unmapped tensors are listed" || fail "report: $err"
[[ ! -e wrong.h5 && ! -e imported_fail.h5 ]] && pass "no model after a failed import" || fail "wrong.h5 left behind"

# Pickles that would run code or build arbitrary objects: refused by name, never executed.
"$python" - <<'PY' || fail "setup: hostile pickle"
import os, pickle, zipfile
class Evil:
    def __reduce__(self):
        return (os.system, ("touch PWNED",))
with zipfile.ZipFile("evil.pt", "w") as z:
    z.writestr("archive/data.pkl", pickle.dumps({"w": Evil()}, protocol=2))
    z.writestr("archive/version", "3\n")
open("legacy.pt", "wb").write(pickle.dumps({"w": 1}, protocol=2))
open("junk.pt", "wb").write(os.urandom(3000))
PY
expect_exit 1 gm-convert evil.pt evil.h5
expect_one_line_naming "forbidden global 'posix.system'"
[[ ! -e PWNED && ! -e evil.h5 ]] && pass "the payload never ran" || fail "PWNED or evil.h5 exists"
expect_exit 1 gm-convert whole_module.pt m.h5
expect_one_line_naming "forbidden global '__main__.Mlp'"
expect_exit 1 gm-convert legacy.pt legacy.h5
expect_one_line_naming legacy.pt
expect_exit 1 gm-convert junk.pt junk.h5
expect_one_line_naming junk.pt
expect_exit 2 gm-convert grid.h5 --key model g.h5
finish
