# Data-parallel training on torch c10d (Gloo): two processes launched the torchrun, SLURM and
# Open MPI way train one model that matches a single process with the same global batch; a
# dead, hung or missing peer ends every rank non-zero; a signal to one rank checkpoints both
# and the resumed run is bit-identical.
source "$(dirname "$0")/lib.bash"

gm-sample toy:grid25 -n 5000 --seed 1 -o grid.h5 || fail "setup"
train=(gm-train diffusion --data grid.h5 --steps 200 --batch 256 --seed 3 --threads 1 -q)
port=$((20000 + RANDOM % 20000))  # apart from concurrent runs of this test
next_port() { port=$((port + 1)); }

# close A B: every parameter group of model files A and B agrees to 1e-5 relative (L2 norm).
close() {
  "$python" - "$1" "$2" <<'PY'
import h5py, numpy as np, sys
a, b = (h5py.File(p) for p in sys.argv[1:])
for group in [g for g in ("params", "ema") if g in a]:
    diff = np.sqrt(sum(float(((a[group][n][:] - b[group][n][:]) ** 2).sum()) for n in a[group]))
    norm = np.sqrt(sum(float((a[group][n][:] ** 2).sum()) for n in a[group]))
    assert diff <= 1e-5 * norm, (group, diff / norm)
    print(f"{group}: relative difference {diff / norm:.2e}", file=sys.stderr)
PY
}
identical() {
  "$python" -c "
import h5py, sys
a, b = h5py.File('$1'), h5py.File('$2')
assert all(a['params'][n][:].tobytes() == b['params'][n][:].tobytes() for n in a['params'])"
}

# two_ranks LAUNCHER ARGS...: both ranks of a 2-process launch, with the launcher's variables.
two_ranks() {
  local launcher=$1 pids=() code=0
  shift
  next_port
  for rank in 0 1; do
    case $launcher in
      torchrun) env RANK=$rank WORLD_SIZE=2 LOCAL_RANK=$rank MASTER_ADDR=127.0.0.1 MASTER_PORT=$port "$@" & ;;
      slurm) env SLURM_PROCID=$rank SLURM_NTASKS=2 SLURM_LOCALID=$rank SLURM_JOB_NODELIST=localhost \
          SLURM_JOB_ID=$((port - 15000)) "$@" & ;;
      ompi) env OMPI_COMM_WORLD_RANK=$rank OMPI_COMM_WORLD_SIZE=2 OMPI_COMM_WORLD_LOCAL_RANK=$rank \
          OMPI_COMM_WORLD_LOCAL_SIZE=2 MASTER_PORT=$port "$@" & ;;
    esac
    pids+=($!)
  done
  for pid in "${pids[@]}"; do wait "$pid" || code=$?; done
  return $code
}

"${train[@]}" -o single.h5 || fail "the single-process run"
for launcher in torchrun slurm ompi; do
  two_ranks $launcher "${train[@]}" -o $launcher.h5 2>"$meta/err" || fail "$launcher: $(cat "$meta/err")"
  close single.h5 $launcher.h5 && pass "$launcher: 2 ranks match 1 process to 1e-5" \
    || fail "$launcher: 2 ranks differ from 1 process"
done
identical torchrun.h5 slurm.h5 && identical torchrun.h5 ompi.h5 && pass "the three launchers train the same model" \
  || fail "the launchers' models differ"
# torch's own torchrun: its agent serves the store, and the ranks join it as clients.
next_port
"$python" "$GM_SOURCE_DIR/tests/cli/torchrun.py" --nproc_per_node 2 --master_port $port --no_python "${train[@]}" \
  -o agent.h5 2>"$meta/err" || fail "torchrun: $(cat "$meta/err")"
identical torchrun.h5 agent.h5 && pass "torchrun --no_python trains the same model" || fail "torchrun differs"
"$python" -c "
import h5py
f = h5py.File('torchrun.h5')
assert f.attrs['gm_kind'] == 'model' and len(f['history/loss']) == 2" && pass "one model file with its curves" \
  || fail "torchrun.h5 is not a whole model"

