#!/usr/bin/env bash
# Datasets in and out of gm-convert: IDX (Fashion-MNIST from Debian's package), long-tail
# subsampling, .npy/.npz, image folders, grid PNGs, checked against plain reads in Python.
source "$(dirname "$0")/lib.bash"
fmnist=/usr/share/datasets/fashion-mnist
names='T-shirt/top,Trouser,Pullover,Dress,Coat,Sandal,Shirt,Sneaker,Bag,Ankle boot'

if [[ -f $fmnist/train-images-idx3-ubyte.gz ]]; then
  expect_exit 0 gm-convert $fmnist/train-images-idx3-ubyte.gz --labels $fmnist/train-labels-idx1-ubyte.gz fm.h5 \
    --class-names "$names"
  if "$python" - "$fmnist" <<'PY'; then pass "IDX import equals a plain read of the bytes"; else fail "IDX import"; fi
import gzip, sys, h5py, numpy as np
d = sys.argv[1]
raw_x = np.frombuffer(gzip.open(f"{d}/train-images-idx3-ubyte.gz").read(), np.uint8, offset=16).reshape(60000, 1, 28, 28)
raw_y = np.frombuffer(gzip.open(f"{d}/train-labels-idx1-ubyte.gz").read(), np.uint8, offset=8)
f = h5py.File("fm.h5")
assert f["x"].dtype == np.uint8 and f["x"].shape == (60000, 1, 28, 28), (f["x"].dtype, f["x"].shape)
assert f["y"].dtype == np.int64 and (f["x"][:] == raw_x).all() and (f["y"][:] == raw_y).all()
assert [n.decode() if isinstance(n, bytes) else n for n in f["y"].attrs["class_names"]][9] == "Ankle boot"
assert list(f["x"].attrs["range"]) == [0, 255] and f.attrs["gm_kind"] == "dataset"
PY
  expect_exit 0 gm-convert fm.h5 lt.h5 --imbalance 100 --seed 1
  expect_exit 0 gm-convert fm.h5 lt2.h5 --imbalance 100 --seed 1
  if "$python" - <<'PY'; then pass "--imbalance 100 keeps floor(n_max * 100^(-c/9)) rows of class c"; else fail "imbalance counts"; fi
import h5py, numpy as np
full, lt = h5py.File("fm.h5"), h5py.File("lt.h5")
y = lt["y"][:]
want = [int(np.floor(6000 * 100 ** (-c / 9))) for c in range(10)]
assert list(np.bincount(y, minlength=10)) == want, (np.bincount(y), want)
assert (h5py.File("lt2.h5")["x"][:] == lt["x"][:]).all(), "same seed, same rows"
# Every kept row is a row of the full set with its own label.
xs = {r.tobytes(): l for r, l in zip(full["x"][:], full["y"][:])}
assert all(xs[r.tobytes()] == l for r, l in zip(lt["x"][:500], y[:500]))
PY
  expect_exit 0 gm-convert fm.h5 lt3.h5 --imbalance 100 --seed 2
  if "$python" -c "import h5py,sys; a,b=h5py.File('lt.h5')['x'][:],h5py.File('lt3.h5')['x'][:]; sys.exit(int(a.shape==b.shape and (a==b).all()))"; then
    pass "another seed keeps other rows"; else fail "--seed did not change the subset"; fi
else
  echo "skip: dataset-fashion-mnist is not installed (scripts/deps.sh test installs it)"
fi

# .npy and .npz in and out, uint8 images and float rows.
"$python" - <<'PY'
import numpy as np
rng = np.random.default_rng(0)
np.save("img.npy", rng.integers(0, 256, (12, 1, 8, 8), dtype=np.uint8))
np.save("lab.npy", rng.integers(0, 3, 12).astype(np.int32))
np.save("vec_be.npy", rng.normal(size=(20, 3)).astype(">f8"))
np.save("fortran.npy", np.asfortranarray(rng.normal(size=(5, 4)).astype(np.float32)))
np.savez_compressed("packed.npz", x=rng.normal(size=(7, 2)).astype(np.float32), y=np.arange(7))
PY
expect_exit 0 gm-convert img.npy --labels lab.npy img.h5
expect_exit 0 gm-convert vec_be.npy vec.h5
expect_exit 0 gm-convert fortran.npy fortran.h5
expect_exit 0 gm-convert packed.npz packed.h5
expect_exit 0 gm-convert img.h5 back.npz
expect_exit 0 gm-convert vec.h5 back.npy
if "$python" - <<'PY'; then pass ".npy/.npz imports equal their arrays, exports equal the files"; else fail ".npy/.npz"; fi
import h5py, numpy as np
img, lab = np.load("img.npy"), np.load("lab.npy")
f = h5py.File("img.h5")
assert f["x"].dtype == np.uint8 and (f["x"][:] == img).all() and (f["y"][:] == lab).all()
assert np.array_equal(h5py.File("vec.h5")["x"][:], np.load("vec_be.npy").astype(np.float32))
assert np.array_equal(h5py.File("fortran.h5")["x"][:], np.load("fortran.npy"))
z = np.load("packed.npz")
assert np.array_equal(h5py.File("packed.h5")["x"][:], z["x"]) and np.array_equal(h5py.File("packed.h5")["y"][:], z["y"])
back = np.load("back.npz")
assert (back["x"] == img).all() and back["x"].dtype == np.uint8 and (back["y"] == lab).all()
assert np.array_equal(np.load("back.npy"), np.load("vec_be.npy").astype(np.float32))
PY

