# gm-train gan and gm-sample on a GAN, as a user chains them.
source "$(dirname "$0")/lib.bash"

gm-sample toy:ring8 -n 2000 --seed 1 -o ring.h5 || fail "setup"
expect_exit 0 gm-train gan --data ring.h5 --steps 100 --batch 64 --hidden 32 --depth 2 --latent 4 --seed 2 \
  --log-every 20 -o gan.h5
expect_exit 0 gm-train gan --data ring.h5 --steps 40 --batch 64 --hidden 32 --depth 2 --loss hinge --r1 1 --pack 4 \
  --seed 2 -o packed.h5
expect_exit 0 gm-sample gan.h5 -n 500 --seed 0 -o s.h5
expect_exit 0 gm-sample gan.h5 -n 500 --seed 0 --shard 1/2 -o s1.h5
"$python" - <<'PY' && pass "GAN model and samples files follow the format" || fail "GAN files are wrong"
import h5py, json, numpy as np
m = h5py.File("gan.h5")
assert m.attrs["family"] == "gan"
config = json.loads(m.attrs["config"])
assert config["loss"] == "ns" and config["pack"] == 1 and config["latent"] == 4, config
names = set(m["params"])
assert "generator.layers.0.weight" in names and "discriminator.layers.0.weight" in names, names
assert set(m["history"]) == {"step", "d_loss", "g_loss"}, set(m["history"])
p = h5py.File("packed.h5")
pc = json.loads(p.attrs["config"])
assert pc["pack"] == 4 and pc["loss"] == "hinge" and pc["r1"] == 1.0
assert p["params/discriminator.layers.0.weight"].shape[1] == 8
assert "r1" in p["history"]
s = h5py.File("s.h5")
assert s.attrs["family"] == "gan" and s.attrs["nfe"] == 1 and s.attrs["sampler"] == "generator"
assert s["x"].shape == (500, 2) and s["z"].shape == (500, 4)
assert np.array_equal(h5py.File("s1.h5")["z"][:], s["z"][250:])
assert np.allclose(h5py.File("s1.h5")["x"][:], s["x"][250:], atol=1e-5)
PY
expect_exit 2 gm-train gan --data ring.h5 --steps 10 --batch 30 --pack 4 -o bad.h5
expect_exit 2 gm-train gan --data ring.h5 --steps 10 --loss wasserstein -o bad.h5
[[ ! -e bad.h5 ]] && pass "no output after usage errors" || fail "bad.h5 left behind"
finish
