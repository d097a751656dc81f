# gm-convert merge: the --shard K/N files of one run join into the unsharded file, and shards of
# different runs, missing or doubled shards are refused.
source "$(dirname "$0")/lib.bash"

gm-sample toy:grid25 -n 2000 --seed 1 -o grid.h5 || fail "setup"
gm-train diffusion --data grid.h5 --steps 30 --batch 64 --hidden 16 --depth 1 -o edm.h5 -q || fail "setup edm"
gm-sample edm.h5 -n 1001 --steps 3 --seed 5 -o whole.h5 || fail "setup whole"
for k in 0 1 2 3; do
  gm-sample edm.h5 -n 1001 --steps 3 --seed 5 --shard $k/4 -o part$k.h5 || fail "setup part $k"
done
gm-sample edm.h5 -n 1001 --steps 3 --seed 6 --shard 3/4 -o other_seed.h5 || fail "setup other seed"
gm-sample toy:grid25 -n 900 --seed 2 --shard 0/2 -o toy0.h5 && gm-sample toy:grid25 -n 900 --seed 2 --shard 1/2 -o toy1.h5 \
  && gm-sample toy:grid25 -n 900 --seed 2 -o toy.h5 || fail "setup toy shards"

expect_exit 0 gm-convert merge part2.h5 part0.h5 part3.h5 part1.h5 -o merged.h5
expect_exit 0 gm-convert merge toy1.h5 toy0.h5 -o toy_merged.h5
"$python" - <<'PY' && pass "merged shards equal the unsharded run: /z and /y byte for byte, /x to float rounding" || fail "merge differs"
import h5py, json, numpy as np
whole, merged = h5py.File("whole.h5"), h5py.File("merged.h5")
assert whole["z"][:].tobytes() == merged["z"][:].tobytes()
# The same noise through the same network; BLAS may round a row differently in a batch of another size.
assert np.allclose(whole["x"][:], merged["x"][:], rtol=1e-5, atol=1e-6)
assert merged.attrs["shard"] == "0/1" and merged.attrs["first_row"] == 0 and merged.attrs["nfe"] == whole.attrs["nfe"]
inputs = [i["path"] for i in json.loads(merged.attrs["provenance"])["inputs"]]
assert inputs == ["part0.h5", "part1.h5", "part2.h5", "part3.h5"], inputs
toy, joined = h5py.File("toy.h5"), h5py.File("toy_merged.h5")
for name in ("x", "y"):
    assert toy[name][:].tobytes() == joined[name][:].tobytes(), name
assert list(joined["y"].attrs["class_names"]) == list(toy["y"].attrs["class_names"])
PY
expect_exit 1 gm-convert merge part0.h5 part1.h5 part3.h5 -o m.h5
expect_one_line_naming "shards 2 of 4 are missing"
expect_exit 1 gm-convert merge part0.h5 part1.h5 part1.h5 part2.h5 part3.h5 -o m.h5
expect_one_line_naming "appears twice"
expect_exit 1 gm-convert merge part0.h5 part1.h5 part2.h5 other_seed.h5 -o m.h5
expect_one_line_naming "seed differs"
expect_exit 1 gm-convert merge part0.h5 toy1.h5 -o m.h5
expect_one_line_naming toy1.h5
expect_exit 2 gm-convert merge part0.h5 part1.h5
expect_exit 2 gm-convert merge part0.h5 -o m.h5
[[ ! -e m.h5 ]] && pass "no output after a refused merge" || fail "m.h5 left behind"
finish
