# --swap-device never destroys what a device holds (a zram device holding ext4 was once
# mkswap'd and the run exited 0). Reproduced as written, on devices this test makes itself (a
# zram device through hot_add, loop devices over files in its own folder), never on any other:
# - a device holding ext4, a partition table or someone's swap area is refused with exit 2 naming
#   it, by --swap-device and by SWAPBENCH_SWAP_DEVICE, and is intact afterwards;
# - --swap-device-wipe destroys it on purpose, says so, and leaves the device blank after the run;
# - a device mounted, open exclusively, a partition of a disk in use or a disk with a partition in
#   use is refused even with --swap-device-wipe;
# - a blank device is used, and left blank, so a second run (a guest's next pass) takes it again.
source "$(dirname "$0")/lib.sh"
state >"$work/before"
run=(run --backend disk --pages 1024 --repetitions 2 --no-floors --out "$work/r.json")

loops=() zrams=() mounted=() holder=
remove_devices() {
  [ -n "$holder" ] && kill "$holder" 2>/dev/null && wait "$holder" 2>/dev/null
  for m in "${mounted[@]}"; do umount "$m" 2>/dev/null; done
  for l in "${loops[@]}"; do losetup -d "$l" 2>/dev/null; done
  # Only the zram devices made here, and only while they still have the diskseq they were made with.
  for z in "${zrams[@]}"; do
    local n=${z%%:*} seq=${z#*:}
    [ "$(cat /sys/block/zram$n/diskseq 2>/dev/null)" = "$seq" ] || continue
    swapoff /dev/zram$n 2>/dev/null
    echo 1 >/sys/block/zram$n/reset
    echo "$n" >/sys/class/zram-control/hot_remove
  done
  loops=() zrams=() mounted=()
}
trap 'remove_devices; [ -n "${KEEP_WORK:-}" ] || rm -rf "$work"' EXIT

new_loop() {  # $1 = size, [$2 = partitions: a dos partition table with two]; sets $dev
  local f
  f=$(mktemp "$work/disk.XXXXXX") && truncate -s "$1" "$f" || return 1
  if [ -n "${2:-}" ]; then
    # Written by hand: no fdisk on a minimal system.
    $py - "$f" <<'PY' || return 1
import struct, sys
mbr = bytearray(512)
for i, (start, count) in enumerate([(2048, 100000), (102048, 100000)]):
    mbr[446 + 16 * i:462 + 16 * i] = struct.pack("<B3sB3sII", 0, b"\0\0\0", 0x83, b"\0\0\0", start, count)
mbr[510:512] = b"\x55\xaa"
with open(sys.argv[1], "r+b") as f:
    f.write(mbr)
PY
  fi
  dev=$(losetup --find --show ${2:+--partscan} "$f") || return 1
  loops+=("$dev")
}
signature() { blkid -p -o export "$1" 2>/dev/null | grep -E '^(TYPE|UUID|PTTYPE)=' | sort | tr '\n' ' '; }

# expect_refused DEVICE WORDS [run options...]: exit 2 naming WORDS, the device's signature unchanged.
expect_refused() {
  local dev=$1 words=$2
  shift 2
  local sig
  sig=$(signature "$dev")
  "$bin" "${run[@]}" "$@" >"$work/out" 2>&1
  local rc=$?
  [ $rc -eq 2 ] || { cat "$work/out"; fail "$dev holding $sig: exit $rc, not 2 ($*)"; }
  grep -q -- "$words" "$work/out" || { cat "$work/out"; fail "$dev: the refusal does not say '$words' ($*)"; }
  [ "$(signature "$dev")" = "$sig" ] || fail "$dev changed: was '$sig', now '$(signature "$dev")' ($*)"
}

# 1. The issue's reproduction: a 128 MiB zram device holding ext4 (with a file on it).
if [ -e /sys/class/zram-control/hot_add ]; then
  n=$(cat /sys/class/zram-control/hot_add) || fail "hot_add"
  zrams+=("$n:$(cat /sys/block/zram$n/diskseq)")
  echo 128M >/sys/block/zram$n/disksize
  zdev=/dev/zram$n
else
  echo "note: no zram here (fix: modprobe zram): the ext4 case runs on a loop device only"
  new_loop 128M || fail "losetup"
  zdev=$dev
fi
new_loop 256M || fail "losetup"
ldev=$dev
for dev in "$zdev" "$ldev"; do
  mkfs.ext4 -q -L precious "$dev" || fail "mkfs.ext4 $dev"
  mkdir -p "$work/mnt" && mount "$dev" "$work/mnt" && echo "the user's data" >"$work/mnt/file" && umount "$work/mnt" \
    || fail "cannot put a file on $dev"
done
uuid=$(blkid -p -s UUID -o value "$zdev")
expect_refused "$zdev" "holds ext4 (a file system, label precious, UUID $uuid)" --swap-device "$zdev"
grep -q -- "--swap-device-wipe" "$work/out" || { cat "$work/out"; fail "the refusal does not name the override"; }
SWAPBENCH_SWAP_DEVICE=$zdev expect_refused "$zdev" "holds ext4"
for dev in "$zdev" "$ldev"; do
  fsck.ext4 -n "$dev" >"$work/fsck" 2>&1 || { cat "$work/fsck"; fail "the ext4 on $dev is damaged"; }
  mount -o ro "$dev" "$work/mnt" || fail "the ext4 on $dev does not mount"
  [ "$(cat "$work/mnt/file")" = "the user's data" ] || { umount "$work/mnt"; fail "the file on $dev is gone"; }
  umount "$work/mnt"
done
echo "ok: a device holding ext4 refused (exit 2, named), by option and by SWAPBENCH_SWAP_DEVICE; ext4 intact"

# 2. Other signatures: a partition table, someone else's swap area.
new_loop 128M partitions || fail "losetup"
pdev=$dev
expect_refused "$pdev" "holds a dos partition table" --swap-device "$pdev"
new_loop 128M || fail "losetup"
sdev=$dev
mkswap -L theirs "$sdev" >/dev/null || fail "mkswap"
expect_refused "$sdev" "holds swap (a swap area, label theirs" --swap-device "$sdev"
echo "ok: a partition table and someone else's swap area refused, named"

# A swap area labelled as the suite's is its own only while a killed run's journal holds its UUID:
# then the run takes it (its start zeroes the header first); unjournalled, it is someone's copy.
mkswap -L swapbench -U 6d3c5f1e-0a4b-4c2d-9e8f-7a6b5c4d3e2f "$sdev" >/dev/null || fail "mkswap"
expect_refused "$sdev" "holds swap (a swap area, label swapbench, UUID 6d3c5f1e-0a4b-4c2d-9e8f-7a6b5c4d3e2f)" \
  --swap-device "$sdev"
plant_journal 999999 <<EOF2
{"id":1,"op":"swap_signature","path":"$sdev","original":"","extra":"6d3c5f1e-0a4b-4c2d-9e8f-7a6b5c4d3e2f","boot":"$(cat /proc/sys/kernel/random/boot_id)"}
EOF2
"$bin" "${run[@]}" --swap-device "$sdev" >"$work/out" 2>&1 || { rc=$?; cat "$work/out"; fail "a killed run's own swap area: exit $rc"; }
grep -q "zeroed the swap header swapbench wrote on $sdev" "$work/out" || { cat "$work/out"; fail "the killed run's header was not zeroed"; }
[ -z "$(signature "$sdev")" ] || fail "$sdev holds '$(signature "$sdev")' after the run"
echo "ok: a killed run's journalled swap area is the suite's own (taken, then left blank); an unjournalled copy is refused"

# 3. A device in use is refused even with the override, and stays as it was.
mount "$ldev" "$work/mnt" && mounted+=("$work/mnt") || fail "mount $ldev"
expect_refused "$ldev" "$ldev is mounted at $work/mnt (refused even with --swap-device-wipe)" --swap-device "$ldev" --swap-device-wipe
umount "$work/mnt" && mounted=()
$py -c 'import os, sys, time; fd = os.open(sys.argv[1], os.O_RDONLY | os.O_EXCL); print("held", flush=True); time.sleep(600)' \
  "$ldev" >"$work/held" &
holder=$!
for _ in $(seq 50); do grep -q held "$work/held" && break; sleep 0.1; done
expect_refused "$ldev" "$ldev is open exclusively by another program" --swap-device "$ldev" --swap-device-wipe
kill "$holder" && wait "$holder" 2>/dev/null
holder=
# A disk with two partitions: one mounted; the other partition and the disk are refused.
new_loop 128M partitions || fail "losetup --partscan"
ddev=$dev
for _ in $(seq 20); do [ -b "${ddev}p2" ] && break; sleep 0.1; done
if [ -b "${ddev}p2" ]; then
  mkfs.ext4 -q "${ddev}p1" && mount "${ddev}p1" "$work/mnt" && mounted+=("$work/mnt") || fail "mount ${ddev}p1"
  expect_refused "${ddev}p2" "${ddev}p2 is a partition of $ddev, a disk in use: ${ddev}p1 is mounted at $work/mnt" \
    --swap-device "${ddev}p2" --swap-device-wipe
  expect_refused "$ddev" "$ddev has a partition in use: its partition ${ddev}p1 is mounted at $work/mnt" \
    --swap-device "$ddev" --swap-device-wipe
  umount "$work/mnt" && mounted=()
  echo "ok: a partition of a disk in use and a disk with a partition in use refused with the override"
else
  # Seen on a Firecracker VM (Linux 6.18): a loop device's dos partitions never appear.
  echo "note: this kernel shows no partitions of $ddev (no msdos partition support?): partitions of a disk in use not tried"
fi
echo "ok: a device mounted or open exclusively refused with the override"

# 4. The override: the ext4 is destroyed on purpose, the run says so, the device is left blank.
"$bin" "${run[@]}" --swap-device "$zdev" --swap-device-wipe >"$work/out" 2>&1 \
  || { rc=$?; cat "$work/out"; fail "--swap-device-wipe on a device holding ext4: exit $rc"; }
grep -q -- "--swap-device-wipe: destroying ext4 (a file system, label precious, UUID $uuid) on $zdev" "$work/out" \
  || { cat "$work/out"; fail "the override did not say what it destroyed"; }
[ -z "$(signature "$zdev")" ] || fail "$zdev holds '$(signature "$zdev")' after the run, not nothing"
echo "ok: --swap-device-wipe destroys the ext4, says so, and leaves the device blank after the run"

# 5. A blank device needs no override, twice in a row (a guest's runs share its scratch disk).
for pass in 1 2; do
  "$bin" "${run[@]}" --swap-device "$zdev" >"$work/out" 2>&1 || { rc=$?; cat "$work/out"; fail "blank device, run $pass: exit $rc"; }
  [ -z "$(signature "$zdev")" ] || fail "$zdev holds '$(signature "$zdev")' after run $pass"
done
echo "ok: a blank device is used without the override and left blank, run after run"

remove_devices
expect_state "$work/before" "after the devices made here are removed"
pass "--swap-device: anything on a device refused unless --swap-device-wipe, a device in use always refused"
