# Checkpoints and exact resume: a training killed with kill -9 at random points leaves a valid
# checkpoint, and resuming from it ends with /params bit-identical to an uninterrupted run; SIGINT
# writes a checkpoint and exits 130.
source "$(dirname "$0")/lib.bash"

gm-sample toy:grid25 -n 5000 --seed 1 -o grid.h5 || fail "setup"
train=(gm-train diffusion --data grid.h5 --steps 6000 --batch 64 --hidden 32 --depth 1 --checkpoint-every 200
  --log-every 50 --seed 3)
same_params() {
  "$python" - "$1" "$2" <<'PY'
import h5py, sys
a, b = (h5py.File(p) for p in sys.argv[1:])
for group in [g for g in ("params", "ema") if g in a]:  # a GAN has no EMA
    for name in a[group]:
        assert a[group][name][:].tobytes() == b[group][name][:].tobytes(), (group, name)
for name in a["history"]:
    assert a["history"][name][:].tobytes() == b["history"][name][:].tobytes(), name
assert "resume" not in b
PY
}
start=$SECONDS
"${train[@]}" -q -o full.h5 || fail "the uninterrupted run"
run_seconds=$((SECONDS - start + 1))

for trial in 1 2 3 4 5; do
  rm -f ckpt.h5
  "${train[@]}" -q -o ckpt.h5 2>/dev/null &  # the tool itself, so that kill -9 reaches it
  pid=$!
  # Killed at a random moment after its first checkpoint.
  for _ in $(seq 200); do [[ -e ckpt.h5 ]] && break; sleep 0.05; done
  sleep "$("$python" -c "import random; print(round(random.uniform(0, $run_seconds * 0.3), 2))")"
  kill -9 $pid 2>/dev/null
  wait $pid 2>/dev/null
  if [[ -e ckpt.h5 ]]; then
    "$python" -c "import h5py; f = h5py.File('ckpt.h5'); assert f.attrs['gm_kind'] == 'model' and 'params' in f" \
      || fail "trial $trial: the file left behind is not a valid model"
    resume=(--resume ckpt.h5)
    "$python" -c "import h5py; assert 'resume' in h5py.File('ckpt.h5')" 2>/dev/null || resume=()  # it had finished
  else
    resume=()  # killed before the first checkpoint, which the wait above makes rare
  fi
  "${train[@]}" -q "${resume[@]}" -o ckpt.h5 || fail "trial $trial: resuming"
  same_params full.h5 ckpt.h5 && pass "trial $trial: killed and resumed (${resume[*]:-from scratch}), bit-identical" \
    || fail "trial $trial: the resumed run differs"
done
# kill -9 leaves the killed writer's temporary file; the next writer of that target removes it.
ls -a | grep -q gm-tmp && fail "temporary files left: $(ls -a)" || pass "no temporary files left by the killed runs"

# SIGINT: a checkpoint, then exit 130; a resume from it matches the straight run, for every
# trainer that resumes.
gm-train diffusion --data grid.h5 --steps 300 --batch 64 --hidden 32 --depth 1 --seed 3 -q -o teacher.h5 \
  || fail "setup teacher"
interrupt_and_resume() {
  local name=$1
  shift
  rm -f $name.h5
  # 8 s: long enough to be training by then, even on a loaded machine.
  timeout --preserve-status -s INT 8 "$@" --steps 10000000 -o $name.h5 2>"$meta/err"
  local code=$?
  [[ $code == 130 ]] && pass "$name: SIGINT exits 130" || fail "$name: SIGINT exit code $code"
  grep -q "continue with --resume $name.h5" "$meta/err" && pass "$name: it says how to continue" \
    || fail "$name: stderr: $(cat "$meta/err")"
  local steps
  steps=$("$python" -c "import h5py; print(int(h5py.File('$name.h5')['resume/loop.step'][()]) + 130)") \
    || { fail "$name: no checkpoint after SIGINT"; return; }
  "$@" --steps $steps -q -o ${name}_straight.h5 && "$@" --steps $steps -q --resume $name.h5 -o $name.h5 \
    || fail "$name: resume after SIGINT"
  same_params ${name}_straight.h5 $name.h5 && pass "$name: resumed after SIGINT, bit-identical" \
    || fail "$name: resume after SIGINT differs"
}
interrupt_and_resume int gm-train diffusion --data grid.h5 --batch 64 --hidden 32 --depth 1 --log-every 50 --seed 3
interrupt_and_resume gan gm-train gan --data grid.h5 --batch 64 --hidden 32 --depth 1 --log-every 50 --seed 3
interrupt_and_resume cm gm-distill consistency teacher.h5 --data grid.h5 --batch 64 --log-every 50 --seed 3