# Every trainer and distiller slices the same way.
for job in "gm-train gan --data grid.h5 --hidden 32 --depth 1" \
  "gm-distill consistency single.h5 --data grid.h5" \
  "gm-distill progressive single.h5 --data grid.h5 --from-steps 4 --to-steps 2"; do
  read -ra cmd <<<"$job"
  name=${cmd[1]}
  "${cmd[@]}" --steps 40 --batch 128 --seed 4 --threads 1 -q -o ${name}_1.h5 || fail "$name alone"
  two_ranks torchrun "${cmd[@]}" --steps 40 --batch 128 --seed 4 --threads 1 -q -o ${name}_2.h5 || fail "$name on 2 ranks"
  close ${name}_1.h5 ${name}_2.h5 && pass "$name: 2 ranks match 1 process" || fail "$name: 2 ranks differ"
done

# Images: the class-conditional UNet (label dropout drawn for the whole batch) and the classifier.
"$python" - <<'PY'
import numpy as np
rng = np.random.default_rng(0)
np.save("ix.npy", rng.integers(0, 255, (64, 1, 28, 28)).astype(np.uint8))
np.save("iy.npy", rng.integers(0, 4, 64))
PY
gm-convert ix.npy --labels iy.npy images.h5 -q || fail "image setup"
for job in "gm-train diffusion --arch unet --width 8 --multipliers 1,2 --attention 7" "gm-train classifier --width 8 --features 16"; do
  read -ra cmd <<<"$job"
  name=${cmd[1]}_images
  "${cmd[@]}" --data images.h5 --steps 4 --batch 16 --seed 4 --threads 1 -q -o ${name}_1.h5 || fail "$name alone"
  two_ranks torchrun "${cmd[@]}" --data images.h5 --steps 4 --batch 16 --seed 4 --threads 1 -q -o ${name}_2.h5 \
    || fail "$name on 2 ranks"
  close ${name}_1.h5 ${name}_2.h5 && pass "$name: 2 ranks match 1 process" || fail "$name: 2 ranks differ"
done

# A dead peer: the survivor fails within 60 s and leaves no model.
long=(gm-train diffusion --data grid.h5 --steps 10000000 --batch 256 --threads 1 -q)
for victim in 0 1; do
  next_port
  env RANK=0 WORLD_SIZE=2 MASTER_ADDR=127.0.0.1 MASTER_PORT=$port "${long[@]}" -o dead.h5 2>"$meta/err0" &
  pids=($!)
  env RANK=1 WORLD_SIZE=2 MASTER_ADDR=127.0.0.1 MASTER_PORT=$port "${long[@]}" -o dead.h5 2>"$meta/err1" &
  pids+=($!)
  sleep 3
  kill -9 "${pids[$victim]}"
  survivor=$((1 - victim))
  start=$SECONDS
  wait "${pids[$survivor]}"
  code=$?
  waited=$((SECONDS - start))
  wait "${pids[$victim]}" 2>/dev/null
  [[ $code != 0 && $waited -le 60 ]] && pass "rank $victim killed: rank $survivor exited $code after ${waited} s" \
    || fail "rank $victim killed: rank $survivor exited $code after ${waited} s"
  grep -q "a peer is gone" "$meta/err$survivor" && [[ $(grep -c . "$meta/err$survivor") == 1 ]] \
    && pass "rank $survivor says so in one line" || fail "rank $survivor stderr: $(cat "$meta/err$survivor")"
  [[ ! -e dead.h5 ]] && pass "no model written" || fail "dead.h5 was written"
done

# A hung peer (stopped, sockets open) runs into --peer-timeout.
next_port
env RANK=0 WORLD_SIZE=2 MASTER_ADDR=127.0.0.1 MASTER_PORT=$port "${long[@]}" --peer-timeout 4 -o hung.h5 2>"$meta/err" &
leader=$!
env RANK=1 WORLD_SIZE=2 MASTER_ADDR=127.0.0.1 MASTER_PORT=$port "${long[@]}" --peer-timeout 4 -o hung.h5 2>/dev/null &
stopped=$!
sleep 3
kill -STOP $stopped
start=$SECONDS
wait $leader
code=$?
kill -9 $stopped
wait $stopped 2>/dev/null
[[ $code == 1 && $((SECONDS - start)) -le 30 ]] && pass "a hung peer: exit 1 after $((SECONDS - start)) s" \
  || fail "a hung peer: exit $code after $((SECONDS - start)) s: $(cat "$meta/err")"

