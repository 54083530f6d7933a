#include "workloads/proof/proof.h"

#include <map>
#include <sstream>


namespace swapbench {

namespace {
std::map<Backend, std::string>& more_backends() {
  static std::map<Backend, std::string> names;
  return names;
}
}  // namespace

std::string to_string(Backend b) {
  switch (b) {
    case Backend::Zswap: return "zswap";
    case Backend::Disk: return "disk";
    case Backend::Zram: return "zram";
    case Backend::None: return "none";
  }
  auto it = more_backends().find(b);
  return it == more_backends().end() ? "?" : it->second;
}

void name_backend(Backend b, const std::string& name) { more_backends()[b] = name; }

namespace {

int64_t get(const Stats& s, const std::string& k) {
  auto it = s.find(k);
  return it == s.end() ? 0 : it->second;
}

}  // namespace

void ProofRules::expect(const std::string& key, int64_t want) { expect_in(d, key, want, "/proc/vmstat on this kernel"); }

void ProofRules::expect_in(const Stats& s, const std::string& key, int64_t want, const std::string& where) {
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

void ProofRules::fail(const std::string& why) {
  v.valid = false;
  v.reason += (v.reason.empty() ? "" : "; ") + why;
}

namespace {

// The path swap-in and swap-out share: zero pages, which the kernel keeps out of every backend
// (when it counts them), else the backend's own rule.
void expect_path(ProofRules& r, const PathRules& b, int64_t n, bool zero_pages, SwapDirection dir) {
  const std::string zero = "swp" + dir_name(dir) + "_zero";
  if (zero_pages && r.d.count(zero)) {
    r.v.path = "zero";
    r.expect(zero, n);
    r.expect("pswp" + dir_name(dir), 0);
    r.expect("zswp" + dir_name(dir), 0);
  } else {
    b.expect_path(r, n, dir);
  }
}

}  // namespace

Verdict prove_swapin(const PathRules& b, uint64_t pages, uint64_t resident_before, const Stats& d, bool zero_pages,
                     const Stats& own_delta) {
  ProofRules r{{}, d};
  if (resident_before) r.fail(std::to_string(resident_before) + " pages were resident before the faults (swap cache)");
  expect_path(r, b, static_cast<int64_t>(pages), zero_pages, SwapDirection::In);
  b.expect_own(r, own_delta, static_cast<int64_t>(pages), SwapDirection::In);
  return r.v;
}

Verdict prove_swapout(const PathRules& b, uint64_t pages, uint64_t resident_after, const Stats& d, bool zero_pages,
                      const Stats& own_delta) {
  ProofRules r{{}, d};
  expect_path(r, b, static_cast<int64_t>(pages), zero_pages, SwapDirection::Out);
  b.expect_own(r, own_delta, static_cast<int64_t>(pages), SwapDirection::Out);
  // Disk pages stay in the swap cache until their write completes; a synchronous store leaves none.
  if (r.v.path != "zero" && b.stores_synchronously() && resident_after)
    r.fail(std::to_string(resident_after) + " pages still resident after MADV_PAGEOUT");
  return r.v;
}

Verdict prove_writeback(uint64_t pages, uint64_t written_back, uint64_t on_disk, uint64_t resident_before,
                        const Stats& d, WritebackScope scope) {
  ProofRules r{{}, d};
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
  ProofRules r{{}, d};
  r.v.path = "swapcache";
  if (resident_before != pages)
    r.fail(std::to_string(pages - resident_before) + " of " + std::to_string(pages) + " pages were not in the swap cache");
  r.expect("pswpin", 0);
  if (d.count("zswpin")) r.expect("zswpin", 0);
  return r.v;
}

Verdict prove_firsttouch_floor(uint64_t pages, const Stats& d) {
  ProofRules r{{}, d};
  r.v.path = "anon";
  r.expect("pswpin", 0);
  if (d.count("zswpin")) r.expect("zswpin", 0);
  if (get(d, "pgfault") < static_cast<int64_t>(pages))
    r.fail("pgfault delta " + std::to_string(get(d, "pgfault")) + " below the " + std::to_string(pages) + " pages touched");
  return r.v;
}

Verdict prove_workload_swapped(Backend b, const Stats& d, std::optional<int64_t> stored_pages) {
  ProofRules r{{}, d};
  r.v.path = to_string(b);
  const int64_t zout = get(d, "zswpout"), pout = get(d, "pswpout");
  if (b == Backend::Zswap) {
    if (!d.count("zswpout")) r.fail("zswpout not in /proc/vmstat on this kernel: a store in zswap cannot be shown");
    else if (zout <= 0) r.fail("zswpout delta 0: nothing was stored in zswap (the limit did not force swap)");
    if (!stored_pages) r.fail("zswap's stored pages could not be read (debugfs or memory.stat zswapped)");
    else if (*stored_pages <= 0) r.fail("zswap held no pages at the workload's peak");
    return r.v;
  }
  if (pout <= 0) r.fail("pswpout delta " + std::to_string(pout) + ": nothing was written to the swap device");
  if (zout != 0) r.fail("zswpout delta " + std::to_string(zout) + " with zswap off: pages went to zswap, not " + r.v.path);
  return r.v;
}

}  // namespace swapbench
