#!/usr/bin/env bash
# Builds the fuzz targets with clang, libFuzzer, ASan and UBSan in build-fuzz/, then runs each
# for SECONDS (default 600), JOBS at a time (default: the cores). Each target starts from its
# kept corpus, fuzz/corpus/TARGET; new inputs that add coverage are merged back into it, and
# crashes are written to fuzz/crashes/TARGET/ (a crash to fix, then keep as a regression input).
# Usage: scripts/fuzz.sh [SECONDS] [TARGET ...]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-600}
shift || true
targets=("$@")
((${#targets[@]})) || targets=(safetensors torch_pt idx npy h5_schema)
jobs=${JOBS:-$(nproc)}

source scripts/sanitized-build.bash
sanitized_build $(printf 'gm-fuzz-%s ' "${targets[@]}")

# Readers may allocate at most 256 MiB per buffer (GM_MAX_BUFFER_MB), well under the fuzzer's
# 2 GiB malloc limit, so a hostile size is the reader's error, not an out-of-memory.
export GM_MAX_BUFFER_MB=256 OMP_NUM_THREADS=1
export ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
run_target() {
  local target=$1 fresh rc=0
  fresh=$(mktemp -d)
  mkdir -p "fuzz/corpus/$target" "fuzz/crashes/$target"
  build-fuzz/fuzz/gm-fuzz-"$target" "$fresh" "fuzz/corpus/$target" -max_total_time="$seconds" -timeout=20 \
    -rss_limit_mb=4096 -malloc_limit_mb=2048 -artifact_prefix="fuzz/crashes/$target/" -print_final_stats=1 \
    >"build-fuzz/$target.log" 2>&1 || rc=$?
  # Keep only the inputs that add coverage to the kept corpus.
  build-fuzz/fuzz/gm-fuzz-"$target" -merge=1 "fuzz/corpus/$target" "$fresh" >>"build-fuzz/$target.log" 2>&1 || true
  rm -rf "$fresh"
  local runs corpus
  runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "build-fuzz/$target.log" | tail -1 | grep -o '[0-9]*$' || true)
  corpus=$(find "fuzz/corpus/$target" -type f | wc -l)
  printf '%-12s exit %s  %s runs in %s s  corpus %s files  crashes %s\n' "$target" "$rc" "${runs:-?}" "$seconds" \
    "$corpus" "$(find "fuzz/crashes/$target" -type f | wc -l)"
  return $rc
}
failed=0
running=0
for target in "${targets[@]}"; do
  run_target "$target" &
  running=$((running + 1))
  if ((running >= jobs)); then wait -n || failed=1; running=$((running - 1)); fi
done
while ((running > 0)); do wait -n || failed=1; running=$((running - 1)); done
exit $failed
