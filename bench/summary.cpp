#include "bench/summary.h"

#include <algorithm>
#include <cstdio>
#include <iomanip>
#include <sstream>

namespace swapbench {

static double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
}

static std::string fmt_ns(double ns) {
  std::ostringstream o;
  if (ns >= 1e6) o << std::fixed << std::setprecision(2) << ns / 1e6 << " ms";
  else if (ns >= 1e4) o << std::fixed << std::setprecision(1) << ns / 1e3 << " us";
  else if (ns >= 1e3) o << std::fixed << std::setprecision(2) << ns / 1e3 << " us";
  else o << std::fixed << std::setprecision(0) << ns << " ns";
  return o.str();
}

void print_summary(const std::vector<Scenario>& scs, const std::vector<SetRecord>& recs, const std::vector<Skip>& skipped) {
  std::printf("\n%-52s %7s %10s %10s %7s  %s\n", "set (kind/backend/compressor/profile/pattern)", "pages",
              "p50", "p99", "valid", "note");
  for (const auto& sc : scs) {
    std::vector<double> p50, p99;
    int valid = 0, n = 0;
    std::string note;
    for (const auto& r : recs) {
      if (r.sc.name() != sc.name()) continue;
      ++n;
      if (r.valid) {
        ++valid;
        p50.push_back(r.lat.p50);
        p99.push_back(r.lat.p99);
      } else if (note.empty() && r.sb["invalid_reason"].is_string()) {
        note = r.sb["invalid_reason"].get<std::string>();
      }
    }
    // Invalid sets never enter the summary figures.
    std::string a = p50.empty() ? "-" : fmt_ns(median(p50)), b = p99.empty() ? "-" : fmt_ns(median(p99));
    for (const auto& r : recs) {
      if (r.sc.name() != sc.name() || !note.empty()) continue;
      if (sc.kind == Kind::Race && r.sb.contains("race")) {
        a = b = "-";  // the race times nothing per page
        note = std::to_string(r.sb["operations"].get<uint64_t>()) + " free/reuse cycles, " +
               std::to_string(r.sb["writebacks"].get<uint64_t>()) + " pages written back, " +
               std::to_string(r.sb["stale_pages"].get<uint64_t>()) + " stale";
      } else if (sc.kind == Kind::Writeback && r.valid && r.sb.contains("writeback")) {
        note = "swap-in after writeback; " + std::to_string(r.sb["writeback"]["written_back"].get<uint64_t>()) +
               " written back at " + std::to_string(static_cast<long>(r.sb["writeback"]["pages_per_second"].get<double>())) +
               " pages/s";
      }
    }
    std::printf("%-52s %7zu %10s %10s %3d/%-3d  %s\n", sc.name().c_str(), sc.pages, a.c_str(), b.c_str(), valid, n,
                note.substr(0, 100).c_str());
  }
  std::printf("(p50/p99: median over valid repetitions of each repetition's per-page percentile)\n");
  for (const auto& s : skipped)
    std::printf("skipped %s: %s (fix: %s)\n", s.benchmark.c_str(), s.reason.c_str(), s.fix.c_str());
}


}  // namespace swapbench
