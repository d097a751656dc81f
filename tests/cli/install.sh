# An installed gm works from its prefix alone: the tools find libgm through their RUNPATH and the
# shipped classifier under PREFIX/share/gm, with no build tree or environment to help.
source "$(dirname "$0")/lib.bash"

prefix=$work/prefix
cmake --install "$GM_BUILD_DIR" --prefix "$prefix" >/dev/null || fail "cmake --install failed"
clean() { env -i PATH=/usr/bin:/bin "$@"; }
for tool in gm-train gm-distill gm-sample gm-eval gm-convert; do
  expect_exit 0 clean "$prefix/bin/$tool" --version
done

"$python" -c "import numpy as np; np.save('a.npy', np.random.RandomState(0).randint(0, 256, (32, 1, 28, 28)).astype(np.uint8))"
expect_exit 0 clean "$prefix/bin/gm-convert" a.npy a.h5
expect_exit 0 clean "$prefix/bin/gm-eval" a.h5 --ref a.h5 --json
"$python" - "$meta/out" "$prefix" <<'PY' || fail "gm-eval did not use the installed classifier"
import json, sys
features = json.load(open(sys.argv[1]))["features"]
assert features == sys.argv[2] + "/share/gm/models/fmnist-classifier.h5", features
PY
finish
