# The swap file: a file that already has its name is never removed (not by the run, not by
# restore); a bad --swap-dir or --swap-device is refused naming the path, and a file system too
# small for the swap file is found by its free space, never filled with zeros.
source "$(dirname "$0")/lib.sh"
state >"$work/before"
small=(run --backend disk --pages 256 --repetitions 1 --no-floors)

# The run's swap file name is swapbench-<pid>.swap: exec keeps this shell's pid for the run.
bash -c 'echo precious >/var/tmp/swapbench-$$.swap; echo $$ >'"$work/pid"'; exec "$0" "$@"' "$bin" "${small[@]}" \
  --out "$work/r.json" >"$work/out" 2>&1
rc=$?
mine=/var/tmp/swapbench-$(cat "$work/pid").swap
[ $rc -ne 0 ] || { rm -f "$mine"; fail "the run used a swap file that already existed"; }
grep -q "cannot create the swap file $mine: File exists" "$work/out" || { cat "$work/out"; rm -f "$mine"; fail "no clear refusal"; }
"$bin" restore >"$work/restore" 2>&1
[ "$(cat "$mine" 2>/dev/null)" = precious ] || { cat "$work/out" "$work/restore"; fail "$mine (not the suite's) was removed or changed"; }
rm -f "$mine"
expect_state "$work/before" "after a swap file name already taken"
echo "ok: an existing file of the swap file's name is left alone"

cp -p /etc/passwd "$work/passwd"
"$bin" "${small[@]}" --swap-dir /etc/passwd --out "$work/r.json" >"$work/out" 2>&1 && fail "--swap-dir /etc/passwd accepted"
grep -q "/etc/passwd is not a folder" "$work/out" || { cat "$work/out"; fail "--swap-dir /etc/passwd: no clear error"; }
cmp -s /etc/passwd "$work/passwd" || fail "/etc/passwd changed"
"$bin" "${small[@]}" --swap-device /dev/null --out "$work/r.json" >"$work/out" 2>&1 && fail "--swap-device /dev/null accepted"
grep -q "/dev/null is not a block device" "$work/out" || { cat "$work/out"; fail "--swap-device /dev/null: no clear error"; }
"$bin" restore >"$work/restore" 2>&1 || { rc=$?; cat "$work/restore"; fail "restore after bad swap input exited $rc"; }
expect_state "$work/before" "after bad --swap-dir / --swap-device"
echo "ok: bad --swap-dir and --swap-device refused, naming the path"

# A 64 MiB ext4 file system: too small for any swap file plus the margin.
truncate -s 64M "$work/fs.img" && mkfs.ext4 -q "$work/fs.img" && mkdir "$work/mnt" && mount -o loop "$work/fs.img" "$work/mnt" \
  || fail "cannot make the small test file system"
trap 'umount "$work/mnt" 2>/dev/null; rm -rf "$work"' EXIT
used_before=$(df --output=used "$work/mnt" | tail -1)
"$bin" "${small[@]}" --swap-dir "$work/mnt" --out "$work/r.json" >"$work/out" 2>&1 && fail "a swap file that cannot fit was accepted"
grep -q "$work/mnt has [0-9]* MiB free; a [0-9]* MiB swap file needs that plus 256 MiB" "$work/out" \
  || { cat "$work/out"; fail "the error does not name the folder, the free space and the size"; }
used_after=$(df --output=used "$work/mnt" | tail -1)
[ "$used_before" = "$used_after" ] || fail "the small file system was written to ($used_before -> $used_after KiB used)"
[ -z "$(ls "$work/mnt" | grep -v lost+found)" ] || fail "a file was left in the small file system"
umount "$work/mnt"
expect_state "$work/before" "after a swap dir too small"
echo "ok: not enough free space found before anything was written"
pass "swap file: never someone else's file, bad places refused with the path, free space checked first"
