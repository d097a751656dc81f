#!/usr/bin/env bash
# Runs CLI tests against the tools built with ASan and UBSan (clang, in build-fuzz/, the same
# configuration as scripts/fuzz.sh): by default the malformed-file and bad-input tests, so that
# every tool meets every malformed file with a sanitizer watching.
# Usage: scripts/asan-cli.sh [tests/cli/NAME.sh ...]
set -euo pipefail
cd "$(dirname "$0")/.."
tests=("$@")
((${#tests[@]})) || tests=(tests/cli/malformed.sh tests/cli/errors.sh)
source scripts/sanitized-build.bash
sanitized_build gm-train gm-distill gm-sample gm-eval gm-convert

tools=$PWD/build-fuzz/cmd
export PATH=$tools/gm-train:$tools/gm-distill:$tools/gm-sample:$tools/gm-eval:$tools/gm-convert:$PATH
export GM_SOURCE_DIR=$PWD GM_PYTHON=${GM_PYTHON:-/usr/bin/python3}
# A sanitizer report exits 99, which no test expects, so it fails the test it happens in. LibTorch's
# process-lifetime caches are not leaks worth reporting.
export ASAN_OPTIONS=detect_leaks=0:exitcode=99 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:exitcode=99
failed=0
for test in "${tests[@]}"; do
  if bash "$test" >"build-fuzz/cli-$(basename "$test" .sh).log" 2>&1; then
    echo "ok: $test under ASan+UBSan ($(grep -c '^ok:' "build-fuzz/cli-$(basename "$test" .sh).log") checks)"
  else
    echo "FAILED: $test under ASan+UBSan; see build-fuzz/cli-$(basename "$test" .sh).log" >&2
    failed=1
  fi
done
exit $failed
