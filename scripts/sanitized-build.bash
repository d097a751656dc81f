# Sourced by scripts/fuzz.sh and scripts/asan-cli.sh: builds the given targets with clang, ASan and
# UBSan (and libFuzzer's coverage) in build-fuzz/.
sanitized_build() {
  command -v clang++ >/dev/null || { echo "$(basename "$0"): needs clang (apt-get install clang)" >&2; exit 1; }
  CC=clang CXX=clang++ cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DGM_FUZZ=ON \
    -DGM_BUILD_TESTS=OFF >/dev/null
  cmake --build build-fuzz -j "$(nproc)" --target "$@"
}
