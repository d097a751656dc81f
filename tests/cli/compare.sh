# gm-eval --compare: one row per samples file, as a table, as JSON, and as a chart.
source "$(dirname "$0")/lib.bash"

gm-sample toy:grid25 -n 3000 --seed 1 -o grid.h5 || fail "setup"
gm-train gan --data grid.h5 --steps 30 --batch 64 --hidden 16 --depth 1 -o gan.h5 -q || fail "setup gan"
gm-train diffusion --data grid.h5 --steps 30 --batch 64 --hidden 16 --depth 1 -o edm.h5 -q || fail "setup edm"
gm-sample gan.h5 -n 200 -o s_gan.h5 && gm-sample edm.h5 -n 200 --steps 3 -o s_edm.h5 || fail "setup samples"

expect_exit 0 gm-eval --compare s_gan.h5 s_edm.h5 grid.h5 --ref toy:grid25
table=$(cat "$meta/out")
[[ $(grep -c '^s_gan.h5 \|^s_edm.h5 \|^grid.h5 ' <<<"$table") == 3 && $table == *"NFE"* && $table == *"modes"* ]] \
  && pass "table has a row per file and the three groups of columns" || fail "table: $table"
grep -q '^s_edm.h5 .*| *5 ' <<<"$table" && pass "heun with 3 steps shows 5 NFE" || fail "NFE column: $table"

expect_exit 0 gm-eval --compare s_gan.h5 s_edm.h5 --ref toy:grid25 --json
"$python" - "$meta/out" <<'PY' && pass "--compare --json is an array of metric objects" || fail "compare JSON"
import json, sys
rows = json.load(open(sys.argv[1]))
assert [r["samples"] for r in rows] == ["s_gan.h5", "s_edm.h5"]
assert rows[0]["nfe"] == 1 and rows[1]["nfe"] == 5 and all("recall" in r and "modes" in r for r in rows)
PY

expect_exit 0 gm-eval --compare s_gan.h5 s_edm.h5 --ref toy:grid25 --plot chart.png
[[ $(head -c 8 chart.png | od -An -tx1 | tr -d ' \n') == 89504e470d0a1a0a ]] && pass "chart.png is a PNG" \
  || fail "chart.png is not a PNG"

# Without gnuplot on PATH: a clear one-line error and no chart.
tools=$(dirname "$(command -v gm-eval)")
expect_exit 1 env PATH="$tools" gm-eval --compare s_gan.h5 --ref toy:grid25 --plot nochart.png
expect_one_line_naming gnuplot
[[ ! -e nochart.png ]] && pass "no chart without gnuplot" || fail "nochart.png left behind"

expect_exit 2 gm-eval s_gan.h5 s_edm.h5 --ref toy:grid25
expect_exit 2 gm-eval s_gan.h5 --ref toy:grid25 --plot x.png
expect_exit 1 gm-eval --compare s_gan.h5 missing.h5 --ref toy:grid25
expect_one_line_naming missing.h5
finish
