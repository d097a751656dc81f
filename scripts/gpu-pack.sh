#!/usr/bin/env bash
# Gathers, on this Debian machine, what a GPU machine needs to build gm besides its own CUDA
# LibTorch: the headers, CMake configs and libraries of HDF5 (with every library it loads), fmt,
# stb, CLI11, nlohmann-json, zlib and GoogleTest, under gpu-deps/usr in Debian's layout. The
# folder travels to the GPU machine with the device tool's carry option; scripts/gpu-build.sh
# builds against it there. Usage: scripts/gpu-pack.sh   (after scripts/deps.sh test)
set -euo pipefail
cd "$(dirname "$0")/.."
rm -rf gpu-deps
root=gpu-deps/usr
lib=/usr/lib/x86_64-linux-gnu
mkdir -p "$root/lib/x86_64-linux-gnu" "$root/include" "$root/share/cmake"
copy() { for path in "$@"; do mkdir -p "$root/${path#/usr/}" && cp -a "$path/." "$root/${path#/usr/}/"; done; }
copy /usr/include/hdf5/serial /usr/include/CLI /usr/include/nlohmann /usr/include/fmt /usr/include/stb \
  /usr/include/gtest /usr/include/gmock /usr/share/cmake/CLI11 /usr/share/cmake/nlohmann_json $lib/cmake/fmt $lib/cmake/GTest
cp /usr/include/zlib.h /usr/include/zconf.h "$root/include/"
mkdir -p "$root/lib/x86_64-linux-gnu/hdf5/serial"
cp -a $lib/hdf5/serial/. "$root/lib/x86_64-linux-gnu/hdf5/serial/"
cp -a $lib/libhdf5_serial.so* $lib/libhdf5_serial_hl.so* $lib/libfmt.so* $lib/libstb.so* $lib/libz.so* $lib/libgtest*.a $lib/libgmock*.a \
  "$root/lib/x86_64-linux-gnu/"
# Every library those load but the C and C++ runtimes, which the GPU machine has in versions at
# least as new: it need not run Debian 12.
for so in $lib/libhdf5_serial.so $lib/libfmt.so $lib/libstb.so; do
  ldd "$so" | awk '$3 ~ /^\// { print $3 }'
done | sort -u | while read -r dep; do
  case $(basename "$dep") in
    libc.so* | libm.so* | libpthread.so* | libdl.so* | librt.so* | libresolv.so* | ld-linux* | libstdc++* | libgcc_s*) ;;
    *) cp -L "$dep" "$root/lib/x86_64-linux-gnu/$(basename "$dep")" ;;
  esac
done
echo "gpu-deps: $(du -sh gpu-deps | cut -f1); carry it with the device tool's carry: [\"gpu-deps\"]"