# A peer that never starts.
next_port
start=$SECONDS
expect_exit 1 env RANK=0 WORLD_SIZE=2 MASTER_ADDR=127.0.0.1 MASTER_PORT=$port "${train[@]}" --peer-timeout 2 -o none.h5
[[ $((SECONDS - start)) -le 30 && $err == *"did not all connect within 2 s"* ]] && pass "a missing peer: $err" \
  || fail "a missing peer: $err"

# SIGTERM to one rank stops both at the same step; rank 0 checkpoints; the resumed run ends
# bit-identical to an uninterrupted 2-rank run.
sig=(gm-train diffusion --data grid.h5 --steps 4000 --batch 256 --hidden 64 --seed 5 --threads 1 --checkpoint-every 50 -q)
two_ranks torchrun "${sig[@]}" -o straight.h5 || fail "the uninterrupted 2-rank run"
next_port
env RANK=0 WORLD_SIZE=2 MASTER_ADDR=127.0.0.1 MASTER_PORT=$port "${sig[@]}" -o stopped.h5 &
leader=$!
env RANK=1 WORLD_SIZE=2 MASTER_ADDR=127.0.0.1 MASTER_PORT=$port "${sig[@]}" -o stopped.h5 &
other=$!
# Once the first checkpoint is there both ranks are training (a signal during the 0.4 s that
# LibTorch takes to load would end a rank before gm can defer it).
for _ in $(seq 600); do [[ -e stopped.h5 ]] && break; sleep 0.1; done
kill -TERM $other
wait $leader
code0=$?
wait $other
code1=$?
[[ $code0 == 143 && $code1 == 143 ]] && pass "SIGTERM to rank 1: both exit 143" || fail "exit codes $code0 and $code1"
"$python" -c "import h5py; assert 'resume' in h5py.File('stopped.h5')" && pass "rank 0 wrote a checkpoint" \
  || fail "no checkpoint after SIGTERM"
two_ranks torchrun "${sig[@]}" --resume stopped.h5 -o stopped.h5 || fail "resuming on 2 ranks"
identical straight.h5 stopped.h5 && pass "resumed on 2 ranks: bit-identical" || fail "the resumed run differs"

# Launcher variables that do not fit together are usage errors; one-process SLURM and Open MPI
# jobs are plain runs; tools that do not train ignore the launch.
expect_exit 2 env RANK=2 WORLD_SIZE=2 MASTER_ADDR=127.0.0.1 "${train[@]}" -o bad.h5
expect_one_line_naming "rank 2 is not below the world size 2"
expect_exit 2 env RANK=0 WORLD_SIZE=2 "${train[@]}" -o bad.h5
expect_one_line_naming "MASTER_ADDR"
expect_exit 2 env RANK=0 WORLD_SIZE=x MASTER_ADDR=127.0.0.1 "${train[@]}" -o bad.h5
expect_one_line_naming "WORLD_SIZE=x"
expect_exit 2 env RANK=0 WORLD_SIZE=2 MASTER_ADDR=127.0.0.1 "${train[@]/256/1}" -o bad.h5
expect_one_line_naming "each rank needs a row"
expect_exit 2 env RANK=0 WORLD_SIZE=2 MASTER_ADDR=127.0.0.1 "${train[@]}" --peer-timeout 0 -o bad.h5
[[ ! -e bad.h5 ]] && pass "no file from the refused runs" || fail "bad.h5 written"
expect_exit 0 env SLURM_PROCID=0 SLURM_NTASKS=1 "${train[@]}" -o slurm1.h5
identical single.h5 slurm1.h5 && pass "a one-task SLURM job trains alone" || fail "slurm1.h5 differs"
expect_exit 0 env RANK=1 WORLD_SIZE=2 MASTER_ADDR=127.0.0.1 gm-sample single.h5 -n 10 -o s.h5
finish
