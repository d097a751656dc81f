# Bad input: one-line errors naming the file, exit 1, and no output left behind.
source "$(dirname "$0")/lib.bash"

gm-sample toy:grid25 -n 100 -o g.h5 || fail "setup"
expect_exit 1 gm-eval nonexistent.h5 --ref g.h5
expect_one_line_naming nonexistent.h5
expect_exit 1 gm-eval g.h5 --ref nonexistent.h5
expect_one_line_naming nonexistent.h5

head -c 4096 /dev/urandom >junk.h5
expect_exit 1 gm-convert junk.h5 out.safetensors
expect_one_line_naming junk.h5
[[ ! -e out.safetensors ]] && pass "no out.safetensors" || fail "out.safetensors left behind"
expect_exit 1 gm-convert junk.h5 out.h5
[[ -z $(ls -A | grep -v -e '^g.h5$' -e '^junk.h5$') ]] && pass "folder holds only the inputs" || fail "stray files: $(ls -A)"

# A valid HDF5 file that is not a gm file.
"$python" -c "import h5py; h5py.File('plain.h5', 'w')['x'] = [1.0]"
expect_exit 1 gm-eval plain.h5 --ref g.h5
expect_one_line_naming plain.h5

# Shapes that do not match the reference.
"$python" - <<'PY'
import h5py, numpy as np
with h5py.File("three.h5", "w") as f:
    for k, v in h5py.File("g.h5").attrs.items(): f.attrs[k] = v
    f["x"] = np.zeros((10, 3), np.float32)
PY
expect_exit 1 gm-eval three.h5 --ref g.h5
expect_one_line_naming three.h5

# -o naming an input is refused and the input survives.
before=$(sha256sum g.h5)
expect_exit 2 gm-convert g.h5 g.h5
[[ $(sha256sum g.h5) == "$before" ]] && pass "input untouched" || fail "g.h5 changed"

# A read-only folder: exit 1, nothing written.
mkdir ro && chmod 555 ro
if [[ $(id -u) != 0 ]]; then
  expect_exit 1 gm-sample toy:ring8 -n 10 -o ro/x.h5
  expect_one_line_naming ro/x.h5
fi
chmod 755 ro

# A full disk: /dev/full fails every write.
if [[ -w /dev/full ]]; then
  gm-sample toy:ring8 -n 10 -o - >/dev/full 2>"$meta/err"
  [[ $? == 1 && $(cat "$meta/err") == *"No space left"* ]] && pass "full disk is a one-line error" \
    || fail "writing to /dev/full: $(cat "$meta/err")"
fi

# Interrupted sampling leaves no file: SIGTERM once the output is being written, then SIGINT.
gm-sample toy:grid25 -n 50000000 --chunk 1000 -o big.h5 2>/dev/null &
pid=$!
for _ in $(seq 100); do compgen -G '.big.h5.gm-tmp-*' >/dev/null && break; sleep 0.2; done
kill -TERM $pid
wait $pid
code=$?
[[ $code == 143 ]] && pass "SIGTERM exits 143" || fail "SIGTERM exit code $code"
timeout --preserve-status -s INT 3 gm-sample toy:grid25 -n 50000000 --chunk 1000 -o big.h5 2>/dev/null
code=$?
[[ $code == 130 ]] && pass "SIGINT exits 130" || fail "SIGINT exit code $code"
[[ -z $(ls -A | grep -e big -e gm-tmp) ]] && pass "no partial output after the signals" || fail "left: $(ls -A)"
finish
