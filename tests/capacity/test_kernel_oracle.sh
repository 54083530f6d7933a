#!/usr/bin/env bash
# capacity's lengths against the kernel's own compressors: lib/lzo/lzo1x_compress.c (byte for byte
# against our lzo/lzo-rle port) and lib/zlib_deflate (lengths against user-space zlib with the
# kernel's parameters), compiled in user space with a shim, on constructed pages and real files' pages.
# The kernel source: the first tree of SWAPBENCH_KERNEL_SRC (trees separated by ':') that has lib/lzo;
# else Debian's 6.12 source from the kernel cache, fetched there (only these files) when no earlier
# run left it (kernels-config/kmatrix/source_files.py). Never a skip: no source is a failure.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd); top=$(cd "$here/../.." && pwd)
need=(lib/lzo lib/zlib_deflate include/linux/zlib.h include/linux/zconf.h include/linux/zutil.h)
src=""
if [ -n "${SWAPBENCH_KERNEL_SRC:-}" ]; then
  IFS=: read -ra trees <<<"$SWAPBENCH_KERNEL_SRC"
  for t in "${trees[@]}"; do [ -f "$t/lib/lzo/lzo1x_compress.c" ] && { src=$t; break; }; done
  [ -n "$src" ] || { echo "FAIL: SWAPBENCH_KERNEL_SRC=$SWAPBENCH_KERNEL_SRC: no tree there has lib/lzo/lzo1x_compress.c (unset it to fetch Debian's 6.12 source)"; exit 1; }
  # Its C is compiled and run: as root, only from a tree root alone can change (analysis/environment.py).
  if [ "$(id -u)" -eq 0 ]; then
    why=$(/usr/bin/python3 -I -c 'import sys; sys.path.insert(0, sys.argv[1])
from analysis.environment import untrusted_reason; print(untrusted_reason(sys.argv[2], "cache") or "")' "$top" "$src")
    [ -z "$why" ] || { echo "FAIL: SWAPBENCH_KERNEL_SRC=$src: $why; as root, code is compiled and run only from a tree root alone can change"; exit 1; }
  fi
else
  src=$(PYTHONPATH="$top/kernels-config:$top" /usr/bin/python3 -m kmatrix source-files debian-6.12-source "${need[@]}") \
    || { echo "FAIL: no kernel source: Debian's linux-source-6.12 could not be fetched (see above; or set SWAPBENCH_KERNEL_SRC=DIR)"; exit 1; }
fi
for f in "${need[@]}"; do
  [ -e "$src/$f" ] || { echo "FAIL: $src has no $f"; exit 1; }
done
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
