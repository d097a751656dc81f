#!/usr/bin/env bash
# The latent pipeline end to end at toy scale, the commands of the likelihood issue: a VAE and a
# VQ-VAE, latents through files (with - at both ends), latent diffusion that decodes itself, LCM
# distillation sampled with guidance, and the likelihood bounds in bits per dimension.
source "$(dirname "$0")/lib.bash"

"$python" - <<'PY'
import numpy as np
rng = np.random.default_rng(0)
for name, n in (("train", 192), ("test", 64)):
    y = rng.integers(0, 4, n)
    # Each class a bright square in its own quadrant, on noise.
    x = rng.integers(0, 60, (n, 1, 28, 28)).astype(np.uint8)
    for i, c in enumerate(y):
        r, col = divmod(int(c), 2)
        x[i, 0, 2 + 14 * r:12 + 14 * r, 2 + 14 * col:12 + 14 * col] = 230
    np.save(f"{name}_x.npy", x); np.save(f"{name}_y.npy", y)
PY
expect_exit 0 gm-convert train_x.npy --labels train_y.npy fmnist.h5
expect_exit 0 gm-convert test_x.npy --labels test_y.npy fmnist-test.h5
small=(--width 8 --batch 32 --seed 1)

# The issue's commands, with small networks.
expect_exit 0 gm-train vae --data fmnist.h5 --steps 5 "${small[@]}" -o vae5.h5
expect_exit 0 gm-train vae --data fmnist.h5 --steps 120 "${small[@]}" -o vae.h5
expect_exit 0 gm-sample vae.h5 --encode fmnist.h5 -o lat.h5
expect_exit 0 gm-train diffusion --data lat.h5 --steps 40 --width 16 --batch 32 -o ldm.h5
expect_exit 0 gm-distill lcm ldm.h5 --data lat.h5 --steps 10 --batch 16 -o lcm.h5
expect_exit 0 gm-sample lcm.h5 -n 16 --steps 2 --class 1 --guidance 3 --decode -o s.h5
gm-eval --nll vae.h5 --data fmnist-test.h5 --iw 4 --json >nll.json 2>"$meta/err" || fail "gm-eval --nll: $(cat "$meta/err")"
gm-eval --nll vae5.h5 --data fmnist-test.h5 --json >nll5.json 2>"$meta/err" || fail "gm-eval --nll: $(cat "$meta/err")"
if "$python" - <<'PY'; then pass "images, latents with their autoencoder, a finite ELBO that falls with training"; else fail "latent pipeline"; fi
import h5py, json, math
s = h5py.File("s.h5")
assert s["x"].shape == (16, 1, 28, 28) and list(s["x"].attrs["range"]) == [0, 255], s["x"].shape
assert (s["y"][:] == 1).all() and s.attrs["nfe"] == 2 and s.attrs["guidance"] == 3
lat = h5py.File("lat.h5")
assert lat["x"].shape == (192, 4, 7, 7) and lat["y"].shape == (192,)
space = lat.attrs["space"]
assert json.loads(lat.attrs["autoencoder"])["space"] == space and len(space) == 64
import hashlib
assert hashlib.sha256(open("vae.h5", "rb").read()).hexdigest() == space
for model in ("ldm.h5", "lcm.h5"):
    config = json.loads(h5py.File(model).attrs["config"])
    assert config["data"]["autoencoder"]["space"] == space, model
assert json.loads(h5py.File("lcm.h5").attrs["config"])["distillation"]["method"] == "lcm"
late, early = json.load(open("nll.json")), json.load(open("nll5.json"))
assert math.isfinite(late["elbo_bits_per_dim"]) and late["elbo_bits_per_dim"] > 0
assert late["elbo_bits_per_dim"] < early["elbo_bits_per_dim"] - 0.1, (early["elbo_bits_per_dim"], late["elbo_bits_per_dim"])
assert late["iw_bits_per_dim"] <= late["elbo_bits_per_dim"] and late["iw_samples"] == 4
assert abs(late["reconstruction_bits_per_dim"] + late["kl_bits_per_dim"] - late["elbo_bits_per_dim"]) < 1e-9
assert "discretised Gaussian" in late["dequantisation"] and late["rows"] == 64
curve = h5py.File("vae.h5")["history/bits_per_dim"][:]
assert curve[-1] < curve[0], curve
PY

