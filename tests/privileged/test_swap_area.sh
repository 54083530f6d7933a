# The swap file: made with a random name in root's own folder, so names taken in advance by another
# user neither stop the run nor are touched; a folder others could change is refused; a bad
# --swap-dir or --swap-device is refused naming the path, and a file system too small for the swap
# file is found by its free space, never filled with zeros.
source "$(dirname "$0")/lib.sh"
state >"$work/before"
small=(run --backend disk --pages 256 --repetitions 1 --no-floors)

# Issue 19 item 8: another user took every name the old code could pick for the next 400 runs
# (/var/tmp/swapbench-<pid>.swap, pid from the next one on); the run must still work, in root's own
# folder, and leave their files as they are.
next=$(cat /proc/sys/kernel/ns_last_pid)
runuser -u nobody -- bash -c 'for ((i = $1; i < $1 + 400; i++)); do echo precious >/var/tmp/swapbench-$i.swap; done' \
  _ $((next + 1)) || fail "nobody cannot write /var/tmp"
# Only the files made here (nobody's, of those names) are removed, on every exit.
remove_taken() { find /var/tmp -maxdepth 1 -name 'swapbench-*.swap' -user nobody -delete; }
trap 'remove_taken; [ -n "${KEEP_WORK:-}" ] || rm -rf "$work"' EXIT
taken() { find /var/tmp -maxdepth 1 -name 'swapbench-*.swap' -user nobody -size -2 | wc -l; }
[ "$(taken)" -eq 400 ] || fail "the 400 files were not made"
check_taken() {
  [ "$(taken)" -eq 400 ] || fail "$1: $(taken) of nobody's 400 files are left"
  local changed
  changed=$(find /var/tmp -maxdepth 1 -name 'swapbench-*.swap' -user nobody -exec grep -L -x precious {} + | head -3)
  [ -z "$changed" ] || fail "$1: $changed changed"
}
"$bin" "${small[@]}" --out "$work/r.json" >"$work/out" 2>&1 || { rc=$?; cat "$work/out"; fail "a run with the names taken: exit $rc"; }
check_taken "a run with the names taken"
$py -c 'import json, sys; a = json.load(open(sys.argv[1]))["context"]["swapbench"]["swap_area"]; print(a["path"])' \
  "$work/r.json" >"$work/path" || fail "no swap_area in the result"
grep -q "^/var/lib/swapbench/swap/swapbench-[0-9]*-[0-9a-f]\{16\}\.swap$" "$work/path" \
  || fail "the swap file was $(cat "$work/path"), not a random name in /var/lib/swapbench/swap"
[ "$(stat -c '%a %U %G' /var/lib/swapbench/swap)" = "700 root root" ] \
  || fail "/var/lib/swapbench/swap is $(stat -c '%a %U %G' /var/lib/swapbench/swap), not 700 root root"
# --swap-dir /var/tmp (sticky: others cannot replace root's file there) takes a random name too.
"$bin" "${small[@]}" --swap-dir /var/tmp --out "$work/r.json" >"$work/out" 2>&1 \
  || { rc=$?; cat "$work/out"; fail "--swap-dir /var/tmp with the names taken: exit $rc"; }
check_taken "--swap-dir /var/tmp"
remove_taken
expect_state "$work/before" "after runs with the swap file names taken"
echo "ok: 400 names taken by nobody stop no run and are left as they were; the swap file is in root's 0700 folder"

# A folder others may write without the sticky bit could have the swap file replaced before swapon.
mkdir "$work/open" && chmod 0777 "$work/open"
"$bin" "${small[@]}" --swap-dir "$work/open" --out "$work/r.json" >"$work/out" 2>&1
rc=$?
[ $rc -eq 2 ] || { cat "$work/out"; fail "--swap-dir a folder everyone may write: exit $rc, not 2"; }
grep -q "$work/open is writable by other users (mode 0777) without the sticky bit" "$work/out" \
  || { cat "$work/out"; fail "--swap-dir a folder everyone may write: no clear refusal"; }
[ -z "$(ls -A "$work/open")" ] || fail "something was made in $work/open"
echo "ok: --swap-dir writable by others without the sticky bit refused (exit 2)"

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
pass "swap file: never someone else's file, names taken in advance block nothing, bad places refused with the path, free space checked first"
