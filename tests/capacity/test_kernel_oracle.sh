#!/usr/bin/env bash
# capacity's lengths against the kernel's own compressors: lib/lzo/lzo1x_compress.c (byte for byte
# against our lzo/lzo-rle port) and lib/zlib_deflate (lengths against user-space zlib with the
# kernel's parameters), from the kernel sources the suite keeps (SWAPBENCH_KERNEL_SRC overrides),
# compiled in user space with a shim, on constructed pages and real files' pages.
# Exit 77 (skip) when no kernel source is there.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd); top=$(cd "$here/../.." && pwd)
src=${SWAPBENCH_KERNEL_SRC:-}
# Its C is compiled and run: as root, only from a tree root alone can change (analysis/environment.py).
if [ -n "$src" ] && [ "$(id -u)" -eq 0 ]; then
  why=$(/usr/bin/python3 -I -c 'import sys; sys.path.insert(0, sys.argv[1])
from analysis.environment import untrusted_reason; print(untrusted_reason(sys.argv[2], "cache") or "")' "$top" "$src")
  [ -z "$why" ] || { echo "FAIL: SWAPBENCH_KERNEL_SRC=$src: $why; as root, code is compiled and run only from a tree root alone can change"; exit 1; }
fi
if [ -z "$src" ]; then
  for d in /var/cache/swapbench/kernels/src/*/linux-source-*; do [ -f "$d/lib/lzo/lzo1x_compress.c" ] && src=$d; done
fi
if [ -z "$src" ] || [ ! -f "$src/lib/lzo/lzo1x_compress.c" ] || [ ! -f "$src/lib/zlib_deflate/deflate.c" ]; then
  echo "skip: no kernel source with lib/lzo (set SWAPBENCH_KERNEL_SRC=DIR, or fetch one: ./swapbench matrix does)"; exit 77
fi
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
mkdir -p "$work/linux"
for h in module kernel unaligned lzo bitrev init string; do echo '#include "kernel_shim.h"' > "$work/linux/$h.h"; done
cp "$src/include/linux/zlib.h" "$src/include/linux/zconf.h" "$src/include/linux/zutil.h" "$work/linux/"
mkdir -p "$work/asm"; echo '#include "kernel_shim.h"' > "$work/asm/unaligned.h"
gcc -O2 -w -include "$here/shim/kernel_shim.h" -I"$work" -I"$here/shim" -I"$src/lib/lzo" -c "$src/lib/lzo/lzo1x_compress.c" -o "$work/k.o"
for f in deflate deftree; do
  gcc -O2 -w -include "$here/shim/kernel_shim.h" -I"$work" -I"$here/shim" -c "$src/lib/zlib_deflate/$f.c" -o "$work/z$f.o"
done
gcc -O2 -w -include "$here/shim/kernel_shim.h" -I"$work" -I"$here/shim" -c "$here/kernel_deflate.c" -o "$work/kd.o"
g++ -O2 -std=c++20 -I"$top" "$here/oracle_main.cpp" "$top/bench/capacity/kernel_lzo.cpp" \
  "$top/bench/capacity/page_codec.cpp" "$work/k.o" "$work/kd.o" "$work/zdeflate.o" "$work/zdeftree.o" \
  $(pkg-config --libs zlib liblz4 libzstd) -o "$work/oracle"
echo "kernel source: $src"
"$work/oracle" /usr/bin/bash /usr/lib/x86_64-linux-gnu/libc.so.6 "${@}"
