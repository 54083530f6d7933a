#include "bench/kind_info.h"

#include "bench/recheck_model.h"
#include "bench/scenario.h"

namespace swapbench {

namespace {

// Per Kind: its short label, what it times, and whether its latency is a fault's. A writeback
// set's latency is the swap-in of its region afterwards, timed like a swap-in set's; the race
// times nothing per page (it counts stale pages).
KindInfo describe(Kind k) {
  KindInfo i{.name = to_string(k), .short_name = to_string(k), .privileged = Scenario{.kind = k}.privileged()};
  switch (k) {
    case Kind::Swapin:
      i.short_name = "in";
      i.description = "timed fault per page on swapped-out pages";
      i.fault = true;
      break;
    case Kind::Swapout:
      i.short_name = "out";
      i.description = "timed MADV_PAGEOUT per page, syscall included";
      i.fault = true;
      break;
    case Kind::FloorSwapcache:
      i.short_name = "floor-cache";
      i.description = "minor fault on a page still in the swap cache";
      i.fault = true;
      break;
    case Kind::FloorFirsttouch:
      i.short_name = "floor-touch";
      i.description = "first write to fresh anonymous memory";
      i.fault = true;
      break;
    case Kind::Writeback:
      i.description = "zswap writeback forced by one mechanism, then the swap-in of the written-back pages";
      i.fault = true;
      break;
    case Kind::Race:
      i.description = "slots freed and reused while zswap writeback runs, every page's generation checked";
      break;
  }
  return i;
}

}  // namespace

const std::vector<KindInfo>& kind_infos() {
  static const std::vector<KindInfo> all = [] {
    std::vector<KindInfo> v;
    for (Kind k : {Kind::Swapin, Kind::Swapout, Kind::FloorSwapcache, Kind::FloorFirsttouch, Kind::Writeback,
                   Kind::Race})
      v.push_back(describe(k));
    v.push_back({.name = kRecheckModelKind, .short_name = kRecheckModelKind,
                 .description = "a user-space model of the writeback recheck's lookup (ns per lookup)",
                 .privileged = false, .model = true});
    return v;
  }();
  return all;
}

std::vector<std::string> fault_kind_names() {
  std::vector<std::string> out;
  for (const auto& k : kind_infos())
    if (k.fault) out.push_back(k.name);
  return out;
}

std::vector<std::string> model_kind_names() {
  std::vector<std::string> out;
  for (const auto& k : kind_infos())
    if (k.model) out.push_back(k.name);
  return out;
}

}  // namespace swapbench
