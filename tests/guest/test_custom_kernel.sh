# A user's own kernel (source = "custom": an image, a lib/modules/<release> folder, a .config) is
# checked and booted like a Debian one. The "own build" here is Debian 6.12's files from the cache,
# named through a custom definition, so nothing has to be compiled. Also: a boot that overruns its
# hard timeout is killed, reported, and leaves no QEMU.
source "$(dirname "$0")/../privileged/lib.sh"
top=$(cd "$(dirname "$0")/../.." && pwd)
export SWAPBENCH_BIN="$bin" PYTHONPATH="$top/kernels-config:$top"
state >"$work/before"
$py -m kmatrix check --kernel debian-6.12 >"$work/check612" 2>&1 || { cat "$work/check612"; fail "check debian-6.12"; }
cfg=$(sed -n 's/.*; config \(.*\)$/\1/p' "$work/check612" | head -1)
root=${cfg%/boot/*}
rel=${cfg##*/config-}
cat >"$work/mine.toml" <<TOML
[kernel.mine]
source = "custom"
why = "test: Debian 6.12's files named as a user's own build"
image = "$root/boot/vmlinuz-$rel"
modules_dir = "$root/lib/modules/$rel"
config = "$cfg"
modules = ["virtio_blk", "lz4"]
TOML
$py -m kmatrix check --kernel mine --definitions "$work/mine.toml" >"$work/check" 2>&1 || { cat "$work/check"; fail "check --kernel mine"; }
grep -q "swapin-zswap *ok" "$work/check" || { cat "$work/check"; fail "custom config check"; }
$py -m kmatrix matrix --definitions "$work/mine.toml" --kernels mine --backend zswap --compressor lz4 --pages 512 \
  --repetitions 1 --boots 1 --no-ftrace --out "$work/res" >"$work/out" 2>&1 || { tail -30 "$work/out"; fail "matrix on mine"; }
$py - "$work"/res/mine-*.json <<'PY' || fail "custom result checks"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["context"]["swapbench"]["matrix"]["kernel"] == "mine"
assert all(b["swapbench"]["valid"] for b in d["benchmarks"]), [b["name"] for b in d["benchmarks"] if not b["swapbench"]["valid"]]
assert any(b["name"] == "swapin/zswap/lz4/ratio2/random" for b in d["benchmarks"])
PY
# A hard timeout shorter than any boot: killed, said, nothing left.
pgrep -f qemu-system >"$work/qemu-before" || true
$py -m kmatrix matrix --definitions "$work/mine.toml" --kernels mine --pages 512 --repetitions 1 --boots 1 \
  --timeout 3 --out "$work/res-timeout" >"$work/out-timeout" 2>&1
rc=$?
[ $rc -eq 1 ] || { cat "$work/out-timeout"; fail "timeout: exit $rc, expected 1"; }
grep -q "no result within 3 s.*(QEMU killed)" "$work/out-timeout" || { cat "$work/out-timeout"; fail "timeout not reported"; }
pgrep -f qemu-system >"$work/qemu-after" || true
diff -q "$work/qemu-before" "$work/qemu-after" >/dev/null || fail "QEMU left after the timeout"
expect_state "$work/before" "after the custom kernel and the timeout"
pass "a custom kernel definition checks and boots; a boot past its timeout is killed and reported"
