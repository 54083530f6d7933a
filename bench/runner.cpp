#include "bench/runner.h"

#include <benchmark/benchmark.h>
#include <sys/mman.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <functional>
#include <cstring>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "bench/results.h"
#include "bench/set_runner.h"
#include "bench/scenario.h"
#include "bench/race.h"
#include "bench/recheck_model.h"
#include "bench/writeback.h"
#include "workloads/histogram.h"
#include "workloads/kstat.h"
#include "workloads/pinning.h"
#include "workloads/pmu.h"
#include "workloads/region.h"
#include "workloads/system/guards.h"
#include "workloads/system/memcg.h"
#include "workloads/system/session.h"
#include "workloads/system/swap_area.h"
#include "workloads/system/zswap.h"
#include "workloads/timer.h"

namespace swapbench {

using nlohmann::json;

namespace {

// A run may use at most this share of MemAvailable: the region, plus at worst as much again in
// zswap's pool or the swap cache, must leave the rest of the machine room to work.
constexpr double kSafeMemShare = 0.5;

struct BadInput : std::invalid_argument {
  using std::invalid_argument::invalid_argument;
};

uint64_t mem_available_bytes() {
  std::ifstream f("/proc/meminfo");
  std::string k;
  uint64_t v;
  std::string unit;
  while (f >> k >> v >> unit)
    if (k == "MemAvailable:") return v * 1024;
  return 0;
}

}  // namespace

void Runner::configure(const Scenario& sc, json& sb) {
  if (!b_ || !b_->zswap) return;
  ZswapGuard& z = *b_->zswap;
  if (sc.backend == Backend::Zswap) {
    if (z.get("compressor") != sc.compressor) z.set("compressor", sc.compressor);
    z.set("enabled", "Y");
  } else {
    z.set("enabled", "N");
  }
  sb["zswap_params"] = z.now();
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

void Runner::run_set(benchmark::State& st, const Scenario& sc) {
  if (sc.kind == Kind::Writeback) return run_writeback_set(st, sc);
  if (sc.kind == Kind::Race) return run_race_set(st, sc);
  SetRecord rec;
  rec.sc = sc;
  rec.repetition = reps_done_[sc.name()]++;
  const PageProfile& prof = profile(sc.profile);
  const bool zero = sc.profile.kind == ProfileKind::Zero;
  const uint64_t gen = ++generation_;
  json& sb = rec.sb;
  begin(sc, sb);

  const uint64_t inject = sc.inject_ns + o_.inject_ns;
  std::vector<uint64_t> samples(sc.pages);
  // Locked so that reclaim cannot push the sample buffer itself out mid-loop.
  mlock(samples.data(), samples.size() * sizeof(uint64_t));
  auto order = make_order(sc.pattern, sc.pages, gen);
  std::unique_ptr<Region> r;
  try {
    if (sc.kind == Kind::FloorFirsttouch) {
      r = std::make_unique<Region>(sc.pages, o_.thp);
    } else {
      // Only the region is charged to the cgroup: enter, fault it in, leave.
      if (b_->memcg) b_->memcg->enter();
      r = std::make_unique<Region>(sc.pages, o_.thp);
      r->fill(prof, gen);
      if (b_->memcg) b_->memcg->leave();
      auto m = measure_ratio(r->page(0), sc.pages, 64);
      sb["ratio_measured"] = {{"lz4", m.lz4}, {"zstd", m.zstd}, {"sampled_pages", m.pages}};
    }
  } catch (const std::exception& e) {
    rec.error = std::string("setting up the region failed: ") + e.what();
  }

  Verdict v;
  StatSnapshot before, after;
  CounterGroup pmu(events_);
  uint64_t resident_before = 0;
  size_t k = 0;
  if (rec.error.empty()) {
    if (sc.kind == Kind::Swapin || sc.kind == Kind::FloorSwapcache) {
      if (int e = r->pageout_all()) rec.error = std::string("MADV_PAGEOUT failed: ") + std::strerror(e);
      if (sc.kind == Kind::Swapin && r->resident() > 0 && b_->memcg) sb["swapcache_eviction"] = evict_swapcache(*r);
      resident_before = r->resident();
    }
  }
  if (rec.error.empty()) {
    const bool write = sc.write_faults || sc.kind == Kind::FloorFirsttouch;
    const uint8_t byte = sc.kind == Kind::FloorFirsttouch ? 0 : prof.first_byte();
    before = snapshot();
    pmu.start();
    if (sc.kind == Kind::Swapout) {
      for (auto _ : st) {
        uint64_t ns = 0;
        if (int e = r->timed_pageout(k, ns)) {
          rec.error = std::string("MADV_PAGEOUT failed: ") + std::strerror(e);
          break;
        }
        samples[k++] = ns;
        st.SetIterationTime(static_cast<double>(ns) * 1e-9);
      }
    } else {
      for (auto _ : st) {
        uint64_t ns = r->timed_fault(order[k], write, byte, inject);
        samples[k++] = ns;
        st.SetIterationTime(static_cast<double>(ns) * 1e-9);
      }
    }
    pmu.stop();
    after = snapshot();
  }
  StatDelta d = delta(before, after);
  if (rec.error.empty()) {
    switch (sc.kind) {
      case Kind::Swapin: v = prove_swapin(sc.backend, sc.pages, resident_before, d.vmstat, zero); break;
      case Kind::Swapout: v = prove_swapout(sc.backend, sc.pages, r->resident(), d.vmstat, zero); break;
      case Kind::FloorSwapcache: v = prove_swapcache_floor(sc.pages, resident_before, d.vmstat); break;
      case Kind::FloorFirsttouch: v = prove_firsttouch_floor(sc.pages, d.vmstat); break;
      case Kind::Writeback:
      case Kind::Race: break;  // their own set functions prove them
    }
    if (sc.kind == Kind::Swapin && o_.test_corrupt_page >= 0 && static_cast<size_t>(o_.test_corrupt_page) < sc.pages)
      r->page(static_cast<size_t>(o_.test_corrupt_page))[100] ^= 0x40;  // --test-corrupt-page: tests the check below
    if (sc.kind != Kind::FloorFirsttouch) {
      check_stamps(*r, prof, gen, rec);  // for swap-out sets this faults the pages back in, untimed
    } else {
      sb["stamps"] = {{"checked", 0}, {"failed", 0}, {"note", "fresh pages carry no stamp"}};
    }
  }
  finish(st, rec, v, samples, k, d, pmu, resident_before);
}

// What every set starts with: what it is, when it began, and the zswap state it runs under.
void Runner::begin(const Scenario& sc, json& sb) {
  sb = {{"kind", to_string(sc.kind)}, {"backend", to_string(sc.backend)}, {"compressor", sc.compressor},
        {"profile", sc.profile.name()}, {"pattern", to_string(sc.pattern)}, {"pages", sc.pages},
        {"fault", sc.write_faults ? "write" : "read"}, {"inject_ns", sc.inject_ns + o_.inject_ns},
        {"variant", sc.variant},
        // When this repetition began, in s since the run started: lets analysis see drift over time.
        {"started_s", std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count()}};
  if (sc.privileged()) configure(sc, sb);
  sb["zpool"] = sb.contains("zswap_params") && sb["zswap_params"].contains("zpool") ? sb["zswap_params"]["zpool"]
                : sc.backend == Backend::Zswap ? json("zsmalloc (the only zpool; no zpool parameter)") : json("none");
}

// Every page's stamp, checked; a wrong one is a hard failure naming the page.
void Runner::check_stamps(Region& r, const PageProfile& prof, uint64_t gen, SetRecord& rec) {
  size_t bad = 0;
  auto msgs = r.verify(prof, gen, 5, bad);
  rec.sb["stamps"] = {{"checked", rec.sc.pages}, {"failed", bad}, {"first_failures", msgs}};
  if (bad) {
    hard_failure = true;
    rec.error = std::to_string(bad) + " of " + std::to_string(rec.sc.pages) +
                " pages came back wrong (stale or corrupted data): " + msgs.front();
    std::cerr << "\nswapbench: HARD FAILURE in " << rec.sc.name() << ":\n";
    for (auto& m : msgs) std::cerr << "  " << m << "\n";
  }
}

// zswpwb where vmstat has it (6.8+), else debugfs written_back_pages: both count every page zswap
// wrote back, machine-wide.
uint64_t Runner::written_back_now() const {
  auto v = read_vmstat("/");
  if (v.count("zswpwb")) return static_cast<uint64_t>(v.at("zswpwb"));
  auto z = read_zswap_debugfs(kDebugfs);
  return z.count("written_back_pages") ? static_cast<uint64_t>(z.at("written_back_pages")) : 0;
}

// What every set ends with: errors turned into an invalid verdict, the latency summary and
// histogram, the counters per sample, the record kept and a progress line.
void Runner::finish(benchmark::State& st, SetRecord& rec, Verdict& v, std::vector<uint64_t>& samples, size_t k,
                    const StatDelta& d, CounterGroup& pmu, uint64_t resident_before) {
  json& sb = rec.sb;
  const Scenario& sc = rec.sc;
  if (!rec.error.empty()) {
    v.valid = false;
    v.reason = rec.error;
    st.SkipWithError(rec.error.c_str());
  }
  samples.resize(k);
  rec.lat = summarize(samples);
  LogLinearHistogram h;
  for (auto s : samples) h.add(s);
  rec.valid = v.valid;
  sb["valid"] = v.valid;
  sb["invalid_reason"] = v.valid ? json(nullptr) : json(v.reason);
  sb["path"] = v.path;
  sb["resident_before"] = resident_before;
  sb["latency_ns"] = rec.lat.to_json();
  sb["histogram"] = h.to_json();
  sb["deltas"] = d.to_json();
  json pmu_j = json::object(), pmu_raw = json::object();
  for (const auto& c : pmu.read()) {
    pmu_j[c.name] = c.scaled < 0 || !k ? json(nullptr) : json(c.scaled / static_cast<double>(k));
    pmu_raw[c.name] = {{"raw", c.raw}, {"scaled", c.scaled}, {"running_share", c.running_share}};
  }
  sb["pmu"] = pmu_j;
  sb["pmu_totals"] = pmu_raw;
  sb["pmu_scope"] = "the whole timed loop (faults, timer reads and loop bookkeeping) divided by faults";
  records.push_back(rec);

  ++runs_done_;
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  std::string extra;
  if (sb.contains("writeback") && sb["writeback"].contains("pages_per_second"))
    extra = " wb " + std::to_string(sb["writeback"]["written_back"].get<uint64_t>()) + " pages at " +
            std::to_string(static_cast<long>(sb["writeback"]["pages_per_second"].get<double>())) + "/s";
  std::fprintf(stderr, "[%3d/%d %5.0fs] %-48s rep %d: p50 %8.0f ns  p99 %8.0f ns%s  %s\n", runs_done_, total_runs, secs,
               sc.name().c_str(), rec.repetition + 1, rec.lat.p50, rec.lat.p99, extra.c_str(),
               v.valid ? "valid" : ("INVALID: " + v.reason).c_str());
}

namespace {

// Captures Google Benchmark's context and runs; nothing is printed (progress comes from the sets).
class CaptureReporter : public benchmark::BenchmarkReporter {
 public:
  json context;
  std::map<std::string, std::vector<Run>> runs;
  bool ReportContext(const Context& c) override {
    const auto& ci = c.cpu_info;
    json caches = json::array();
    for (const auto& cc : ci.caches)
      caches.push_back({{"type", cc.type}, {"level", cc.level}, {"size", cc.size}, {"num_sharing", cc.num_sharing}});
    context = {{"num_cpus", ci.num_cpus}, {"mhz_per_cpu", static_cast<int>(ci.cycles_per_second / 1e6)},
               {"cpu_scaling_enabled", ci.scaling == benchmark::CPUInfo::ENABLED}, {"caches", caches},
               {"load_avg", ci.load_avg}, {"host_name", c.sys_info.name}};
    return true;
  }
  void ReportRuns(const std::vector<Run>& report) override {
    for (const auto& r : report) runs[r.run_name.function_name].push_back(r);
  }
};

std::string utc_stamp(const char* fmt) {
  char buf[64];
  std::time_t t = std::time(nullptr);
  std::strftime(buf, sizeof buf, fmt, std::gmtime(&t));
  return buf;
}

std::vector<Scenario> build_scenarios(const RunOptions& o, const SuiteDef& suite, Runner& runner, Borrowed* b,
                                      bool root) {
  auto backends = o.backends.empty() ? suite.backends : o.backends;
  auto profiles = o.profiles.empty() ? suite.profiles : o.profiles;
  auto patterns = o.patterns.empty() ? suite.patterns : o.patterns;
  size_t pages = o.pages ? o.pages : suite.pages;
  bool write = o.fault == "write";
  std::vector<Scenario> out;
  const std::string fix_root = "run as root: sudo ./swapbench run";
  auto add_one = [&](Scenario sc) {
    sc.pages = pages;
    // Swap-out has no faults and the first-touch floor always writes: neither takes --fault.
    sc.write_faults = write && sc.kind != Kind::Swapout && sc.kind != Kind::FloorFirsttouch;
    if (sc.privileged() && !root) runner.skip(sc.name(), "needs root (swap areas, zswap parameters, cgroups)", fix_root);
    else out.push_back(sc);
  };
  // Variants (calibration arms) multiply the timed fault sets only: swap-out and the floors have
  // no injected delay to vary.
  auto add = [&](Scenario sc) {
    if (sc.kind != Kind::Swapin) return add_one(sc);
    for (const auto& v : suite.variants) {
      sc.variant = v.label;
      sc.inject_ns = v.inject_ns;
      add_one(sc);
    }
  };
  std::vector<std::string> comps;
  if (std::count(backends.begin(), backends.end(), "zswap")) {
    if (!root) comps = o.compressors.empty() ? std::vector<std::string>{"(every accepted)"} : o.compressors;
    else if (!b->zswap) {
      runner.skip("*/zswap/*", "zswap is not in this kernel (no /sys/module/zswap)", "use a kernel with CONFIG_ZSWAP=y");
    } else if (o.compressors.empty()) {
      comps = b->compressors.accepted;
    } else {
      for (const auto& c : o.compressors) {
        if (std::count(b->compressors.accepted.begin(), b->compressors.accepted.end(), c)) comps.push_back(c);
        else
          runner.skip("*/zswap/" + c + "/*", "the kernel refused compressor " + c + ": " + b->compressors.refused[c],
                      "load it (modprobe " + c + ") or use a kernel built with its CONFIG_CRYPTO_ option");
      }
    }
  }
  bool disk = std::count(backends.begin(), backends.end(), "disk") > 0;
  bool memcg_ok = !root || (b->memcg != nullptr);
  for (const auto& pn : profiles) {
    ProfileSpec prof = parse_profile(pn);
    for (const auto& c : comps) {
      if (suite.swapin)
        for (const auto& pat : patterns) add({Kind::Swapin, Backend::Zswap, c, prof, parse_pattern(pat)});
      if (suite.swapout) add({Kind::Swapout, Backend::Zswap, c, prof, Pattern::Sequential});
      if (suite.race && (o.compressors.size() || c == comps.front())) {
        // One race per compressor asked for; by default only the first the kernel accepts (lzo
        // where it is there): the race is about slots and writeback, not compression.
        Scenario sc{Kind::Race, Backend::Zswap, c, prof, parse_pattern(patterns.front())};
        const WritebackMechanism* use = nullptr;
        for (const auto& m : root ? b->writeback : std::vector<WritebackMechanism>{})
          if (m.ok && !use) use = &m;
        sc.variant = !root ? "(the first writeback mechanism the kernel offers)" : use ? use->name : "none";
        if (!root || use) add_one(sc);
        else runner.skip(sc.name(), "no way to force writeback here, so no race to provoke",
                         "see ./swapbench run --suite writeback for each mechanism's reason");
      }
      if (suite.writeback) {
        if (!root) {
          Scenario sc{Kind::Writeback, Backend::Zswap, c, prof, parse_pattern(patterns.front())};
          sc.variant = "(each mechanism the kernel offers)";
          add_one(sc);
        }
        for (const auto& m : root ? b->writeback : std::vector<WritebackMechanism>{}) {
          Scenario sc{Kind::Writeback, Backend::Zswap, c, prof, parse_pattern(patterns.front())};
          sc.variant = m.name;
          if (m.ok) add_one(sc);
          else runner.skip(sc.name(), "writeback by " + m.name + " is not possible here: " + m.reason, m.fix);
        }
      }
    }
    if (disk && suite.swapin) {
      for (const auto& pat : patterns) {
        Scenario sc{Kind::Swapin, Backend::Disk, "none", prof, parse_pattern(pat)};
        if (memcg_ok) add(sc);
        else runner.skip(sc.name(), "no memory cgroup to push pages out of the swap cache: " + b->memcg_reason, "see ./swapbench check");
      }
      if (suite.swapout) add({Kind::Swapout, Backend::Disk, "none", prof, Pattern::Sequential});
    }
  }
  if (o.floors && suite.floors) {
    ProfileSpec prof = parse_profile(profiles.front());
    if (disk) add({Kind::FloorSwapcache, Backend::Disk, "none", prof, parse_pattern(patterns.front())});
    add({Kind::FloorFirsttouch, Backend::None, "none", ProfileSpec{ProfileKind::Zero, 2.0, ""}, Pattern::Sequential});
  }
  return out;
}

}  // namespace

namespace {

void validate(const RunOptions& o, const SuiteDef& suite) {
  for (const auto& b : o.backends)
    if (b != "zswap" && b != "disk") throw BadInput("--backend '" + b + "': accepted: zswap, disk");
  for (const auto& c : o.compressors)
    if (!std::count(kKnownCompressors.begin(), kKnownCompressors.end(), c)) {
      std::string all;
      for (const auto& k : kKnownCompressors) all += (all.empty() ? "" : ", ") + k;
      throw BadInput("--compressor '" + c + "': not a zswap compressor; accepted names: " + all +
                     " (which of them this kernel takes: ./swapbench check)");
    }
  for (const auto& p : o.profiles.empty() ? suite.profiles : o.profiles) PageProfile(parse_profile(p));
  for (const auto& p : o.patterns) parse_pattern(p);
  if (o.fault != "read" && o.fault != "write") throw BadInput("--fault '" + o.fault + "': accepted: read, write");
  validate_cpu(o.cpu);
  for (const auto& e : o.events) {
    auto s = resolve_event(e);
    if (!s.ok) throw BadInput("--events: " + s.reason);
  }
  size_t pages = o.pages ? o.pages : suite.pages;
  if (pages == 0) throw BadInput("--pages 0: a set needs at least 1 page");
  if (pages > UINT32_MAX) throw BadInput("--pages " + std::to_string(pages) + ": at most " + std::to_string(UINT32_MAX));
  uint64_t want = 2ull * pages * kPageSize, avail = mem_available_bytes();
  if (static_cast<double>(want) > kSafeMemShare * static_cast<double>(avail)) {
    uint64_t max_pages = static_cast<uint64_t>(kSafeMemShare * static_cast<double>(avail)) / (2 * kPageSize);
    throw BadInput("--pages " + std::to_string(pages) + " wants " + std::to_string(want >> 20) +
                   " MiB (the region and as much again for zswap's pool or the swap cache); MemAvailable is " +
                   std::to_string(avail >> 20) + " MiB and a run uses at most half of it: --pages " +
                   std::to_string(max_pages) + " at most");
  }
}

std::unique_ptr<Borrowed> borrow(const RunOptions& o, size_t pages) {
  auto b = std::make_unique<Borrowed>();
  b->session = std::make_unique<Session>(b->ops);
  for (const auto& l : b->session->recovered()) std::cerr << "swapbench: " << l << "\n";
  Journal& j = b->session->journal();
  try {
    b->debugfs = std::make_unique<DebugfsGuard>(j, b->ops, kDebugfs);
  } catch (const SystemError& e) {
    std::cerr << "swapbench: zswap's debugfs counters will be missing: " << e.what() << "\n";
  }
  // One region at a time lives in swap; 64 MiB of headroom for whatever else swaps meanwhile.
  uint64_t bytes = static_cast<uint64_t>(pages) * kPageSize + (64ull << 20);
  if (o.swap_device.empty())
    b->swap = std::make_unique<SwapAreaGuard>(j, b->ops, o.swap_dir + "/swapbench-" + std::to_string(getpid()) + ".swap",
                                              bytes);
  else
    b->swap = std::make_unique<SwapAreaGuard>(j, b->ops, o.swap_device, bytes, kSwapPriority,
                                              SwapAreaGuard::Type::Device);
  if (zswap_present(b->ops)) {
    b->zswap = std::make_unique<ZswapGuard>(j, b->ops);
    // No background writeback during a timed set: it would move pages to disk under the faults.
    if (b->zswap->has("shrinker_enabled")) b->zswap->set("shrinker_enabled", "N");
    b->compressors = b->zswap->probe_compressors(o.compressors.empty() ? kKnownCompressors : o.compressors);
  }
  // One fault brings in one page: readahead would serve neighbours from the swap cache and
  // inflate zswpin/pswpin beyond the pages timed.
  b->page_cluster = std::make_unique<ValueGuard>(j, b->ops, "/proc/sys/vm/page-cluster");
  b->page_cluster->set("0");
  // Cgroup reclaim (memory.reclaim, force_empty) weighs anon against file pages by swappiness; on
  // a machine set to 0 it would never evict the region's swap-cache pages. Set before the cgroup
  // exists, because a v1 cgroup copies its parent's swappiness when created.
  b->swappiness = std::make_unique<ValueGuard>(j, b->ops, "/proc/sys/vm/swappiness");
  b->swappiness->set("100");
  MemcgInfo mi = detect_memcg(b->ops);
  if (mi.version != MemcgVersion::None)
    b->memcg = std::make_unique<Memcg>(j, b->ops, mi, "swapbench-" + std::to_string(getpid()));
  else b->memcg_reason = mi.reason;
  WritebackFeatures f;
  f.memcg = b->memcg != nullptr;
  f.memcg_v2 = b->memcg && b->memcg->info().version == MemcgVersion::V2;
  f.memcg_v2_zswap_max = b->memcg && b->memcg->has("memory.zswap.max");
  f.zswap_shrinker_param = b->zswap && b->zswap->has("shrinker_enabled");
  f.pool_limit_param = b->zswap && b->zswap->has("max_pool_percent");
  f.zswpwb_counter = read_vmstat("/").count("zswpwb") || read_zswap_debugfs(kDebugfs).count("written_back_pages");
  b->writeback = writeback_mechanisms(f);
  return b;
}

LatencySummary resident_loop(uint64_t inject_ns) {
  Region r(1);
  r.page(0)[0] = 1;
  std::vector<uint64_t> s(100000);
  for (auto& x : s) x = r.timed_fault(0, false, 0, inject_ns);
  return summarize(s);
}

TimerOverhead harness_overhead() {
  // The timed loop's body on a page that is already mapped: what every sample costs besides the fault.
  auto sum = resident_loop(0);
  TimerOverhead t;
  t.min_ns = sum.min;
  t.p50_ns = sum.p50;
  t.p99_ns = sum.p99;
  t.source = "timed_fault() on a resident page (clock reads + one load; Google Benchmark's loop excluded)";
  return t;
}

// What each injected delay really adds to a sample: the timed body on a resident page with and
// without the busy-wait, p50 against p50. Calibration reports these, not the requested figures.
json inject_check(const std::vector<Scenario>& scs, uint64_t extra_ns) {
  std::set<uint64_t> asked;
  for (const auto& sc : scs) asked.insert(sc.inject_ns + extra_ns);
  json arms = json::array();
  if (asked.size() == 1 && *asked.begin() == 0) return json{{"arms", arms}};
  const double base = resident_loop(0).p50;
  for (uint64_t ns : asked) {
    if (!ns) continue;
    arms.push_back({{"requested_ns", ns}, {"added_p50_ns", resident_loop(ns).p50 - base}});
  }
  return {{"arms", arms},
          {"method", "timed fault body on a resident page, 100000 samples, p50 with the busy-wait minus p50 without"}};
}

json to_json(const TimerOverhead& t) {
  return {{"source", t.source}, {"min_ns", t.min_ns}, {"p50_ns", t.p50_ns}, {"p99_ns", t.p99_ns}};
}

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
}

std::string fmt_ns(double ns) {
  std::ostringstream o;
  if (ns >= 1e6) o << std::fixed << std::setprecision(2) << ns / 1e6 << " ms";
  else if (ns >= 1e4) o << std::fixed << std::setprecision(1) << ns / 1e3 << " us";
  else if (ns >= 1e3) o << std::fixed << std::setprecision(2) << ns / 1e3 << " us";
  else o << std::fixed << std::setprecision(0) << ns << " ns";
  return o.str();
}

void print_summary(const std::vector<Scenario>& scs, const std::vector<SetRecord>& recs, const json& skipped) {
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
    std::printf("skipped %s: %s (fix: %s)\n", s["benchmark"].get<std::string>().c_str(),
                s["reason"].get<std::string>().c_str(), s["fix"].get<std::string>().c_str());
}

}  // namespace

int run_command(const RunOptions& o) {
  // The recheck model is user space only: it borrows nothing, and its benchmarks are a model's.
  if (o.suite == "recheck-model") return recheck_model_command(o);
  const SuiteDef* suite = nullptr;
  try {
    suite = &find_suite(o.suite);
    validate(o, *suite);
  } catch (const std::invalid_argument& e) {
    std::cerr << "swapbench run: " << e.what() << "\n";
    return 2;
  }
  const size_t pages = o.pages ? o.pages : suite->pages;
  const int reps = o.repetitions > 0 ? o.repetitions : suite->repetitions;
  const bool root = geteuid() == 0;
  utsname u;
  uname(&u);

  Binding bind = pin_current_thread(o.cpu);
  TimerOverhead timer = measure_timer_overhead();
  TimerOverhead harness = harness_overhead();
  std::vector<std::string> events;
  json ev_bad = json::array();
  {
    CounterGroup probe(o.events);
    for (const auto& s : probe.statuses()) {
      if (s.ok) events.push_back(s.name);
      else ev_bad.push_back({{"event", s.name}, {"reason", s.reason}});
    }
    if (!ev_bad.empty())
      std::cerr << "swapbench: " << ev_bad.size() << " counter(s) unavailable, the run goes on without them: "
                << ev_bad[0]["event"].get<std::string>() << ": " << ev_bad[0]["reason"].get<std::string>() << "\n";
  }

  std::unique_ptr<Borrowed> b;
  if (root) {
    try {
      b = borrow(o, pages);
    } catch (const std::exception& e) {
      std::cerr << "swapbench run: " << e.what() << "\n";
      return 1;
    }
  } else {
    std::cerr << "swapbench: not root: only benchmarks that change nothing run (sudo ./swapbench run for all)\n";
  }

  Runner runner(o, b.get(), events);
  std::vector<Scenario> scs;
  try {
    scs = build_scenarios(o, *suite, runner, b.get(), root);
  } catch (const std::invalid_argument& e) {
    std::cerr << "swapbench run: " << e.what() << "\n";
    return 2;
  }
  runner.total_runs = static_cast<int>(scs.size()) * reps;
  std::cerr << "swapbench: " << scs.size() << " sets x " << reps << " repetitions, " << pages
            << " pages each, interleaved; CPU " << bind.cpu << "\n";

  for (const auto& sc : scs) {
    benchmark::RegisterBenchmark(sc.name().c_str(), [&runner, sc](benchmark::State& st) { runner.run_set(st, sc); })
        ->Iterations(static_cast<benchmark::IterationCount>(sc.kind == Kind::Race ? 1 : sc.pages))
        ->Repetitions(reps)
        ->UseManualTime()
        ->Unit(benchmark::kNanosecond);
  }
  // Repetitions in random order across sets, not back to back: drift (thermal, page cache, a
  // neighbour VM) then spreads over every set instead of landing on one.
  std::vector<std::string> args = {"swapbench", "--benchmark_enable_random_interleaving=true"};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  int argc = static_cast<int>(argv.size());
  benchmark::Initialize(&argc, argv.data());
  CaptureReporter rep;
  auto t0 = std::chrono::steady_clock::now();
  if (!scs.empty()) benchmark::RunSpecifiedBenchmarks(&rep);
  double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

  // --- the result ---
  json benchmarks = json::array();
  int family = 0;
  for (const auto& sc : scs) {
    auto& gruns = rep.runs[sc.name()];
    for (const auto& r : runner.records) {
      if (r.sc.name() != sc.name()) continue;
      json e = {{"name", sc.name()}, {"family_index", family}, {"per_family_instance_index", 0},
                {"run_name", sc.name()}, {"run_type", "iteration"}, {"repetitions", reps},
                {"repetition_index", r.repetition}, {"threads", 1}, {"iterations", r.lat.count},
                {"real_time", r.lat.mean}, {"time_unit", "ns"}};
      e["cpu_time"] = r.lat.mean;
      for (const auto& g : gruns)
        if (g.run_type == benchmark::BenchmarkReporter::Run::RT_Iteration && g.repetition_index == r.repetition &&
            g.iterations > 0)
          e["cpu_time"] = g.GetAdjustedCPUTime();
      if (!r.error.empty()) {
        e["error_occurred"] = true;
        e["error_message"] = r.error;
      }
      e["swapbench"] = r.sb;
      benchmarks.push_back(e);
    }
    for (const auto& g : gruns) {
      if (g.run_type != benchmark::BenchmarkReporter::Run::RT_Aggregate) continue;
      const bool pct = g.aggregate_unit == benchmark::kPercentage;
      benchmarks.push_back({{"name", sc.name() + "_" + g.aggregate_name}, {"family_index", family},
                            {"per_family_instance_index", 0}, {"run_name", sc.name()}, {"run_type", "aggregate"},
                            {"repetitions", reps}, {"threads", 1}, {"aggregate_name", g.aggregate_name},
                            {"aggregate_unit", pct ? "percentage" : "time"},
                            {"iterations", g.iterations},
                            // A percentage aggregate (cv) is a plain ratio: not scaled like a time.
                            {"real_time", pct ? g.real_accumulated_time : g.GetAdjustedRealTime()},
                            {"cpu_time", pct ? g.cpu_accumulated_time : g.GetAdjustedCPUTime()}, {"time_unit", "ns"},
                            {"swapbench", {{"note", "Google Benchmark's aggregate of the per-fault mean over "
                                                    "repetitions, errors excluded; see the iteration entries"}}}});
    }
    ++family;
  }
  const Topology topo = read_topology();
  json sbctx = {{"schema_version", kSchemaVersion},
                {"kernel", kernel_json()},
                {"accelerator", detect_accelerator()},
                {"suite", o.suite}, {"repetitions", reps}, {"pages", pages}, {"command_line", o.command_line},
                {"root", root}, {"cpu_model", topo.cpu_model}, {"topology", topo.to_json()},
                {"binding", bind.to_json()}, {"timer", to_json(timer)}, {"harness_overhead", to_json(harness)},
                {"events_available", events}, {"events_unavailable", ev_bad},
                {"inject", inject_check(scs, o.inject_ns)},
                {"page_cluster_during_timing", root ? json(0) : json(nullptr)},
                {"skipped", runner.skipped}, {"wall_seconds", wall}};
  if (b) {
    if (b->zswap) {
      sbctx["zswap_params_found"] = b->zswap->found();
      sbctx["compressors"] = {{"accepted", b->compressors.accepted}, {"refused", b->compressors.refused}};
    }
    sbctx["swap_area"] = {{"type", b->swap->type() == SwapAreaGuard::Type::Device ? "device" : "file"},
                          {"path", b->swap->path()}, {"size_bytes", b->swap->bytes()},
                          {"priority", b->swap->priority()}, {"dir", o.swap_dir}};
    sbctx["memcg"] = b->memcg ? json{{"version", b->memcg->info().name()}, {"dir", b->memcg->dir()}}
                              : json{{"version", "none"}, {"reason", b->memcg_reason}};
    sbctx["debugfs_mounted_by_suite"] = b->debugfs && b->debugfs->mounted_by_us();
  }
  json ctx = rep.context;
  ctx["date"] = utc_stamp("%Y-%m-%dT%H:%M:%SZ");
  ctx["executable"] = "swapbench";
  ctx["library_build_type"] = "release";
  ctx["json_schema_version"] = kGbenchSchemaVersion;
  if (!ctx.contains("host_name")) {
    char h[256] = {0};
    gethostname(h, sizeof h - 1);
    ctx["host_name"] = h;
  }
  ctx["swapbench"] = sbctx;
  json result = {{"context", ctx}, {"benchmarks", benchmarks}};

  std::string out = o.out;
  if (out.empty()) {
    char h[256] = {0};
    gethostname(h, sizeof h - 1);
    out = default_results_dir() + "/" + h + "-" + u.release + "-" + utc_stamp("%Y%m%dT%H%M%SZ") + ".json";
  }
  b.reset();  // give the machine back before anything else can fail
  int status = runner.hard_failure ? 1 : 0;
  try {
    write_json_atomic(out, result);
    std::cerr << "swapbench: wrote " << out << " (" << std::fixed << std::setprecision(0) << wall << " s)\n";
  } catch (const std::exception& e) {
    std::cerr << "swapbench run: " << e.what() << "\n";
    status = 1;
  }
  print_summary(scs, runner.records, runner.skipped);
  if (runner.hard_failure) std::cerr << "swapbench: HARD FAILURE: pages came back wrong (see above and the result)\n";
  return status;
}

int list_command(const RunOptions& o) {
  for (const auto& s : suites()) std::printf("suite %-13s %s\n", s.name.c_str(), s.description.c_str());
  std::printf("suite %-13s %s\n", "recheck-model",
              "a user-space model of the writeback recheck's lookup (rbtree+spinlock, xarray locked and lock-free)");
  if (o.suite == "recheck-model") return 0;
  const SuiteDef* suite;
  try {
    suite = &find_suite(o.suite);
  } catch (const std::invalid_argument& e) {
    std::cerr << "swapbench list: " << e.what() << "\n";
    return 2;
  }
  RunOptions lo = o;
  Runner r(lo, nullptr, {});
  std::printf("\nsets of suite '%s' (compressors: every one the kernel accepts, found when the run starts):\n",
              suite->name.c_str());
  try {
    for (const auto& sc : build_scenarios(lo, *suite, r, nullptr, false)) std::printf("  %s\n", sc.name().c_str());
  } catch (const std::invalid_argument& e) {
    std::cerr << "swapbench list: " << e.what() << "\n";
    return 2;
  }
  for (const auto& s : r.skipped) std::printf("  %s\n", s["benchmark"].get<std::string>().c_str());
  return 0;
}

}  // namespace swapbench
