# The SLURM recipes, run the way SLURM would on a machine without it: slurm-sample.sbatch as the
# tasks of a job array, and slurm-train.sbatch through a stand-in srun that starts the tasks with
# the variables srun sets. Their results match one process.
source "$(dirname "$0")/lib.bash"
recipes=$GM_SOURCE_DIR/share/gm/recipes

gm-sample toy:grid25 -n 4000 --seed 1 -o grid.h5 || fail "setup"
gm-train diffusion --data grid.h5 --steps 60 --batch 128 --seed 2 --threads 1 -q -o edm.h5 || fail "setup model"

# A job array of 3 writes the rows of one run; merged, they equal it.
for k in 0 1 2; do
  SLURM_ARRAY_TASK_ID=$k SLURM_ARRAY_TASK_COUNT=3 bash "$recipes/slurm-sample.sbatch" edm.h5 1000 parts --steps 4 -q \
    || fail "array task $k"
done
gm-convert merge parts/part-*.h5 -o merged.h5 -q || fail "merge"
gm-sample edm.h5 -n 1000 --seed 1 --steps 4 -q -o whole.h5 || fail "one run"
"$python" -c "
import h5py, numpy as np
a, b = h5py.File('merged.h5')['x'][:], h5py.File('whole.h5')['x'][:]
assert a.shape == b.shape and np.allclose(a, b, rtol=1e-5, atol=1e-5), abs(a - b).max()" \
  && pass "slurm-sample.sbatch: 3 array tasks merge into the rows of one run" || fail "merged rows differ"
expect_exit 1 env -u SLURM_ARRAY_TASK_ID bash "$recipes/slurm-sample.sbatch" edm.h5 1000 parts
[[ $err == *"--array"* ]] && pass "outside an array it says to submit with --array" || fail "stderr: $err"

# srun's stand-in: SLURM_NTASKS copies with SLURM_PROCID and SLURM_LOCALID; options dropped.
mkdir bin
cat >bin/srun <<'SH'
#!/bin/bash
while [[ $1 == --* ]]; do shift; done
pids=()
for ((task = 0; task < SLURM_NTASKS; ++task)); do SLURM_PROCID=$task SLURM_LOCALID=$task "$@" & pids+=($!); done
code=0
for pid in "${pids[@]}"; do wait "$pid" || code=$?; done
exit $code
SH
chmod +x bin/srun
slurm=(env PATH="$PWD/bin:$PATH" SLURM_NTASKS=2 SLURM_NTASKS_PER_NODE=2 SLURM_JOB_NODELIST=localhost
  SLURM_JOB_ID=$((RANDOM % 20000)) SLURM_JOB_NAME=gm-train)
job=(gm-train diffusion --data grid.h5 --batch 256 --seed 3 -q)
"${job[@]}" --steps 150 --threads 1 -o single.h5 || fail "one process"
"${slurm[@]}" CHECKPOINT_EVERY=50 bash "$recipes/slurm-train.sbatch" dp.h5 "${job[@]}" --steps 150 || fail "slurm-train.sbatch"
"$python" - <<'PY' && pass "slurm-train.sbatch: 2 tasks match one process to 1e-5" || fail "2 tasks differ"
import h5py, numpy as np
a, b = h5py.File("single.h5"), h5py.File("dp.h5")
diff = np.sqrt(sum(float(((a["params"][n][:] - b["params"][n][:]) ** 2).sum()) for n in a["params"]))
norm = np.sqrt(sum(float((a["params"][n][:] ** 2).sum()) for n in a["params"]))
assert diff <= 1e-5 * norm, diff / norm
assert "resume" not in b
PY
# A checkpoint left by a stopped run (as the time-limit signal leaves one) is picked up: the job
# resumes it and finishes.
"${job[@]}" --threads 1 --steps 100000 --checkpoint-every 20 -o stopped.h5 &
pid=$!
for _ in $(seq 100); do [[ -e stopped.h5 ]] && break; sleep 0.1; done
kill -TERM $pid
wait $pid
"${slurm[@]}" bash "$recipes/slurm-train.sbatch" stopped.h5 "${job[@]}" --steps 400 2>"$meta/err" \
  || fail "resuming: $(cat "$meta/err")"
grep -q "resuming from stopped.h5" "$meta/err" && "$python" -c "
import h5py, json
f = h5py.File('stopped.h5')
assert 'resume' not in f and json.loads(f.attrs['config'])['trained_steps'] == 400" \
  && pass "slurm-train.sbatch resumes a checkpoint it finds and finishes it" || fail "no resume: $(cat "$meta/err")"
finish
