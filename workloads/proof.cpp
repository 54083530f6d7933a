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

int64_t get(const Stats& s, const char* k) {
  auto it = s.find(k);
  return it == s.end() ? 0 : it->second;
}

struct Rules {
  Verdict v;
  const Stats& d;
  void expect(const char* key, int64_t want) {
    if (!d.count(key)) {
      fail(std::string(key) + " not in /proc/vmstat on this kernel");
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

}  // namespace

Verdict prove_swapin(Backend b, uint64_t pages, uint64_t resident_before, const Stats& d, bool zero_pages) {
  Rules r{{}, d};
  auto n = static_cast<int64_t>(pages);
  if (resident_before) r.fail(std::to_string(resident_before) + " pages were resident before the faults (swap cache)");
  if (zero_pages && d.count("swpin_zero")) {
    r.v.path = "zero";
    r.expect("swpin_zero", n);
    r.expect("pswpin", 0);
    r.expect("zswpin", 0);
  } else if (b == Backend::Zswap) {
    r.v.path = "zswap";
    r.expect("zswpin", n);
    r.expect("pswpin", 0);
  } else {
    r.v.path = "disk";
    r.expect("pswpin", n);
    if (d.count("zswpin")) r.expect("zswpin", 0);
  }
  return r.v;
}

Verdict prove_swapout(Backend b, uint64_t pages, uint64_t resident_after, const Stats& d, bool zero_pages) {
  Rules r{{}, d};
  auto n = static_cast<int64_t>(pages);
  if (zero_pages && d.count("swpout_zero")) {
    r.v.path = "zero";
    r.expect("swpout_zero", n);
    r.expect("pswpout", 0);
    r.expect("zswpout", 0);
  } else if (b == Backend::Zswap) {
    r.v.path = "zswap";
    r.expect("zswpout", n);
    r.expect("pswpout", 0);
    if (resident_after) r.fail(std::to_string(resident_after) + " pages still resident after MADV_PAGEOUT");
  } else {
    r.v.path = "disk";
    r.expect("pswpout", n);
    if (d.count("zswpout")) r.expect("zswpout", 0);
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
