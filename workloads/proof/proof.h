// Proof of path: did the timed pages really take the path the set claims? Pure functions of the
// counter deltas and residency, so every rule is unit-tested on fixture numbers.
#pragma once
#include <cstdint>
#include <optional>
#include <string>

#include "workloads/measure/kstat.h"

namespace swapbench {

// Which backend a set swaps to, as a value workloads/ can carry (the backends themselves are in
// bench/backends/). One beyond these takes an id past None, and its registrar names it.
enum class Backend : int { Zswap, Disk, Zram, None };
std::string to_string(Backend b);
void name_backend(Backend b, const std::string& name);

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

enum class SwapDirection { In, Out };
// "in" or "out", as the vmstat counters spell it (pswpin, zswpout, swpin_zero).
inline std::string dir_name(SwapDirection d) { return d == SwapDirection::In ? "in" : "out"; }

// The rules one proof collects: each that fails adds its reason, with the numbers, to the verdict.
struct ProofRules {
  Verdict v;
  const Stats& d;  // the vmstat delta
  // A vmstat counter's delta must be `want` (a counter this kernel lacks fails, named).
  void expect(const std::string& key, int64_t want);
  // The same of another set of counters, `where` naming them.
  void expect_in(const Stats& s, const std::string& key, int64_t want, const std::string& where);
  void fail(const std::string& why);
};

// What a backend's pages must show in the counters. Each backend says it in its own file
// (bench/backends/); the swap-in and swap-out proofs below are the same for all.
class PathRules {
 public:
  virtual ~PathRules() = default;
  // Pages that went through it (not zero pages): names the path in r.v.path and checks the
  // vmstat delta for n pages.
  virtual void expect_path(ProofRules& r, int64_t n, SwapDirection dir) const = 0;
  // Its own counters over the same faults (`own`: the delta of its snapshot), zero pages too.
  virtual void expect_own(ProofRules& /*r*/, const Stats& /*own*/, int64_t /*n*/, SwapDirection /*dir*/) const {}
  // It stores a page before MADV_PAGEOUT returns: one still resident after was not stored.
  virtual bool stores_synchronously() const { return false; }
};

// Swap-in of `pages` pages that mincore showed non-resident (`resident_before` of them were not).
// zero_pages: the profile is zero-filled (6.12+ keeps those out of every backend: swpin_zero).
// own_delta: the backend's own counters over the faults (e.g. a zram device's: pswpin counts
// every swap device, so only the device's read sectors show the pages came from it).
Verdict prove_swapin(const PathRules& b, uint64_t pages, uint64_t resident_before, const Stats& vmstat_delta,
                     bool zero_pages, const Stats& own_delta = {});
// Swap-out of `pages` pages; `resident_after` = pages mincore still shows (disk: in the swap cache).
Verdict prove_swapout(const PathRules& b, uint64_t pages, uint64_t resident_after, const Stats& vmstat_delta,
                      bool zero_pages, const Stats& own_delta = {});
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
// A workload forced to swap by its cgroup's limit (usemem, swap-w): it must really have swapped,
// through the backend claimed. zswap: zswpout > 0 and pages stored at the peak (`stored_pages`,
// the pool's or the cgroup's count, unset when neither can be read); disk and zram with zswap off:
// pswpout > 0 and zswpout 0 (absent on a kernel without zswap counts as 0: nothing was stored).
Verdict prove_workload_swapped(Backend b, const Stats& vmstat_delta, std::optional<int64_t> stored_pages);

}  // namespace swapbench
