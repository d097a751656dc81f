# Streaming: gm-sample and gm-convert work a chunk at a time, so their peak memory does not grow
# with the rows they write or the size of the files they copy. Each tool's peak resident memory
# on a 5,000,000-row file (80 MB of /x) stays within 12 MB of its peak on a 100,000-row one.
source "$(dirname "$0")/lib.bash"

# peak_kb COMMAND...: the command's peak resident memory in KB (its own process, from rusage).
peak_kb() {
  "$python" -c "
import resource, subprocess, sys
subprocess.run(sys.argv[1:], check=True)
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)" "$@"
}
# flat NAME SMALL_KB LARGE_KB
flat() {
  local growth=$((($3 - $2) / 1024))
  ((growth <= 12)) && pass "$1: peak grew $growth MB from 100k to 5M rows" || fail "$1: peak grew $growth MB ($2 KB -> $3 KB)"
}

small=$(peak_kb gm-sample toy:grid25 -n 100000 --seed 1 -q -o small.h5) || fail "gm-sample small"
large=$(peak_kb gm-sample toy:grid25 -n 5000000 --seed 1 -q -o large.h5) || fail "gm-sample large"
flat "gm-sample" "$small" "$large"
for out in npy npz h5; do
  s=$(peak_kb gm-convert small.h5 small_copy.$out -q) || fail "gm-convert small .$out"
  l=$(peak_kb gm-convert large.h5 large_copy.$out -q) || fail "gm-convert large .$out"
  flat "gm-convert to .$out" "$s" "$l"
done
for k in 0 1; do gm-sample toy:grid25 -n 5000000 --seed 1 --shard $k/2 -q -o part$k.h5 || fail "shard $k"; done
gm-sample toy:grid25 -n 100000 --seed 1 --shard 0/2 -q -o small0.h5 && gm-sample toy:grid25 -n 100000 --seed 1 --shard 1/2 -q -o small1.h5
s=$(peak_kb gm-convert merge small0.h5 small1.h5 -o small_merged.h5 -q) || fail "merge small"
l=$(peak_kb gm-convert merge part0.h5 part1.h5 -o merged.h5 -q) || fail "merge large"
flat "gm-convert merge" "$s" "$l"

# What was streamed is whole, for NumPy and h5py.
"$python" - <<'PY' && pass "the streamed .npy, .npz, .h5 and merge hold every row" || fail "streamed outputs differ"
import h5py, numpy as np, zipfile
f = h5py.File("large.h5")
x, y = f["x"][:], f["y"][:]
assert np.array_equal(np.load("large_copy.npy"), x)
z = np.load("large_copy.npz")
assert np.array_equal(z["x"], x) and np.array_equal(z["y"], y)
assert zipfile.ZipFile("large_copy.npz").testzip() is None
c = h5py.File("large_copy.h5")
assert np.array_equal(c["x"][:], x) and np.array_equal(c["y"][:], y)
assert sorted(c["x"].attrs) == sorted(f["x"].attrs)
assert all(np.array_equal(c["x"].attrs[k], f["x"].attrs[k]) for k in f["x"].attrs)
assert np.array_equal(h5py.File("merged.h5")["x"][:], x)
PY
finish
