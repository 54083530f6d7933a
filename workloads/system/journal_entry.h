// One entry of the journal (workloads/system/journal.h): which entries the suite makes, and so the
// only ones a restore replays; how a line of the file is read into one; and how each is put into
// words and undone by hand. Kept apart from the journal's writing and replay so that the rules a
// root restore trusts can be read (and tested) in one place.
#pragma once
#include <optional>
#include <string>
#include <vector>

#include "workloads/system/sysroot.h"

namespace swapbench {

struct JournalEntry {
  int id = 0;
  std::string op, path, original, extra;
  std::string boot_id;  // the boot the change was made in; "" in journals older than the field
  int line = 0;         // where it stands in the file, for messages
};

// What a create_file entry keeps of the file it created: device, inode and birth time (an inode
// number alone is reused at once by ext4 for the next file made). Restore removes a file only while
// it is still that one. statx(dirfd, path) without following a link; path "" means dirfd itself.
// "" on failure, errno set.
std::string file_identity(int dirfd, const std::string& path);

// Why an entry is not one this suite makes, in words that repeat none of its content; nothing when
// it is. The suite's changes, and so the only ones a restore replays:
//   write         zswap's parameters it guards (kGuardedZswapParams under kZswapParams), and the
//                 sysctls vm.page-cluster and vm.swappiness; the value a short token (no spaces,
//                 no '/': numbers, Y/N, a compressor's or zpool's name), no extra.
//   create_file   a swap file named swapbench-<letters, digits, _ ->.swap (any folder, the path
//                 plain: absolute, no . or .. parts); extra the file's identity (digits : .).
//   swapon        such a swap file, a /dev/zramN, or a block device under /dev (--swap-device).
//   mount         debugfs on /sys/kernel/debug (DebugfsGuard).
//   mkdir_cgroup  <a cgroup or cgroup2 mount point of ops' /proc/mounts>/swapbench-<digits>, its
//                 extra that hierarchy's cgroup.procs file of some cgroup (where its tasks go back).
//   zram_device   /dev/zramN, extra its diskseq (digits, or empty: then the restore refuses).
//   swap_signature  a device under /dev, extra the UUID of the swap header the suite wrote.
// Anything else (another op, another path, a value with spaces) would let whoever wrote the file
// have root write, remove or unmount what they chose.
std::optional<std::string> not_replayable(const JournalEntry& e, const SysOps& ops);

// The shell command that undoes an entry by hand, for when the restore itself cannot.
std::string manual_undo(const JournalEntry& e);

// What an entry changed, in the words of its undo, for messages.
std::string describe(const JournalEntry& e);

// `s` as one word of a POSIX shell command: as it is when plain, else single-quoted.
std::string shell_quote(const std::string& s);

// Every character of `s` a letter, a digit or one of `extra`.
bool made_of(const std::string& s, const char* extra);

// The folder and the name of a file's path.
std::string dir_of(const std::string& file);
std::string base_of(const std::string& file);

// What a journal's text holds: its first header, the changes not marked done, and the lines that
// are not the suite's entries.
struct JournalLines {
  bool empty = false;
  int pid = 0;
  std::string boot_id;                // the first header's
  std::vector<JournalEntry> pending;  // in file order
  std::vector<std::string> damaged;   // "line N is not a swapbench entry (why)"
  int torn = 0;                       // the line number of a cut-short last line; 0 if none
};
JournalLines read_journal_lines(const std::string& text, const SysOps& ops);

}  // namespace swapbench