# Progressive distillation: killed in its second round, resumed with the round's teacher.
pd=(gm-distill progressive teacher.h5 --data grid.h5 --from-steps 8 --to-steps 2 --steps 6000 --batch 64
  --checkpoint-every 250 --log-every 50 --seed 3)
"${pd[@]}" -q -o pd_straight.h5 || fail "progressive: the uninterrupted run"
"${pd[@]}" -q -o pd.h5 2>/dev/null &
pid=$!
for _ in $(seq 600); do
  "$python" -c "import h5py, sys; sys.exit(0 if h5py.File('pd.h5')['resume/progressive.round'][()] == 1 else 1)" \
    2>/dev/null && break
  sleep 0.05
done
kill -9 $pid 2>/dev/null
wait $pid 2>/dev/null
"$python" -c "import h5py; assert h5py.File('pd.h5')['resume/progressive.round'][()] == 1" \
  && pass "progressive: killed with a checkpoint in round 2" || fail "progressive: no round-2 checkpoint"
"${pd[@]}" -q --resume pd.h5 -o pd.h5 || fail "progressive: resuming"
same_params pd_straight.h5 pd.h5 && pass "progressive: resumed in round 2, bit-identical" \
  || fail "progressive: the resumed run differs"
"$python" -c "
import h5py, json
a, b = (json.loads(h5py.File(p).attrs['config'])['distillation']['rounds'] for p in ('pd_straight.h5', 'pd.h5'))
assert a == b, (a, b)" && pass "progressive: the rounds' record matches" || fail "progressive: rounds differ"

# A second signal ends the job at once (143 for SIGTERM, which a background job does not ignore),
# during a step of about half a second: the last good checkpoint stays, and no temporary file.
gm-train diffusion --data grid.h5 --hidden 1024 --depth 4 --batch 4096 --checkpoint-every 2 --steps 100000 -q \
  -o second.h5 2>"$meta/err" &
pid=$!
for _ in $(seq 600); do [[ -e second.h5 ]] && break; sleep 0.05; done
kill -TERM $pid
sleep 0.1
kill -TERM $pid 2>/dev/null
wait $pid
code=$?
[[ $code == 143 ]] && pass "second SIGTERM exits 143" || fail "second SIGTERM exit code $code; stderr: $(cat "$meta/err")"
"$python" -c "import h5py; assert int(h5py.File('second.h5')['resume/loop.step'][()]) % 2 == 0" \
  && pass "the last good checkpoint survives a second signal" || fail "second.h5 is not a checkpoint"
ls -a | grep -q gm-tmp && fail "a second signal left a temporary file: $(ls -a)" || pass "no temporary file after a second signal"

expect_exit 1 gm-train diffusion --data grid.h5 --steps 100 --resume full.h5 -o x.h5
expect_one_line_naming "full.h5: holds no resume state"
expect_exit 1 gm-train diffusion --data grid.h5 --steps 100 --hidden 8 --resume int.h5 -o x.h5
expect_one_line_naming "int.h5"
expect_exit 1 gm-distill progressive teacher.h5 --data grid.h5 --steps 10 --resume int.h5 -o x.h5
expect_one_line_naming "int.h5: is not a checkpoint of progressive distillation"
finish
