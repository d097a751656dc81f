# What the benchmark scripts share: strict mode, the Python that stands in for the users' own
# scripts, a scratch folder to work in (removed at exit), and wall-clock timing.
set -euo pipefail
python=${GM_PYTHON:-/usr/bin/python3}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"

# seconds COMMAND...: runs the command, its stdout discarded, and prints its wall time in seconds.
seconds() {
  local start=$EPOCHREALTIME
  "$@" >/dev/null
  awk "BEGIN { print $EPOCHREALTIME - $start }"
}