# A folder of PNGs, out and back in; a colour image folder resized on import.
expect_exit 0 gm-convert img.h5 pngs/
expect_exit 0 gm-convert pngs folder.h5
if "$python" - <<'PY'; then pass "PNG folder import equals the source arrays"; else fail "PNG folder round trip"; fi
import os, h5py, numpy as np
src, back = h5py.File("img.h5"), h5py.File("folder.h5")
assert sorted(os.listdir("pngs")) == ["0", "1", "2"]
# The folder orders rows by class, then by file name (the source row number).
order = np.argsort(src["y"][:], kind="stable")
assert (back["x"][:] == src["x"][:][order]).all() and (back["y"][:] == src["y"][:][order]).all()
PY
expect_exit 1 gm-convert img.h5 pngs/
expect_one_line_naming "pngs/"
"$python" - <<'PY'
import os, sys, zlib, struct
sys.path.insert(0, os.environ.get("GM_SOURCE_DIR", ".") + "/tests/cli")
def png(path, w, h, rgb):
    raw = b"".join(b"\0" + bytes(((x * 7 + y * 3 + c * 50) & 255) for x in range(w) for c in range(3 if rgb else 1)) for y in range(h))
    chunk = lambda k, b: struct.pack(">I", len(b)) + k + b + struct.pack(">I", zlib.crc32(k + b))
    open(path, "wb").write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2 if rgb else 0, 0, 0, 0))
                           + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))
for cls in ("cat", "dog"):
    os.makedirs(f"photos/{cls}", exist_ok=True)
png("photos/cat/a.png", 40, 30, True); png("photos/cat/b.png", 20, 20, False); png("photos/dog/c.png", 50, 50, True)
PY
expect_exit 1 gm-convert photos photos.h5
expect_one_line_naming "--size"
expect_exit 0 gm-convert photos photos.h5 --size 16
if "$python" -c "
import h5py; f = h5py.File('photos.h5')
assert f['x'].shape == (3, 3, 16, 16) and list(f['y'][:]) == [0, 0, 1]
assert [n.decode() if isinstance(n, bytes) else n for n in f['y'].attrs['class_names']] == ['cat', 'dog']"; then
  pass "an image folder imports with --size, colour winning"; else fail "image folder import"; fi

# A grid PNG that an independent decoder reads back pixel for pixel.
expect_exit 0 gm-convert img.h5 grid.png --grid 3x4
if "$python" - <<'PY'; then pass "the grid PNG decodes to the images"; else fail "grid PNG"; fi
import os, sys, h5py, numpy as np
sys.path.insert(0, os.environ["GM_SOURCE_DIR"] + "/tests/cli")
from read_png import read_png
g = read_png("grid.png")
x = h5py.File("img.h5")["x"][:]
assert g.shape == (3 * 10 + 2, 4 * 10 + 2), g.shape
for i in range(12):
    r, c = divmod(i, 4)
    assert (g[2 + r * 10:2 + r * 10 + 8, 2 + c * 10:2 + c * 10 + 8] == x[i, 0]).all(), i
PY

# Bad inputs: one line, exit 1 (or 2 for usage), no output.
printf '\0\0\x08\x03\0\0\0\x05\0\0\0\x1c\0\0\0\x1c' > short-idx3-ubyte
expect_exit 1 gm-convert short-idx3-ubyte short.h5
expect_one_line_naming "short-idx3-ubyte"
printf '\0\0\x08\x01\xff\xff\xff\xff' > huge.idx
expect_exit 1 gm-convert huge.idx huge.h5
expect_one_line_naming "huge.idx"
head -c 100 img.npy > cut.npy
expect_exit 1 gm-convert cut.npy cut.h5
expect_one_line_naming "cut.npy"
expect_exit 1 gm-convert img.npy --labels vec_be.npy bad.h5
expect_one_line_naming "vec_be.npy"
expect_exit 2 gm-convert img.h5 lt.h5 --imbalance 0.5
expect_exit 1 gm-convert vec.h5 lt.h5 --imbalance 10
expect_one_line_naming "/y"
expect_exit 2 gm-convert img.h5 g.png --grid 3by4
for out in short.h5 huge.h5 cut.h5 bad.h5; do [[ -e $out ]] && fail "$out was left behind"; done
finish
