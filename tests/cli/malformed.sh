# Every tool on every file of tests/data/malformed (made by tests/data/make_malformed.py): exit 1
# with one line that names the file, never a crash, and no output.
source "$(dirname "$0")/lib.bash"

malformed=$GM_SOURCE_DIR/tests/data/malformed
gm-sample toy:grid25 -n 300 --seed 1 -o good.h5 || fail "setup"
gm-train diffusion --data good.h5 --steps 5 --batch 16 --hidden 8 --depth 1 -q -o teacher.h5 || fail "setup teacher"
check() {
  local file=$1
  shift
  expect_exit 1 "$@"
  expect_one_line_naming "$(basename "$file")"
  [[ $err != *"terminate called"* && $err != *"Exception"* && $err != *"c10::"* ]] || fail "leaked internals: $err"
}
for file in "$malformed"/data_*.h5; do
  check "$file" gm-train diffusion --data "$file" --steps 2 --batch 4 -o out.h5
  check "$file" gm-train gan --data "$file" --steps 2 --batch 4 -o out.h5
  check "$file" gm-distill consistency teacher.h5 --data "$file" --steps 2 --batch 4 -o out.h5
  check "$file" gm-eval "$file" --ref toy:grid25
  check "$file" gm-eval good.h5 --ref "$file"
  check "$file" gm-convert "$file" out.png
done
for file in "$malformed"/model_*.h5; do
  check "$file" gm-sample "$file" -n 4 --steps 2 -o out.h5
  check "$file" gm-distill consistency "$file" --data good.h5 --steps 2 --batch 4 -o out.h5
  check "$file" gm-distill progressive "$file" --data good.h5 --steps 2 --batch 4 --from-steps 4 --to-steps 2 -o out.h5
  check "$file" gm-convert "$file" out.safetensors
done
[[ ! -e out.h5 && ! -e out.png && ! -e out.safetensors && -z $(ls -a | grep gm-tmp) ]] && pass "no output from any of them" \
  || fail "outputs left: $(ls -a)"
finish
