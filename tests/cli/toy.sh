# Toy sources: files that h5py reads, exact reproducibility, shards and stdout.
source "$(dirname "$0")/lib.bash"

expect_exit 0 gm-sample toy:grid25 -n 1000 --seed 1 -o g.h5
"$python" - <<'PY' && pass "h5py reads g.h5 as the design says" || fail "g.h5 does not match the design"
import h5py, json, numpy as np
f = h5py.File("g.h5", "r")
x = f["x"]
assert x.dtype == np.float32 and x.shape == (1000, 2), (x.dtype, x.shape)
assert f["y"].dtype == np.int64 and f["y"].shape == (1000,)
a = f.attrs
assert a["gm_format"] == "gm/1" and a["gm_kind"] == "dataset", dict(a)
assert "gm-sample toy:grid25 -n 1000 --seed 1 -o g.h5" in a["created_by"], a["created_by"]
prov = json.loads(a["provenance"])
assert prov["inputs"][0]["source"] == "toy:grid25"
assert list(x.attrs["range"]) == [-4.25, 4.25]
assert x.maxshape == (None, 2) and x.chunks is not None
assert json.loads(a["toy"])["sd"] == 0.05
PY

expect_exit 0 gm-sample toy:grid25 -n 1000 --seed 1 -o g2.h5
expect_exit 0 gm-sample toy:grid25 -n 1000 --seed 1 --shard 1/2 -o h.h5
expect_exit 0 gm-sample toy:grid25 -n 1000 --seed 1 --shard 0/2 --chunk 7 -o h0.h5
expect_exit 0 gm-sample toy:grid25 -n 1000 --seed 2 -o other.h5
"$python" - <<'PY' && pass "same seed: byte-identical /x; shards are exact slices" || fail "reproducibility or shards broken"
import h5py, numpy as np
g, g2 = h5py.File("g.h5")["x"][:], h5py.File("g2.h5")["x"][:]
assert g.tobytes() == g2.tobytes()
assert np.array_equal(h5py.File("h.h5")["x"][:], g[500:1000])
assert np.array_equal(h5py.File("h0.h5")["x"][:], g[0:500])
assert np.array_equal(h5py.File("h.h5")["y"][:], h5py.File("g.h5")["y"][500:1000])
assert not np.array_equal(h5py.File("other.h5")["x"][:], g)
PY

gm-sample toy:ring8 -n 100 -o - >r.h5 2>"$meta/err" && pass "-o - writes to stdout" || fail "-o - failed: $(cat "$meta/err")"
h5dump -H r.h5 >/dev/null && pass "h5dump reads the stdout file" || fail "r.h5 is not valid HDF5"
gm-sample toy:ring8 -n 100 -o - | gm-convert - piped.h5 && pass "stdin to gm-convert" || fail "pipe failed"
"$python" - <<'PY' && pass "piped copy keeps rows and records its input" || fail "piped copy is wrong"
import h5py, json, numpy as np
a, b = h5py.File("r.h5"), h5py.File("piped.h5")
assert np.array_equal(a["x"][:], b["x"][:])
prov = json.loads(b.attrs["provenance"])
assert prov["inputs"][0]["path"] == "-" and len(prov["inputs"][0]["sha256"]) == 64
assert prov["inputs"][0]["provenance"]["inputs"][0]["source"] == "toy:ring8"
PY

expect_exit 0 gm-eval g.h5 --ref toy:grid25 --json
"$python" -c "import json,sys; m=json.load(open('$meta/out')); assert m['modes']==25 and m['hq']>0.97, m" \
  && pass "true data covers all 25 modes" || fail "eval of true data: $(cat "$meta/out")"
# A density image of the grid: a real PNG whose dark pixels sit on the 25 modes.
expect_exit 0 gm-convert g.h5 g.png --size 128
"$python" - <<'PY' && pass "g.png is a 128x128 gray PNG with 25 dark clusters" || fail "g.png is wrong"
import struct, zlib
import numpy as np
data = open("g.png", "rb").read()
assert data[:8] == b"\x89PNG\r\n\x1a\n"
pos, idat, width = 8, b"", None
while pos < len(data):
    length, kind = struct.unpack(">I4s", data[pos:pos + 8])
    body = data[pos + 8:pos + 8 + length]
    if kind == b"IHDR":
        width, height, depth, color = struct.unpack(">IIBB", body[:10])
        assert (width, height, depth, color) == (128, 128, 8, 0), (width, height, depth, color)
    if kind == b"IDAT":
        idat += body
    pos += 12 + length
raw = zlib.decompress(idat)
rows, prev = [], np.zeros(width, np.int32)
for r in range(height):  # undo the PNG row filters
    f, line = raw[r * (width + 1)], np.frombuffer(raw[r * (width + 1) + 1:(r + 1) * (width + 1)], np.uint8).astype(np.int32)
    out = np.zeros(width, np.int32)
    for i in range(width):
        a = out[i - 1] if i else 0
        b, c = prev[i], (prev[i - 1] if i else 0)
        p = a + b - c
        pred = [0, a, b, (a + b) // 2, a if abs(p - a) <= min(abs(p - b), abs(p - c)) else (b if abs(p - b) <= abs(p - c) else c)][f]
        out[i] = (line[i] + pred) % 256
    rows.append(out)
    prev = out
img = np.array(rows)
dark = img < 255
assert 25 <= dark.sum() < 128 * 128 // 4, dark.sum()
# Each dark pixel lies near one of the 25 centres, mapped from the range [-4.25, 4.25].
ys, xs = np.nonzero(dark)
cx = -4.25 + (xs + 0.5) / 128 * 8.5
cy = -4.25 + (127 - ys + 0.5) / 128 * 8.5
assert np.all(np.abs(cx - np.round(cx / 2) * 2) < 0.3) and np.all(np.abs(cy - np.round(cy / 2) * 2) < 0.3)
PY
expect_exit 2 gm-convert g.h5 g.png --size 4
expect_exit 2 gm-sample toy:moons -n 10 -o m.h5
expect_exit 2 gm-sample toy:grid25 -n 10 --shard 2/2 -o m.h5
[[ ! -e m.h5 ]] && pass "no output after usage errors" || fail "m.h5 left behind"
finish
