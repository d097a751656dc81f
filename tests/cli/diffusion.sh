# gm-train diffusion and gm-sample on a diffusion model, as a user chains them.
source "$(dirname "$0")/lib.bash"

gm-sample toy:grid25 -n 5000 --seed 1 -o grid.h5 || fail "setup"
expect_exit 0 gm-train diffusion --data grid.h5 --steps 300 --batch 128 --hidden 64 --depth 2 --seed 3 \
  --log-every 50 --checkpoint-every 100 -o edm.h5
expect_exit 0 gm-train diffusion --data grid.h5 --steps 300 --batch 128 --hidden 64 --depth 2 --seed 3 \
  --log-every 50 -o edm2.h5
expect_exit 0 gm-sample edm.h5 -n 300 --steps 4 --seed 0 -o s.h5
expect_exit 0 gm-sample edm.h5 -n 300 --steps 4 --seed 0 -o s2.h5
expect_exit 0 gm-sample edm.h5 -n 300 --steps 4 --seed 0 --shard 1/3 -o s_shard.h5
expect_exit 0 gm-sample edm.h5 -n 300 --steps 4 --seed 0 --sampler euler -o s_euler.h5
expect_exit 0 gm-sample edm.h5 -n 300 --steps 4 --seed 0 --sampler dpmpp-2m -o s_dpm.h5
"$python" - <<'PY' && pass "model and samples files follow the format" || fail "model or samples file is wrong"
import h5py, json, numpy as np
m = h5py.File("edm.h5")
assert m.attrs["gm_kind"] == "model" and m.attrs["family"] == "diffusion"
config = json.loads(m.attrs["config"])
assert config["parametrisation"] == "edm" and config["data_shape"] == [2], config
assert abs(config["edm"]["sigma_data"] - h5py.File("grid.h5")["x"][:].std()) < 1e-3
assert set(m["params"]) == set(m["ema"]) and "input.weight" in m["params"], list(m["params"])
assert list(m["history/step"][:]) == [50, 100, 150, 200, 250, 300], m["history/step"][:]
assert json.loads(m.attrs["provenance"])["inputs"][0]["path"] == "grid.h5"
# Same seed, same thread count: the same weights.
m2 = h5py.File("edm2.h5")
for name in m["params"]:
    assert np.array_equal(m["params"][name][:], m2["params"][name][:]), name
s = h5py.File("s.h5")
assert s.attrs["gm_kind"] == "samples" and s["x"].shape == (300, 2) and s["z"].shape == (300, 2)
assert s.attrs["sampler"] == "heun" and s.attrs["steps"] == 4 and s.attrs["nfe"] == 7
assert h5py.File("s_euler.h5").attrs["nfe"] == 4
assert h5py.File("s_dpm.h5").attrs["nfe"] == 4 and h5py.File("s_dpm.h5").attrs["sampler"] == "dpmpp-2m"
assert s.attrs["ms_per_sample"] > 0
assert json.loads(s.attrs["model"])["path"] == "edm.h5"
chain = json.loads(s.attrs["provenance"])["inputs"][0]
assert chain["path"] == "edm.h5" and chain["provenance"]["inputs"][0]["path"] == "grid.h5"
assert np.array_equal(s["x"][:], h5py.File("s2.h5")["x"][:]), "sampling is not reproducible"
shard = h5py.File("s_shard.h5")
assert np.array_equal(shard["z"][:], s["z"][100:200])
assert np.allclose(shard["x"][:], s["x"][100:200], atol=1e-5)
PY
expect_exit 0 gm-eval s.h5 --ref toy:grid25 --json
"$python" -c "import json; m=json.load(open('$meta/out')); assert m['n']==300 and 'modes' in m, m" \
  && pass "gm-eval scores the samples" || fail "gm-eval output: $(cat "$meta/out")"

# DDPM eps and v prediction: the schedule in the config, ancestral sampling by default on all 1000
# timesteps, per-row ancestral noise so that shards agree.
expect_exit 0 gm-train diffusion --data grid.h5 --parametrisation eps --steps 200 --batch 128 --hidden 64 --depth 2 \
  --seed 3 -o eps.h5
expect_exit 0 gm-train diffusion --data grid.h5 --parametrisation v --steps 200 --batch 128 --hidden 64 --depth 2 \
  --seed 3 -o v.h5
expect_exit 0 gm-sample eps.h5 -n 40 --seed 0 -o s_eps.h5
expect_exit 0 gm-sample v.h5 -n 90 --steps 25 --seed 0 -o s_v.h5
expect_exit 0 gm-sample v.h5 -n 90 --steps 25 --seed 0 --shard 2/3 -o s_v_shard.h5
expect_exit 0 gm-sample v.h5 -n 90 --steps 25 --seed 0 --sampler ddim -o s_v_ddim.h5
expect_exit 0 gm-sample edm.h5 -n 30 --steps 10 --seed 0 --sampler ddpm -o s_edm_ddpm.h5
"$python" - <<'PY' && pass "DDPM eps and v models and the ddpm sampler" || fail "DDPM models or sampler are wrong"
import h5py, json, numpy as np
for name, kind in (("eps.h5", "eps"), ("v.h5", "v")):
    config = json.loads(h5py.File(name).attrs["config"])
    assert config["parametrisation"] == kind, config
    assert config["edm"]["ddpm"] == {"timesteps": 1000, "beta_start": 1e-4, "beta_end": 0.02}, config
    sd = config["edm"]["sigma_data"]
    assert abs(config["edm"]["sigma_max"] / sd - 157.40728) < 1e-3, config
s = h5py.File("s_eps.h5")
assert s.attrs["sampler"] == "ddpm" and s.attrs["steps"] == 1000 and s.attrs["nfe"] == 1000
assert np.isfinite(s["x"][:]).all()
v, shard = h5py.File("s_v.h5"), h5py.File("s_v_shard.h5")
assert v.attrs["nfe"] == 25 and np.allclose(shard["x"][:], v["x"][60:90], atol=1e-5), "ancestral noise differs by shard"
assert h5py.File("s_v_ddim.h5").attrs["sampler"] == "ddim"
assert not np.allclose(h5py.File("s_v_ddim.h5")["x"][:], v["x"][:])
assert h5py.File("s_edm_ddpm.h5").attrs["nfe"] == 10
PY
expect_exit 2 gm-sample v.h5 -n 10 --steps 1001 -o x.h5
expect_exit 2 gm-train diffusion --data grid.h5 --parametrisation x0 --steps 10 -o x.h5

expect_exit 1 gm-train diffusion --data missing.h5 --steps 10 -o x.h5
expect_one_line_naming missing.h5
expect_exit 1 gm-sample grid.h5 -n 10 -o x.h5
expect_one_line_naming grid.h5
expect_exit 2 gm-train diffusion --data grid.h5 --steps 0 -o x.h5
expect_exit 2 gm-sample edm.h5 -n 10 --sampler unipc -o x.h5
[[ ! -e x.h5 ]] && pass "no output after errors" || fail "x.h5 left behind"
finish
