// Proof of path: did the timed pages really take the path the set claims? Pure functions of the
// counter deltas and residency, so every rule is unit-tested on fixture numbers.
#pragma once
#include <cstdint>
#include <string>

#include "workloads/kstat.h"

namespace swapbench {

enum class Backend { Zswap, Disk, Zram, None };
std::string to_string(Backend b);

struct Verdict {
  bool valid = true;
  std::string reason;  // empty when valid; else every rule that failed, with the numbers
  std::string path;    // the path the deltas show: "zswap", "disk", "zero", "swapcache", "anon"
  // Writeback sets only: pages a machine-wide writeback counter gained that were not the region's
  // (another cgroup's zswap entries written back by the same worker); recorded, not hidden.
  uint64_t foreign_written_back = 0;
};

// Whose writebacks the written_back figure counts: the region's cgroup only (memory.stat zswpwb, or
// a limit that writes back only the cgroup's own entries), or the whole machine (vmstat zswpwb
// under a global trigger, e.g. the pool limit's shrink worker, which walks every cgroup's LRU).
enum class WritebackScope { Region, Machine };

// Swap-in of `pages` pages that mincore showed non-resident (`resident_before` of them were not).
// zero_pages: the profile is zero-filled (6.12+ keeps those out of zswap and disk: swpin_zero).
// zram_delta: for zram, the device's own counters over the faults (kstat read_zram_stats): pswpin
// counts every swap device, so only the device's read sectors show the pages came from it.
Verdict prove_swapin(Backend b, uint64_t pages, uint64_t resident_before, const Stats& vmstat_delta, bool zero_pages,
                     const Stats& zram_delta = {});
// Swap-out of `pages` pages; `resident_after` = pages mincore still shows (disk: in the swap cache).
Verdict prove_swapout(Backend b, uint64_t pages, uint64_t resident_after, const Stats& vmstat_delta, bool zero_pages,
                      const Stats& zram_delta = {});
// Minor faults on pages all in the swap cache: no swap-in I/O and no zswap load may happen.
Verdict prove_swapcache_floor(uint64_t pages, uint64_t resident_before, const Stats& vmstat_delta);
// A forced zswap writeback of a `pages`-page region, then the region faulted back in:
// written_back (zswpwb / written_back_pages delta) must be > 0 and at most the region; on_disk of
// the region's pages are on disk (the written-back ones, plus any zswap refused and sent straight
// to disk), and exactly those must come back from disk (pswpin == on_disk) while the rest come
// from zswap (zswpin == pages - on_disk), none from the swap cache.
// WritebackScope::Machine: the counter also saw other cgroups' entries. The region's own share is
// then the pages that came back from disk (page-cluster is 0, so one disk read per page), at most
// written_back; the rest is reported as foreign_written_back, and on_disk is taken to be that share.
Verdict prove_writeback(uint64_t pages, uint64_t written_back, uint64_t on_disk, uint64_t resident_before,
                        const Stats& swapin_delta, WritebackScope scope = WritebackScope::Region);
// First touch of fresh anonymous memory: no swap activity at all.
Verdict prove_firsttouch_floor(uint64_t pages, const Stats& vmstat_delta);

}  // namespace swapbench
