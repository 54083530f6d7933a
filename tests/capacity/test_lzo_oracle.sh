#!/usr/bin/env bash
# The lzo/lzo-rle port against the kernel's own compressor: lib/lzo/lzo1x_compress.c from the
# kernel sources the suite keeps (kernels-config fetches them; SWAPBENCH_KERNEL_SRC overrides),
# compiled in user space with a shim, byte-compared on constructed pages and real files' pages.
# Exit 77 (skip) when no kernel source is there.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd); top=$(cd "$here/../.." && pwd)
src=${SWAPBENCH_KERNEL_SRC:-}
if [ -z "$src" ]; then
  for d in /var/cache/swapbench/kernels/src/*/linux-source-*; do [ -f "$d/lib/lzo/lzo1x_compress.c" ] && src=$d; done
fi
if [ -z "$src" ] || [ ! -f "$src/lib/lzo/lzo1x_compress.c" ]; then
  echo "skip: no kernel source with lib/lzo (set SWAPBENCH_KERNEL_SRC=DIR, or fetch one: ./swapbench matrix does)"; exit 77
fi
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
mkdir -p "$work/linux"
for h in module kernel unaligned lzo; do echo '#include "kernel_shim.h"' > "$work/linux/$h.h"; done
mkdir -p "$work/asm"; echo '#include "kernel_shim.h"' > "$work/asm/unaligned.h"
gcc -O2 -w -include "$here/shim/kernel_shim.h" -I"$work" -I"$here/shim" -I"$src/lib/lzo" -c "$src/lib/lzo/lzo1x_compress.c" -o "$work/k.o"
g++ -O2 -std=c++20 -I"$top" "$here/oracle_main.cpp" "$top/workloads/capacity/kernel_lzo.cpp" "$work/k.o" -o "$work/oracle"
echo "kernel source: $src"
"$work/oracle" /usr/bin/bash /usr/lib/x86_64-linux-gnu/libc.so.6 "${@}"