# Decoding latents with another autoencoder is refused; so is a moved autoencoder, unless named.
expect_exit 0 gm-train vae --data fmnist.h5 --steps 2 --width 8 --batch 32 --seed 2 -o other.h5
expect_exit 1 gm-sample other.h5 --decode lat.h5 -o bad.h5
expect_one_line_naming "lat.h5: holds latents of the autoencoder"
expect_exit 1 gm-sample ldm.h5 -n 2 --decode --autoencoder other.h5 -o bad.h5
expect_one_line_naming "not of other.h5"
expect_exit 0 gm-sample other.h5 --encode fmnist.h5 -o other-lat.h5
expect_exit 1 gm-distill lcm ldm.h5 --data other-lat.h5 --steps 2 --batch 8 -o bad.h5
expect_one_line_naming "latents of another"
expect_exit 1 gm-sample vae.h5 --decode fmnist.h5 -o bad.h5
expect_one_line_naming "fmnist.h5"
expect_exit 2 gm-sample ldm.h5 --decode -o bad.h5
expect_one_line_naming "-n"
[[ ! -e bad.h5 ]] && pass "no output from a refused command" || fail "a refused command left bad.h5"
mkdir moved && cp ldm.h5 moved/ && mv vae.h5 moved/
expect_exit 0 gm-sample moved/ldm.h5 -n 2 --decode -o moved.h5
mv moved/vae.h5 vae.h5

# - at both ends, and the same images as through files.
gm-sample vae.h5 --encode fmnist-test.h5 -o - 2>"$meta/err" | gm-sample vae.h5 --decode - -o piped.h5 2>>"$meta/err" ||
  fail "encode | decode: $(cat "$meta/err")"
expect_exit 0 gm-sample vae.h5 --encode fmnist-test.h5 -o test-lat.h5
expect_exit 0 gm-sample vae.h5 --decode test-lat.h5 -o decoded.h5
expect_exit 0 gm-sample ldm.h5 -n 8 --steps 4 -o ldm-lat.h5
expect_exit 0 gm-sample vae.h5 --decode ldm-lat.h5 -o ldm-img.h5
expect_exit 0 gm-sample ldm.h5 -n 8 --steps 4 --decode -o ldm-direct.h5
if "$python" - <<'PY'; then pass "piped, filed and direct decoding agree; labels and noise carry over"; else fail "decoding paths"; fi
import h5py, numpy as np
a, b = h5py.File("piped.h5"), h5py.File("decoded.h5")
assert np.array_equal(a["x"][:], b["x"][:]) and a["x"].shape == (64, 1, 28, 28)
assert np.array_equal(a["y"][:], h5py.File("fmnist-test.h5")["y"][:])
c, d = h5py.File("ldm-img.h5"), h5py.File("ldm-direct.h5")
assert np.allclose(c["x"][:], d["x"][:], atol=1e-3) and np.array_equal(c["z"][:], d["z"][:])
assert h5py.File("ldm-lat.h5").attrs["space"] == h5py.File("lat.h5").attrs["space"]
assert c.attrs["gm_kind"] == "samples" and h5py.File("lat.h5").attrs["gm_kind"] == "dataset"
PY

