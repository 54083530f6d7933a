#include "bench/set_runner.h"

#include "bench/interleave.h"
#include "bench/mte_memory.h"
#include "bench/outliers.h"

#include <sys/mman.h>

#include <algorithm>
#include <cstring>
#include <iostream>
#include <thread>

#include "workloads/arch/arm64/mte.h"
#include "workloads/arch/marker.h"
#include "workloads/measure/host_ref.h"
#include "workloads/proof/reclaimers.h"

namespace swapbench {

const PageProfile& Runner::profile(const ProfileSpec& s) {
  auto& p = profiles_[s.name()];
  if (!p) p = std::make_unique<PageProfile>(s);
  return *p;
}

StatSnapshot Runner::snapshot() const {
  StatSnapshot s;
  s.vmstat = read_vmstat("/");
  s.zswap = read_zswap_debugfs(kDebugfs);
  if (b_ && b_->memcg) s.memcg = b_->memcg->stat();
  if (backend_) s.zram = backend_->snapshot(*b_);
  return s;
}

// A page's content and the fault order follow from its set's generation, and the kernel's
// instructions follow the content (a compressor's work is data-dependent). So the generation is a
// function of the set and the repetition, not of the order Google Benchmark interleaved the sets
// in: the same set gets the same data in every boot and on every kernel, and instruction counts
// compare like with like. Still unique per set and repetition within a run, so a stale page from
// another set or repetition fails its stamp. calibrate-exact's arms share the data of one
// repetition: they must differ by their known work alone.
uint64_t Runner::generation(const SetRecord& rec) const {
  const uint64_t rep = static_cast<uint64_t>(rec.repetition) + 1;
  if (p_.suite->known_work) return rep;
  uint64_t h = 0xcbf29ce484222325ull;  // FNV-1a 64 of the set's name
  for (unsigned char c : rec.sc.name()) h = (h ^ c) * 0x100000001b3ull;
  return (h << 20) + rep;  // injective in rep: distinct repetitions never share a generation
}

void Runner::run_set(benchmark::State& st, const Scenario& sc) {
  const SetKind& kind = find_kind(sc.kind);
  SetRecord rec = begin(sc);
  // A counter group counts the thread that opened it: a threaded set's work is in other threads.
  CounterGroup pmu(kind.info.counted && sc.threads == 1 ? events_ : std::vector<std::string>{});
  SetRun run{*this, p_, b_, rec, rec.sc, rec.sb, pmu};
  std::unique_ptr<SetPhases> phases = kind.phases();
  if (run.ok()) phases->prepare(run);
  if (run.ok()) time_set(*phases, run, st);
  if (run.ok()) phases->prove(run);
  phases->record(run);
  finish(st, run);
}

// The kernel's counters are read around the timed loop, and the PMU counts inside it, so that a
// kind's own setup and checks are in neither.
void Runner::time_set(SetPhases& phases, SetRun& run, benchmark::State& st) {
  run.before = snapshot();
  run.pmu.start();
  phases.time(run, st);
  run.pmu.stop();
  run.after = snapshot();
  run.delta = delta(run.before, run.after);
}

void Runner::configure(const Scenario& sc, json& sb) {
  backend_ = nullptr;
  if (!b_) return;
  // zswap's parameters as the set runs under them, or as they stood when switching failed.
  try {
    backend_ = switch_to(*b_, sc.backend, sc.compressor, sb);
  } catch (...) {
    if (b_->zswap) sb["zswap_params"] = b_->zswap->now();
    throw;
  }
  if (b_->zswap) sb["zswap_params"] = b_->zswap->now();
}

// Disk pages stay in the swap cache after MADV_PAGEOUT (writeback is asynchronous); a fault on
// them would be a minor fault. Reclaiming the workload's cgroup drops them once written.
json Runner::evict_swapcache(Region& r) {
  auto t0 = std::chrono::steady_clock::now();
  int attempts = 0;
  std::string last;
  size_t resident = r.resident();
  while (resident > 0 && std::chrono::steady_clock::now() - t0 < std::chrono::seconds(20)) {
    ++attempts;
    last = b_->memcg->reclaim(r.pages() * kPageSize);
    resident = r.resident();
    if (resident) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return {{"method", b_->memcg->info().version == MemcgVersion::V1 ? "memory.force_empty" : "memory.reclaim"},
          {"attempts", attempts}, {"seconds", secs}, {"still_resident", resident}, {"last_refusal", last}};
}

json host_ref_json(std::vector<double> ns) {
  if (ns.empty()) return nullptr;
  std::sort(ns.begin(), ns.end());
  return {{"loop_ns_p50", quantile_linear(ns, 0.5)}, {"loop_ns_min", ns.front()}, {"samples", ns.size()},
          {"every_pages", kHostRefEvery}, {"iterations", kHostRefIterations},
          {"method", "a fixed chain of dependent multiply-adds timed between faults, outside the timed window"}};
}

// What every set starts with: what it is, when it began, and the zswap state it runs under.
SetRecord Runner::begin(const Scenario& sc) {
  SetRecord rec;
  rec.sc = sc;
  rec.repetition = reps_done_[sc.name()]++;
  json& sb = rec.sb;
  sb = {{"kind", sc.kind}, {"backend", to_string(sc.backend)}, {"compressor", sc.compressor},
        {"profile", sc.profile.name()}, {"pattern", to_string(sc.pattern)}, {"pages", sc.pages},
        {"fault", sc.write_faults ? "write" : "read"}, {"inject_ns", inject_ns(sc)}, {"extra_instructions", sc.arm.extra_instructions},
        {"variant", sc.mechanism                    ? to_string(*sc.mechanism)
                    : sc.tagging != Tagging::None ? to_string(sc.tagging)
                                                  : sc.arm.label},
        // When this repetition began, in s since the run started: lets analysis see drift over time.
        {"started_s", std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count()}};
  if (sc.privileged()) {
    try {
      configure(sc, sb);
    } catch (const std::exception& e) {
      rec.error = std::string("setting up the set's swap path failed: ") + e.what();
    }
  }
  sb["zpool"] = sb.contains("zswap_params") && sb["zswap_params"].contains("zpool") ? sb["zswap_params"]["zpool"]
                : sc.backend == Backend::None ? json("none")
                                              : json(backend_of(sc.backend).info.zpool);
  return rec;
}

// Every page's stamp, checked; a wrong one is a hard failure naming the page.
void Runner::check_stamps(Region& r, const PageProfile& prof, uint64_t gen, SetRecord& rec) {
  size_t bad = 0;
  auto msgs = r.verify(prof, gen, 5, bad);
  rec.sb["stamps"] = {{"checked", rec.sc.pages}, {"failed", bad}, {"first_failures", msgs}};
  if (bad)
    report_hard_failure(rec, std::to_string(bad) + " of " + std::to_string(rec.sc.pages) +
                                 " pages came back wrong (stale or corrupted data): " + msgs.front(), msgs);
}

void Runner::report_hard_failure(SetRecord& rec, const std::string& what, const std::vector<std::string>& details) {
  hard_failure = true;
  rec.error = rec.error.empty() ? what : rec.error + "; " + what;
  std::cerr << "\nswapbench: HARD FAILURE in " << rec.sc.name() << ": " << what << "\n";
  for (const auto& d : details) std::cerr << "  " << d << "\n";
}

void Runner::tag_region(Region& r, uint64_t gen) {
  if (!mte_gate_passed_) {
    // Before the first tagged page is swapped: tags that do not survive a plain write and read
    // would make every tag failure below the CPU's or emulator's, not the kernel's.
    const MteSelftest t = mte_selftest(64, gen);
    if (!t.passed())
      throw std::runtime_error("the MTE gate failed before any swap (an emulator or CPU fault, not the kernel's): " +
                               (t.check.checked ? std::to_string(t.check.wrong) + " of " +
                                                      std::to_string(t.check.checked) + " granules read back a wrong tag"
                                                : t.why));
    mte_gate_passed_ = true;
  }
  std::string why;
  if (!mte_protect(r.page(0), r.pages() * kPageSize, &why)) throw std::runtime_error(why);
  mte_write_tags(r.page(0), r.pages(), kPageSize, gen);
}

// Every granule's tag, after the stamps (which faulted every page back in): a wrong one is a hard
// failure naming the page, the granule, the expected and the found tag.
void Runner::check_tags(Region& r, uint64_t gen, SetRecord& rec) {
  const TagCheck c = mte_check_region(r.page(0), r.pages(), kPageSize, gen, 5);
  json first = json::array();
  for (const auto& m : c.first) first.push_back(describe(m, kPageSize));
  rec.sb["mte_tags"] = {{"granules_checked", c.checked}, {"granules_wrong", c.wrong}, {"pages_wrong", c.pages_wrong},
                        {"first_failures", first}, {"granule_bytes", kMteGranule},
                        {"tags", "random 1..15 per granule (never 0: a lost tag reads 0 and is always caught)"}};
  if (!c.wrong) return;
  std::vector<std::string> details;
  for (const auto& m : first) details.push_back(m.get<std::string>());
  report_hard_failure(rec, std::to_string(c.wrong) + " of " + std::to_string(c.checked) + " MTE granules (" +
                               std::to_string(c.pages_wrong) + " pages) came back with a wrong tag: " + details.front(), details);
}

// An error makes the set invalid, and so does a signal: the signal thread is putting the machine
// back under this set (zswap off, the swap area gone), so what it measured is not the scenario it names.
void Runner::judge(benchmark::State& st, SetRun& run) {
  Verdict& v = run.verdict;
  const std::string& error = run.rec.error;
  if (!error.empty()) {
    v.valid = false;
    v.reason = error;
    st.SkipWithError(error.c_str());
  } else if (exit_requested()) {
    v.valid = false;
    v.reason = "measured while the run was being stopped by a signal and the machine restored";
  }
  // A count above the region's may be another reclaimer's page-outs (workloads/proof/reclaimers.h).
  if (!v.valid && error.empty() && v.reason.find(" delta ") != std::string::npos) {
    static const std::string hint = reclaimers_hint(find_reclaimers("/"));
    if (!hint.empty()) v.reason += " (" + hint + ")";
  }
  run.rec.valid = v.valid;
}

void Runner::record_figures(SetRun& run) {
  json& sb = run.sb;
  const Verdict& v = run.verdict;
  const size_t k = run.k;
  run.samples.resize(std::min(run.samples.size(), k));  // an interleaved set's are its base arm's: fewer than k
  run.rec.lat = summarize(run.samples);
  LogLinearHistogram h;
  for (auto s : run.samples) h.add(s);
  sb["valid"] = v.valid;
  sb["invalid_reason"] = v.valid ? json(nullptr) : json(v.reason);
  sb["path"] = v.path;
  sb["resident_before"] = run.resident_before;
  sb["latency_ns"] = run.rec.lat.to_json();
  sb["histogram"] = h.to_json();
  sb["deltas"] = run.delta.to_json();
  json pmu_j = json::object(), pmu_raw = json::object();
  for (const auto& c : run.pmu.read()) {
    pmu_j[c.name] = c.scaled < 0 || !k ? json(nullptr) : json(c.scaled / static_cast<double>(k));
    pmu_raw[c.name] = {{"raw", c.raw}, {"scaled", c.scaled}, {"running_share", c.running_share}};
  }
  sb["pmu"] = pmu_j;
  sb["pmu_totals"] = pmu_raw;
  sb["pmu_scope"] = run.sc.threads > 1 ? "not counted: the timed work ran in the set's threads, and counters "
                                          "count the thread that opens them"
                                        : "the whole timed loop (faults, timer reads and loop bookkeeping) divided by faults";
  // End of this repetition for a counted guest: every set's repetition executes exactly one REPORT,
  // failed ones included, so the numbering the count pass pairs by never skips.
  sb["count_report"] = process_reports().report();
}

void Runner::report_progress(const SetRun& run) {
  const json& sb = run.sb;
  const SetRecord& rec = run.rec;
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  std::string extra;
  if (sb.contains("writeback") && sb["writeback"].contains("pages_per_second"))
    extra = " wb " + std::to_string(sb["writeback"]["written_back"].get<uint64_t>()) + " pages at " +
            std::to_string(static_cast<long>(sb["writeback"]["pages_per_second"].get<double>())) + "/s";
  std::fprintf(stderr, "[%3d/%d %5.0fs] %-48s rep %d: p50 %8.0f ns  p99 %8.0f ns%s  %s\n", runs_done_, total_runs, secs,
               rec.sc.name().c_str(), rec.repetition + 1, rec.lat.p50, rec.lat.p99, extra.c_str(),
               run.verdict.valid ? "valid" : ("INVALID: " + run.verdict.reason).c_str());
}

void Runner::finish(benchmark::State& st, SetRun& run) {
  judge(st, run);
  record_figures(run);
  records.push_back(run.rec);
  ++runs_done_;
  report_progress(run);
}

}  // namespace swapbench
