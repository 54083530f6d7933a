// Other reclaimers on this machine: kernel agents that page memory out by themselves while the suite
// runs, found read-only and recorded. The proof of path reads machine-wide counters (vmstat's
// zswpout, pswpout, zswpwb), so their page-outs land in a set's deltas: a set then fails its proof
// with a count above the region's, and the result should say who else was paging out.
// A machine may run a DAMON kdamond (physical addresses) with a pageout scheme (seen on a cloud VM):
// as soon as the suite turns swap on, it may page out any cold page of any process into the suite's
// zswap and swap area.
// It is not the suite's to change (nor to refresh its statistics): only read.
#pragma once
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace swapbench {

struct Reclaimer {
  std::string what;    // "DAMON kdamond 0 context 0 scheme 0"
  std::string detail;  // "paddr, action pageout, min age 12 aggregations, quota 2147483648 bytes / 800 ms, pid 76"
};

// Running DAMON schemes whose action pages memory out (pageout), under <root>/sys/kernel/mm/damon.
std::vector<Reclaimer> find_reclaimers(const std::string& root);
nlohmann::json to_json(const std::vector<Reclaimer>& r);
// One sentence for a failed proof's reason; empty when there is none.
std::string reclaimers_hint(const std::vector<Reclaimer>& r);

}  // namespace swapbench