# The VQ-VAE reports codebook use in training and in its bound.
expect_exit 0 gm-train vqvae --data fmnist.h5 --steps 20 "${small[@]}" --codebook 32 -o vq.h5
gm-eval --nll vq.h5 --data fmnist-test.h5 --json >vq.json 2>"$meta/err" || fail "gm-eval --nll vq: $(cat "$meta/err")"
expect_exit 0 gm-sample vq.h5 --encode fmnist.h5 -o vq-lat.h5
if "$python" - <<'PY'; then pass "VQ-VAE code usage and perplexity; latents are codes"; else fail "vqvae"; fi
import h5py, json, math, numpy as np
m = json.load(open("vq.json"))
assert 0 < m["code_usage"] <= 1 and 1 <= m["perplexity"] <= 32 and m["codebook"] == 32
assert abs(m["kl_bits_per_dim"] - 49 * math.log2(32) / 784) < 1e-12
f = h5py.File("vq.h5")
assert len(f["history/code_usage"][:]) > 0 and len(f["history/perplexity"][:]) > 0
codes = f["buffers/codes"][:]
z = h5py.File("vq-lat.h5")["x"][:].transpose(0, 2, 3, 1).reshape(-1, codes.shape[1])
assert np.min(np.abs(z[:, None, :] - codes[None]).max(2), axis=1).max() < 1e-5
PY
# A stopped VQ-VAE resumes to the uninterrupted run's weights and codebook, bit for bit.
vq=(gm-train vqvae --data fmnist.h5 --steps 80 --width 8 --batch 32 --codebook 32 --seed 4 --checkpoint-every 10 -q)
"${vq[@]}" -o vq-full.h5 || fail "the uninterrupted VQ-VAE"
"${vq[@]}" -o vq-ckpt.h5 &
pid=$!
for _ in $(seq 400); do [[ -e vq-ckpt.h5 ]] && break; sleep 0.02; done
kill -TERM $pid
wait $pid
[[ $? == 143 ]] && pass "SIGTERM checkpoints the VQ-VAE" || fail "SIGTERM did not stop the VQ-VAE with 143"
expect_exit 0 "${vq[@]}" --resume vq-ckpt.h5 -o vq-resumed.h5
if "$python" - <<'PY'; then pass "the resumed VQ-VAE equals the uninterrupted one"; else fail "VQ-VAE resume"; fi
import h5py
a, b = h5py.File("vq-full.h5"), h5py.File("vq-resumed.h5")
for group in ("params", "buffers"):
    for name in a[group]:
        assert a[group][name][:].tobytes() == b[group][name][:].tobytes(), (group, name)
PY
expect_exit 1 gm-sample vq.h5 -n 4 -o bad.h5
expect_one_line_naming "no prior"
expect_exit 2 gm-eval --nll vq.h5 --data fmnist-test.h5 --iw 4
expect_one_line_naming "--iw"

# Ho et al.'s bound for a DDPM; an EDM model has none.
expect_exit 0 gm-train diffusion --parametrisation eps --data fmnist.h5 --steps 5 --width 8 --multipliers 1,2 --attention "" \
  --batch 16 -o ddpm.h5
gm-eval --nll ddpm.h5 --data fmnist-test.h5 --nll-rows 4 --json >ddpm.json 2>"$meta/err" || fail "DDPM bound: $(cat "$meta/err")"
if "$python" - <<'PY'; then pass "the DDPM bound is finite, its prior term near zero"; else fail "DDPM bound"; fi
import json, math
m = json.load(open("ddpm.json"))
assert m["rows"] == 4 and m["timesteps"] == 1000 and m["conditional"] is True
assert all(math.isfinite(m[k]) for k in ("vlb_bits_per_dim", "prior_bits_per_dim", "diffusion_bits_per_dim", "decoder_bits_per_dim"))
assert 0 <= m["prior_bits_per_dim"] < 1e-3
assert abs(m["prior_bits_per_dim"] + m["diffusion_bits_per_dim"] + m["decoder_bits_per_dim"] - m["vlb_bits_per_dim"]) < 1e-9
PY
expect_exit 1 gm-eval --nll ldm.h5 --data fmnist-test.h5
expect_one_line_naming "DDPM"
expect_exit 2 gm-eval --nll vae.h5
expect_one_line_naming "--data"
finish
