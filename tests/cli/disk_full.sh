# A full disk: writing into a 1 MB tmpfs that fills up exits 1 with one line, leaves no output
# and no temporary file, and leaves the input untouched. A read-only mount (which stops root too,
# unlike a folder's mode bits) exits 1 the same way.
source "$(dirname "$0")/lib.bash"

gm-sample toy:grid25 -n 2000 --seed 1 -o grid.h5 && gm-sample toy:grid25 -n 100000 --seed 1 -o big_input.h5 \
  || fail "setup"
sum=$(sha256sum big_input.h5)
cat > body.sh <<'BODY'
mkdir -p small && mount -t tmpfs -o size=1m tmpfs small || exit 99
run() { local name=$1; shift; "$@" >/dev/null 2>"$name.err"; echo $? >"$name.code"; ls -A small >"$name.left"; }
run sample gm-sample toy:grid25 -n 2000000 --chunk 10000 -o small/big.h5
run train gm-train diffusion --data grid.h5 --steps 2 --batch 8 --hidden 512 --depth 2 -o small/model.h5
run convert gm-convert big_input.h5 small/copy.h5
umount small
mkdir -p ro && mount -t tmpfs -o size=1m,ro tmpfs ro || exit 99
run readonly gm-sample toy:ring8 -n 10 -o ro/x.h5
ls -A ro >readonly.left
umount ro
BODY
# As root, mount directly; without the right (or as root in a container that lacks it), in a
# user namespace of our own.
code=99
[[ $(id -u) == 0 ]] && { bash body.sh; code=$?; }
[[ $code == 99 ]] && { unshare --user --map-root-user --mount bash body.sh 2>/dev/null; code=$?; }
if [[ $code == 99 || ! -e sample.code ]]; then
  fail "cannot mount a 1 MB tmpfs here (as root or in a user namespace); the disk-full checks did not run"
else
  for name in sample train convert; do
    [[ $(cat $name.code) == 1 ]] && pass "$name: a full disk exits 1" || fail "$name: exit $(cat $name.code)"
    err=$(cat $name.err)
    expect_one_line_naming "small/"
    [[ $err != *gm-tmp* ]] && pass "$name: the error names the output, not its temporary file" || fail "$name: $err"
    [[ $err == *"No space left on device"* ]] && pass "$name: the error says the disk is full" \
      || fail "$name: $err"
  done
  [[ $(cat sample.left train.left convert.left) == "" ]] && pass "no output and no temporary file left" \
    || fail "left: $(cat sample.left train.left convert.left)"
  [[ $(sha256sum big_input.h5) == "$sum" ]] && pass "the input is untouched" || fail "the input changed"
  err=$(cat readonly.err)
  [[ $(cat readonly.code) == 1 ]] && pass "a read-only folder exits 1" || fail "read-only: exit $(cat readonly.code)"
  expect_one_line_naming "ro/x.h5"
  [[ $err == *"Read-only file system"* ]] && pass "the error says the file system is read-only" || fail "read-only: $err"
  [[ -z $(cat readonly.left) ]] && pass "nothing written to the read-only folder" || fail "left: $(cat readonly.left)"
fi
finish
