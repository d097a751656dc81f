# gm-convert between gm HDF5 models and safetensors, checked against a safetensors parser written
# here with struct and json, against h5py, and against malformed files.
source "$(dirname "$0")/lib.bash"

gm-sample toy:grid25 -n 2000 --seed 1 -o grid.h5 || fail "setup"
gm-train diffusion --data grid.h5 --steps 50 --batch 64 --hidden 16 --depth 1 --seed 2 -o edm.h5 -q || fail "setup edm"
gm-train gan --data grid.h5 --steps 20 --batch 64 --hidden 16 --depth 1 --seed 2 -o gan.h5 -q || fail "setup gan"

cat > parse.py <<'PY'
import json, struct
import numpy as np
DTYPES = {"F64": "<f8", "F32": "<f4", "F16": "<f2", "I64": "<i8", "I32": "<i4", "U8": "u1", "BOOL": "?"}
def load(path):
    data = open(path, "rb").read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    meta = header.pop("__metadata__", {})
    body = data[8 + n:]
    tensors = {}
    for name, entry in header.items():
        begin, end = entry["data_offsets"]
        tensors[name] = np.frombuffer(body[begin:end], DTYPES[entry["dtype"]]).reshape(entry["shape"])
    return tensors, meta
PY

for model in edm gan; do
  expect_exit 0 gm-convert $model.h5 $model.safetensors
  expect_exit 0 gm-convert $model.safetensors back_$model.h5
  "$python" - $model <<'PY' && pass "$model: safetensors holds every tensor of the .h5; the round trip is bit-exact" \
    || fail "$model: safetensors round trip"
import h5py, json, sys
import numpy as np
sys.path.insert(0, ".")
from parse import load
name = sys.argv[1]
tensors, meta = load(name + ".safetensors")
h5 = h5py.File(name + ".h5")
paths = []
h5.visititems(lambda path, item: paths.append(path) if isinstance(item, h5py.Dataset) else None)
assert sorted(paths) == sorted(tensors), (sorted(paths), sorted(tensors))
for path in paths:
    assert h5[path].dtype == tensors[path].dtype and np.array_equal(h5[path][:], tensors[path]), path
assert json.loads(meta["config"]) == json.loads(h5.attrs["config"]) and meta["family"] == h5.attrs["family"]
assert meta["gm_kind"] == "model" and "gm-convert" in meta["created_by"]
assert json.loads(meta["provenance"])["inputs"][0]["path"] == name + ".h5"
back = h5py.File("back_" + name + ".h5")
for path in paths:
    assert back[path].dtype == h5[path].dtype and back[path][:].tobytes() == h5[path][:].tobytes(), path
assert json.loads(back.attrs["config"]) == json.loads(h5.attrs["config"])
chain = json.loads(back.attrs["provenance"])["inputs"][0]
assert chain["path"] == name + ".safetensors" and chain["provenance"]["inputs"][0]["path"] == name + ".h5"
PY
  gm-sample $model.h5 -n 200 --steps 4 --seed 9 -o s_$model.h5 && gm-sample back_$model.h5 -n 200 --steps 4 --seed 9 \
    -o s_back_$model.h5 || fail "sampling $model"
  "$python" -c "import h5py, sys; a, b = (h5py.File(f)['x'][:] for f in sys.argv[1:]); assert a.tobytes() == b.tobytes()" \
    s_$model.h5 s_back_$model.h5 && pass "$model: the round-tripped model samples identically" \
    || fail "$model: samples differ after the round trip"
done
expect_exit 0 gm-convert edm.safetensors --describe --json
"$python" - "$meta/out" <<'PY' && pass "--describe --json lists tensors, config and parameter counts" \
  || fail "describe: $(cat "$meta/out")"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["datasets"]["params/input.weight"] == {"shape": [16, 2], "dtype": "Float"}, d["datasets"]
assert d["attributes"]["family"] == "diffusion" and d["attributes"]["config"]["network"]["hidden"] == 16
assert d["parameters"]["params"] == d["parameters"]["ema"] > 0, d["parameters"]
PY
expect_exit 0 gm-convert edm.h5 --describe
[[ $(cat "$meta/out") == *"kind        model (diffusion)"* && $(cat "$meta/out") == *"params/input.weight"*"[16,2]"* \
  && $(cat "$meta/out") == *"elements in params"* ]] && pass "--describe prints a table" || fail "table: $(cat "$meta/out")"

# Malformed files: each one line naming the file, exit 1, no output.
"$python" - <<'PY' || fail "setup: malformed files"
import json, struct
def write(name, header, body, length=None):
    text = header if isinstance(header, bytes) else json.dumps(header).encode()
    open(name, "wb").write(struct.pack("<Q", len(text) if length is None else length) + text + body)
t = lambda dtype, shape, begin, end: {"dtype": dtype, "shape": shape, "data_offsets": [begin, end]}
write("past_eof.safetensors", {"a": t("F32", [1], 0, 4)}, b"\0" * 4, length=10**6)
write("out_of_range.safetensors", {"a": t("F32", [2], 0, 8)}, b"\0" * 4)
write("overlap.safetensors", {"a": t("F32", [2], 0, 8), "b": t("F32", [1], 4, 8)}, b"\0" * 8)
write("hole.safetensors", {"a": t("F32", [1], 0, 4), "b": t("F32", [1], 8, 12)}, b"\0" * 12)
write("trailing.safetensors", {"a": t("F32", [1], 0, 4)}, b"\0" * 6)
write("not_json.safetensors", b"{not json", b"")
write("mismatch.safetensors", {"a": t("F32", [3], 0, 8)}, b"\0" * 8)
write("dtype.safetensors", {"a": t("C64", [1], 0, 8)}, b"\0" * 8)
write("huge_shape.safetensors", {"a": t("F32", [2**40, 2**40], 0, 4)}, b"\0" * 4)
write("metadata.safetensors", {"__metadata__": {"n": 3}, "a": t("F32", [1], 0, 4)}, b"\0" * 4)
write("duplicate.safetensors", b'{"a": {"dtype": "U8", "shape": [1], "data_offsets": [0, 1]}, '
      b'"a": {"dtype": "U8", "shape": [1], "data_offsets": [1, 2]}}', b"\0\0")
write("foreign.safetensors", {"weight": t("F32", [1], 0, 4)}, b"\0" * 4)
open("short.safetensors", "wb").write(b"\1\2\3")
PY
for case in past_eof out_of_range overlap hole trailing not_json mismatch dtype huge_shape metadata duplicate \
  foreign short; do
  expect_exit 1 gm-convert $case.safetensors out_$case.h5
  expect_one_line_naming $case.safetensors
  [[ ! -e out_$case.h5 ]] || fail "$case: output left behind"
done
expect_exit 1 gm-convert grid.h5 grid.safetensors
expect_one_line_naming grid.h5
expect_exit 2 gm-convert edm.safetensors edm.png
[[ ! -e grid.safetensors && ! -e edm.png && -z $(ls -a | grep gm-tmp) ]] && pass "no stray outputs" \
  || fail "stray files: $(ls)"
finish
