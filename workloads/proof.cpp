#include "workloads/proof.h"

#include <sstream>

namespace swapbench {

std::string to_string(Backend b) {
  switch (b) {
    case Backend::Zswap: return "zswap";
    case Backend::Disk: return "disk";
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
  void expect(const std::string& key, int64_t want) {
    if (!d.count(key)) {
      fail(key + " not in /proc/vmstat on this kernel");
      return;
    }
    int64_t got = get(d, key);
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
  } else {
    r.v.path = "disk";
    r.expect(disk, n);
    if (r.d.count(zswap)) r.expect(zswap, 0);
  }
}

}  // namespace

Verdict prove_swapin(Backend b, uint64_t pages, uint64_t resident_before, const Stats& d, bool zero_pages) {
  Rules r{{}, d};
  if (resident_before) r.fail(std::to_string(resident_before) + " pages were resident before the faults (swap cache)");
  expect_path(r, b, static_cast<int64_t>(pages), zero_pages, "in");
  return r.v;
}

Verdict prove_swapout(Backend b, uint64_t pages, uint64_t resident_after, const Stats& d, bool zero_pages) {
  Rules r{{}, d};
  expect_path(r, b, static_cast<int64_t>(pages), zero_pages, "out");
  // zswap stores synchronously: a page still resident was not stored (disk pages stay in the swap cache).
  if (r.v.path == "zswap" && resident_after)
    r.fail(std::to_string(resident_after) + " pages still resident after MADV_PAGEOUT");
  return r.v;
}

Verdict prove_writeback(uint64_t pages, uint64_t written_back, uint64_t on_disk, uint64_t resident_before,
                        const Stats& d) {
  Rules r{{}, d};
  r.v.path = "writeback";
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
