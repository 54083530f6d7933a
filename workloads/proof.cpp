#include "workloads/proof.h"

#include <sstream>

#include "workloads/stamp.h"

namespace swapbench {

std::string to_string(Backend b) {
  switch (b) {
    case Backend::Zswap: return "zswap";
    case Backend::Disk: return "disk";
    case Backend::Zram: return "zram";
    case Backend::None: return "none";
  }
  return "?";
}

namespace {

int64_t get(const Stats& s, const std::string& k) {
  auto it = s.find(k);
  return it == s.end() ? 0 : it->second;
}

struct Rules {
  Verdict v;
  const Stats& d;
  void expect(const std::string& key, int64_t want) { expect_in(d, key, want, "/proc/vmstat on this kernel"); }
  void expect_in(const Stats& s, const std::string& key, int64_t want, const std::string& where) {
    if (!s.count(key)) {
      fail(key + " not in " + where);
      return;
    }
    int64_t got = get(s, key);
    if (got != want) {
      std::ostringstream o;
      o << key << " delta " << got << ", expected " << want;
      fail(o.str());
    }
  }
  void fail(const std::string& why) {
    v.valid = false;
    v.reason += (v.reason.empty() ? "" : "; ") + why;
  }
};

// The rules swap-in and swap-out share; `dir` is "in" or "out" (pswpin/pswpout, zswpin/zswpout,
// swpin_zero/swpout_zero).
void expect_path(Rules& r, Backend b, int64_t n, bool zero_pages, const std::string& dir) {
  const std::string disk = "pswp" + dir, zswap = "zswp" + dir, zero = "swp" + dir + "_zero";
  if (zero_pages && r.d.count(zero)) {
    r.v.path = "zero";
    r.expect(zero, n);
    r.expect(disk, 0);
    r.expect(zswap, 0);
  } else if (b == Backend::Zswap) {
    r.v.path = "zswap";
    r.expect(zswap, n);
    r.expect(disk, 0);
  } else if (b == Backend::Zram) {
    // zram is a swap device: its pages count in pswpin/pswpout like a disk's; zswap is off.
    r.v.path = "zram";
    r.expect(disk, n);
    if (r.d.count(zswap)) r.expect(zswap, 0);
  } else {
    r.v.path = "disk";
    r.expect(disk, n);
    if (r.d.count(zswap)) r.expect(zswap, 0);
  }
}

// The zram device's own account: exactly the pages' sectors read (in) or written (out), none
// failed. A zero page never reaches it (6.12+: the swap core's zeromap), so zero sectors then.
void expect_zram(Rules& r, const Stats& z, int64_t n, const std::string& dir) {
  const bool in = dir == "in";
  const int64_t sectors = r.v.path == "zero" ? 0 : n * static_cast<int64_t>(kPageSize / 512);
  const std::string where = "the zram device's counters (/sys/block/zramN/stat, io_stat)";
  r.expect_in(z, in ? "stat.read_sectors" : "stat.write_sectors", sectors, where);
  r.expect_in(z, in ? "io_stat.failed_reads" : "io_stat.failed_writes", 0, where);
  // Stored, every one (same-filled and incompressible pages count too). Not asked of swap-in: up
  // to 6.13 the swap slot cache frees slots (and so zram's copies) in batches, later.
  if (!in) r.expect_in(z, "mm_stat.orig_data_size", sectors * 512, "the zram device's mm_stat");
}

}  // namespace

Verdict prove_swapin(Backend b, uint64_t pages, uint64_t resident_before, const Stats& d, bool zero_pages,
                     const Stats& zram_delta) {
  Rules r{{}, d};
  if (resident_before) r.fail(std::to_string(resident_before) + " pages were resident before the faults (swap cache)");
  expect_path(r, b, static_cast<int64_t>(pages), zero_pages, "in");
  if (b == Backend::Zram) expect_zram(r, zram_delta, static_cast<int64_t>(pages), "in");
  return r.v;
}

Verdict prove_swapout(Backend b, uint64_t pages, uint64_t resident_after, const Stats& d, bool zero_pages,
                      const Stats& zram_delta) {
  Rules r{{}, d};
  expect_path(r, b, static_cast<int64_t>(pages), zero_pages, "out");
  if (b == Backend::Zram) expect_zram(r, zram_delta, static_cast<int64_t>(pages), "out");
  // zswap and zram store synchronously: a page still resident was not stored (disk pages stay in
  // the swap cache until their write completes).
  if ((r.v.path == "zswap" || r.v.path == "zram") && resident_after)
    r.fail(std::to_string(resident_after) + " pages still resident after MADV_PAGEOUT");
  return r.v;
}

Verdict prove_writeback(uint64_t pages, uint64_t written_back, uint64_t on_disk, uint64_t resident_before,
                        const Stats& d, WritebackScope scope) {
  Rules r{{}, d};
  r.v.path = "writeback";
  if (scope == WritebackScope::Machine) {
    const int64_t from_disk = get(d, "pswpin");
    if (from_disk >= 0 && static_cast<uint64_t>(from_disk) < written_back) {
      r.v.foreign_written_back = written_back - static_cast<uint64_t>(from_disk);
      written_back = on_disk = static_cast<uint64_t>(from_disk);
    }
  }
  if (written_back == 0) r.fail("no page was written back (the mechanism did not trigger writeback)");
  if (written_back > pages)
    r.fail(std::to_string(written_back) + " pages written back, more than the region's " + std::to_string(pages) +
           " (another process's entries were written back too)");
  if (resident_before)
    r.fail(std::to_string(resident_before) + " pages were still in the swap cache before the faults");
  if (on_disk < written_back || on_disk > pages)
    r.fail(std::to_string(on_disk) + " pages counted on disk with " + std::to_string(written_back) +
           " written back of " + std::to_string(pages));
  else if (written_back > 0 && written_back <= pages) {
    r.expect("pswpin", static_cast<int64_t>(on_disk));
    r.expect("zswpin", static_cast<int64_t>(pages - on_disk));
  }
  return r.v;
}

Verdict prove_swapcache_floor(uint64_t pages, uint64_t resident_before, const Stats& d) {
  Rules r{{}, d};
  r.v.path = "swapcache";
  if (resident_before != pages)
    r.fail(std::to_string(pages - resident_before) + " of " + std::to_string(pages) + " pages were not in the swap cache");
  r.expect("pswpin", 0);
  if (d.count("zswpin")) r.expect("zswpin", 0);
  return r.v;
}

Verdict prove_firsttouch_floor(uint64_t pages, const Stats& d) {
  Rules r{{}, d};
  r.v.path = "anon";
  r.expect("pswpin", 0);
  if (d.count("zswpin")) r.expect("zswpin", 0);
  if (get(d, "pgfault") < static_cast<int64_t>(pages))
    r.fail("pgfault delta " + std::to_string(get(d, "pgfault")) + " below the " + std::to_string(pages) + " pages touched");
  return r.v;
}

}  // namespace swapbench
