#include "bench/summary.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <iomanip>
#include <sstream>

#include "bench/kind.h"
#include "bench/outliers.h"

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

nlohmann::json set_noise(const std::vector<Scenario>& scs, const std::vector<SetRecord>& recs) {
  auto ref_of = [](const SetRecord& r) {
    const auto& h = r.sb.contains("host_ref") ? r.sb["host_ref"] : nlohmann::json();
    return h.is_object() ? h["loop_ns_p50"].get<double>() : std::nan("");
  };
  std::vector<double> run_ref;
  for (const auto& r : recs)
    if (r.valid) run_ref.push_back(ref_of(r));
  std::vector<double> run_sorted;
  for (double x : run_ref)
    if (!std::isnan(x)) run_sorted.push_back(x);
  std::sort(run_sorted.begin(), run_sorted.end());
  nlohmann::json sets = nlohmann::json::object();
  for (const auto& sc : scs) {
    if (sets.contains(sc.name())) continue;
    std::vector<double> p50, ref;
    for (const auto& r : recs)
      if (r.sc.name() == sc.name() && r.valid) {
        p50.push_back(r.lat.p50);
        ref.push_back(ref_of(r));
      }
    const double slow = host_slowdown(ref, run_ref);
    sets[sc.name()] = {{"outliers_p50", tukey_outliers(p50).to_json()},
                       {"host_slower_than_run_median", std::isnan(slow) ? nlohmann::json(nullptr) : nlohmann::json(slow)}};
  }
  return {{"sets", sets},
          {"run_host_ref_ns_p50", run_sorted.empty() ? nlohmann::json(nullptr) : nlohmann::json(quantile_linear(run_sorted, 0.5))},
          {"outliers_method", "Tukey fences over each valid repetition's per-page p50 (quartiles interpolated "
                              "linearly): mild beyond 1.5 IQR, severe beyond 3; flagged, never dropped"},
          {"host_method", "median over the set's valid repetitions of the reference loop's median, against the "
                          "same over every valid repetition of the run: +0.10 = the host ran 10% slower"}};
}

void print_summary(const std::vector<Scenario>& scs, const std::vector<SetRecord>& recs, const std::vector<Skip>& skipped) {
  const nlohmann::json noise = set_noise(scs, recs);
  std::printf("\n%-52s %7s %10s %10s %7s %8s %6s  %s\n", "set (kind/backend/compressor/profile/pattern)", "pages",
              "p50", "p99", "valid", "outliers", "host", "note");
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
    const SetKind& kind = find_kind(sc.kind);
    std::vector<const SetRecord*> valid_recs;
    for (const auto& r : recs)
      if (r.sc.name() == sc.name() && r.valid) valid_recs.push_back(&r);
    bool over_figures = true;
    if (note.empty()) note = kind.summary_over(valid_recs, over_figures);
    if (!over_figures) a = b = "-";
    for (const auto& r : recs) {
      if (r.sc.name() != sc.name() || !note.empty()) continue;
      bool figures = true;
      note = kind.summary_note(r, figures);
      if (!figures) a = b = "-";
    }
    const auto& sn = noise["sets"][sc.name()];
    const std::string outl = std::to_string(sn["outliers_p50"]["mild"].get<size_t>()) + "m " +
                             std::to_string(sn["outliers_p50"]["severe"].get<size_t>()) + "s";
    char host[16] = "-";
    if (sn["host_slower_than_run_median"].is_number())
      std::snprintf(host, sizeof host, "%+.0f%%", sn["host_slower_than_run_median"].get<double>() * 100);
    std::printf("%-52s %7zu %10s %10s %3d/%-3d %8s %6s  %s\n", sc.name().c_str(), sc.pages, a.c_str(), b.c_str(), valid,
                n, outl.c_str(), host, note.substr(0, 100).c_str());
  }
  std::printf("(p50/p99: median over valid repetitions of each repetition's per-page percentile; outliers: mild (m) "
              "and severe (s) repetitions by Tukey's fences on their p50, kept in every figure; host: how much "
              "slower the host ran during the set than the run's median, by a fixed CPU loop between faults)\n");
  for (const auto& s : skipped)
    std::printf("skipped %s: %s (fix: %s)\n", s.benchmark.c_str(), s.reason.c_str(), s.fix.c_str());
}


}  // namespace swapbench
