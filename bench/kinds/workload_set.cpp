#include "bench/kinds/workload_set.h"

#include <cmath>
#include <cstdio>

#include "bench/borrow.h"

namespace swapbench {

namespace {
constexpr const char* kMaxV1 = "memory.limit_in_bytes";
constexpr const char* kMaxV2 = "memory.max";
}  // namespace

// The limit goes on before the workers start and comes off after every repetition: the run's
// cgroup is shared by every set of the run, and a limit left on would reclaim the next set's region.
void WorkloadSet::limit(SetRun& run) {
  Memcg& cg = *run.borrowed->memcg;
  const bool v1 = cg.info().version == MemcgVersion::V1;
  limit_file_ = v1 ? kMaxV1 : kMaxV2;
  unlimited_ = v1 ? "-1" : "max";
  const uint64_t total = static_cast<uint64_t>(spec_.workers) * spec_.worker_bytes;
  // Rounded, not truncated: 2/3 of 3 x 2^25 is 2^26, which a double product can land a hair under.
  limit_bytes_ = static_cast<uint64_t>(std::llround(static_cast<double>(total) * limit_share_)) / kPageSize * kPageSize;
  cg.set(limit_file_, std::to_string(limit_bytes_));
  limited_ = true;
  // zswap may take what the limit pushes out: its own cap left open (v2, where the file exists).
  if (!v1 && cg.has("memory.zswap.max")) cg.set("memory.zswap.max", "max");
}

void WorkloadSet::unlimit(SetRun& run) {
  if (!limited_) return;
  try {
    run.borrowed->memcg->set(limit_file_, unlimited_);
    limited_ = false;
  } catch (const std::exception& e) {
    run.rec.error += std::string(run.rec.error.empty() ? "" : "; ") + "taking the limit off failed: " + e.what();
  }
}

void WorkloadSet::prepare(SetRun& run) {
  if (!run.borrowed || !run.borrowed->memcg) {
    run.rec.error = "no memory cgroup to limit the workers in: " +
                    (run.borrowed ? run.borrowed->memcg_reason : std::string("the run borrows nothing"));
    return;
  }
  spec_ = {.workers = run.plan.workers, .worker_bytes = run.plan.worker_bytes,
           .loops = loops_ ? loops_ : run.plan.loops, .pattern = run.sc.pattern,
           .profile = &run.runner.profile(run.sc.profile), .generation = run.runner.generation(run.rec)};
  try {
    limit(run);
  } catch (const std::exception& e) {
    run.rec.error = std::string("limiting the workload's cgroup failed: ") + e.what();
  }
}

void WorkloadSet::time(SetRun& run, benchmark::State& st) {
  Borrowed& b = *run.borrowed;
  Memcg& cg = *b.memcg;
  const MemcgVersion v = cg.info().version;
  for (auto _ : st) {
    before_ = snapshot_workload(b.ops, cg.dir(), v, kDebugfs);
    cg.enter();
    out_ = run_workers(spec_, [&] { cg.leave(); }, [&] { peak_ = snapshot_workload(b.ops, cg.dir(), v, kDebugfs); });
    st.SetIterationTime(out_.real_s);
  }
  run.samples = {static_cast<uint64_t>(out_.real_s * 1e9)};
  run.k = 1;
  if (!out_.error.empty()) run.rec.error = "the workers failed: " + out_.error;
}

void WorkloadSet::prove(SetRun& run) {
  // What zswap held at the peak: its debugfs count, else the cgroup's zswapped bytes (v2).
  std::optional<int64_t> stored;
  if (auto it = peak_.zswap_debugfs.find("stored_pages"); it != peak_.zswap_debugfs.end()) stored = it->second;
  else if (auto z = peak_.memcg_stat.find("zswapped"); z != peak_.memcg_stat.end())
    stored = z->second / static_cast<int64_t>(kPageSize);
  run.verdict = prove_workload_swapped(run.sc.backend, delta(before_.vmstat, peak_.vmstat), stored);
  if (const uint64_t bad = out_.pages_bad()) {
    std::vector<std::string> first;
    for (const auto& w : out_.workers)
      if (!w.first_failure.empty()) first.push_back(w.first_failure);
    run.runner.report_hard_failure(run.rec, std::to_string(bad) + " pages came back wrong in the workers: " + first.front(),
                                   first);
  }
}

void WorkloadSet::record(SetRun& run) {
  unlimit(run);
  nlohmann::json& sb = run.sb;
  nlohmann::json per = nlohmann::json::array();
  double per_mean = 0;
  for (const auto& w : out_.workers) {
    per.push_back({{"elapsed_s", w.elapsed_s}, {"user_s", w.user_s}, {"sys_s", w.sys_s},
                   {"throughput_bytes_per_s", w.throughput()}, {"pages_checked", w.pages_checked},
                   {"pages_bad", w.pages_bad}});
    per_mean += w.throughput() / static_cast<double>(out_.workers.size());
  }
  sb["workload"] = {{"workers", spec_.workers}, {"worker_bytes", spec_.worker_bytes}, {"loops", spec_.loops},
                    {"pattern", to_string(spec_.pattern)}, {"cgroup_limit_file", limit_file_},
                    {"cgroup_limit_bytes", limit_bytes_}, {"real_s", out_.real_s}, {"user_s", out_.user_s()},
                    {"sys_s", out_.sys_s()}, {"bytes_written", out_.bytes_written()},
                    {"throughput_bytes_per_s", out_.throughput()}, {"worker_throughput_bytes_per_s", per_mean},
                    {"per_worker", per}};
  if (run.borrowed && run.borrowed->memcg) {
    sb["counters"] = workload_counters(before_, peak_, run.borrowed->memcg->info().version);
    sb["config"] = config_header(run.borrowed->ops);
  }
}

namespace {
std::string mean_sd(const std::vector<double>& x, double scale, const char* unit, int prec) {
  double m = 0, ss = 0;
  for (double v : x) m += v / static_cast<double>(x.size());
  for (double v : x) ss += (v - m) * (v - m);
  const double sd = x.size() > 1 ? std::sqrt(ss / static_cast<double>(x.size() - 1)) : 0;
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f±%.*f%s", prec, m * scale, prec, sd * scale, unit);
  return buf;
}
}  // namespace

std::string WorkloadKind::summary_over(const std::vector<const SetRecord*>& reps, bool& figures) const {
  figures = false;
  std::vector<double> real, user, sys, thr;
  for (const SetRecord* r : reps) {
    const auto& w = r->sb["workload"];
    real.push_back(w["real_s"].get<double>());
    user.push_back(w["user_s"].get<double>());
    sys.push_back(w["sys_s"].get<double>());
    thr.push_back(w["throughput_bytes_per_s"].get<double>());
  }
  if (reps.empty()) return "";
  return "real " + mean_sd(real, 1, "s", 2) + " user " + mean_sd(user, 1, "s", 2) + " sys " + mean_sd(sys, 1, "s", 2) +
         " total " + mean_sd(thr, 1.0 / (1 << 20), " MiB/s", 0);
}

std::vector<std::pair<std::string, std::string>> workload_options(bool loops) {
  const std::string only = "applies only to the usemem and swap-w suites, not to suite {suite}";
  std::vector<std::pair<std::string, std::string>> o = {{"--workers", only}, {"--worker-bytes", only}};
  if (loops) o.emplace_back("--loops", "applies only to the usemem suite (swap-w writes once), not to suite {suite}");
  return o;
}

}  // namespace swapbench
