# Shared by the CLI tests: a scratch folder, and checks that print what went wrong.
set -u
work=$(mktemp -d "${TMPDIR:-/tmp}/gm-cli-XXXXXX")
meta=$(mktemp -d "${TMPDIR:-/tmp}/gm-cli-meta-XXXXXX")  # captured output, kept out of $work
trap 'rm -rf "$work" "$meta"' EXIT
cd "$work" || exit 1
failures=0
python=${GM_PYTHON:-/usr/bin/python3}

fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }
pass() { echo "ok: $*"; }

# expect_exit CODE command...: runs the command, checks its exit code, keeps stderr in $err.
expect_exit() {
  local want=$1; shift
  "$@" >"$meta/out" 2>"$meta/err"
  local got=$?
  err=$(cat "$meta/err")
  if [[ $got == "$want" ]]; then pass "$* -> $got"; else fail "$* exited $got, expected $want; stderr: $err"; fi
}

# expect_one_line_naming TEXT: the last stderr holds exactly one line that mentions TEXT.
expect_one_line_naming() {
  local lines
  lines=$(printf '%s\n' "$err" | grep -c .)
  if [[ $lines == 1 && $err == *"$1"* ]]; then pass "one-line error naming $1"; else fail "error was not one line naming $1: $err"; fi
}

finish() {
  if ((failures)); then echo "$failures check(s) failed" >&2; exit 1; fi
  echo "all checks passed"
}
