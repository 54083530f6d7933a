// The sets that force zswap writeback: the writeback suite's (each mechanism, then the swap-in of
// what was written back) and the race (slots freed and reused while writeback runs).
#include <sys/mman.h>

#include <cstring>
#include <functional>
#include <iostream>
#include <thread>

#include "bench/race.h"
#include "bench/set_runner.h"
#include "workloads/arch/marker.h"
#include "workloads/pinning.h"
#include "workloads/timer.h"

namespace swapbench {

namespace {
// Undoes a temporary setting on every path out of a scope, the throwing ones included.
struct Undo {
  std::function<void()> f;
  ~Undo() {
    try {
      if (f) f();
    } catch (const std::exception& e) {
      std::cerr << "swapbench: could not undo a writeback setting: " << e.what() << "\n";
    }
  }
};
constexpr double kWritebackBudgetS = 20;  // a mechanism that writes nothing back gives up after this
}  // namespace

// A sixteenth of the region (at least 64 KiB). A fixed 4 MiB, as in the guest probe of
// ../shared/notes/guests.md (64 MiB region), held a whole 8 MiB ratio2 region and wrote nothing
// back on 6.12; the limit must sit well below the region's pool.
uint64_t zswap_max_bytes(size_t pages) { return std::max<uint64_t>(64 << 10, pages * kPageSize / 16); }

void Runner::run_writeback_set(benchmark::State& st, const Scenario& sc) {
  SetRecord rec = begin(sc);
  const PageProfile& prof = profile(sc.profile);
  const uint64_t gen = generation(rec);
  json& sb = rec.sb;
  const WritebackMech mech = *sc.mechanism;
  json wb = {{"mechanism", to_string(mech)}};
  for (const auto& m : b_->writeback)
    if (m.id == mech) wb["how"] = m.how;
  std::vector<uint64_t> samples(sc.pages);
  mlock(samples.data(), samples.size() * sizeof(uint64_t));
  auto order = make_order(sc.pattern, sc.pages, gen);
  Verdict v;
  StatDelta d;
  CounterGroup pmu(events_), wpmu(events_);
  uint64_t resident_before = 0;
  size_t k = 0;
  ZswapGuard& z = *b_->zswap;
  Memcg& m = *b_->memcg;
  auto secs_since = [](uint64_t t) { return static_cast<double>(now_ns() - t) * 1e-9; };
  try {
    m.enter();
    auto r = std::make_unique<Region>(sc.pages, p_.thp);
    if (sc.tagging == Tagging::Tagged) tag_region(*r, gen);  // the mte-writeback suite
    r->fill(prof, gen);
    m.leave();
    auto mr = measure_ratio(r->page(0), sc.pages, 64);
    sb["ratio_measured"] = {{"lz4", mr.lz4}, {"zstd", mr.zstd}, {"sampled_pages", mr.pages}};
    std::vector<uint64_t> trig;
    const uint64_t wb0 = written_back_now();
    uint64_t t0 = now_ns(), t1 = t0;
    int64_t pswpout0 = 0;
    uint64_t on_disk = 0;  // region pages on disk after the phase; 0: just the written-back ones
    if (mech == WritebackMech::MemcgZswapMax) {
      Undo undo{[&] { m.set("memory.zswap.max", "max"); }};
      m.set("memory.zswap.max", std::to_string(zswap_max_bytes(sc.pages)));
      wb["memory_zswap_max"] = zswap_max_bytes(sc.pages);
      pswpout0 = read_vmstat("/")["pswpout"];
      wpmu.start();
      t0 = now_ns();
      for (size_t i = 0; i < sc.pages; ++i) {
        uint64_t ns = 0;
        if (int e = r->timed_pageout(i, ns)) throw SystemError(std::string("MADV_PAGEOUT failed: ") + std::strerror(e));
        trig.push_back(ns);
      }
      t1 = now_ns();
      wpmu.stop();
      // Stores over the limit that could not write back (an entry's second chance) went straight
      // to disk: they come back from disk too.
      on_disk = static_cast<uint64_t>(read_vmstat("/")["pswpout"] - pswpout0);
      wb["trigger"] = "each MADV_PAGEOUT (the store writes an older entry back first)";
    } else {
      if (int e = r->pageout_all()) throw SystemError(std::string("MADV_PAGEOUT failed: ") + std::strerror(e));
      if (size_t left = r->resident()) throw SystemError(std::to_string(left) + " pages were not stored by zswap");
      wb["written_back_while_storing"] = written_back_now() - wb0;
      // What the cgroup is charged with once the region sits in zswap: the shrinker only sees a
      // cgroup whose zswap pool is charged to it.
      json charged = json::object();
      for (const char* f : {"memory.usage_in_bytes", "memory.kmem.usage_in_bytes", "memory.current", "memory.zswap.current"})
        if (m.has(f)) charged[f] = m.get(f);
      wb["cgroup_charged_after_store"] = charged;
      if (mech == WritebackMech::ShrinkerReclaim) {
        Undo undo{[&] { z.set("shrinker_enabled", "N"); }};
        z.set("shrinker_enabled", "Y");
        wpmu.start();
        t0 = now_ns();
        while (written_back_now() - wb0 < sc.pages && secs_since(t0) < kWritebackBudgetS) {
          uint64_t a = now_ns();
          marker_start();
          std::string refusal = m.reclaim(sc.pages * kPageSize);
          marker_stop();
          trig.push_back(now_ns() - a);
          if (!refusal.empty()) wb["last_refusal"] = refusal;
          if (trig.size() >= 200) break;
        }
        t1 = now_ns();
        wpmu.stop();
        wb["trigger"] = "each write to the cgroup's reclaim file (the shrinker writes back inside it)";
      } else {
        const std::string orig = z.get("max_pool_percent");
        Undo undo{[&] { z.set("max_pool_percent", orig); }};
        z.set("max_pool_percent", "0");
        t0 = now_ns();
        // Stores over the limit, one page at a time: each queues zswap's shrink worker. A worker
        // run rotates entries it finds recently stored (second chance) and gives up after a few
        // such failures, so one trigger writes back little or nothing: keep triggering.
        m.enter();
        Region extra(1, p_.thp);
        m.leave();
        uint64_t last = written_back_now(), changed = now_ns();
        int triggers = 0;
        while (secs_since(t0) < kWritebackBudgetS && last - wb0 < sc.pages) {
          // The trigger is the marked operation; the worker's writeback runs mostly in the sleep
          // below, outside it, so a counted guest sees little of this mechanism's writeback.
          marker_start();
          std::memset(extra.page(0), 0x5a + (triggers & 0x7f), kPageSize);  // faults it back, dirty
          extra.pageout_all();
          marker_stop();
          ++triggers;
          std::this_thread::sleep_for(std::chrono::milliseconds(1));
          uint64_t w = written_back_now();
          if (w != last) {
            last = w;
            changed = now_ns();
          } else if (secs_since(changed) > 2.0) {
            break;  // two seconds of triggers without one writeback: the worker will not
          }
        }
        wb["trigger_count"] = triggers;
        t1 = changed;
        wb["trigger"] = "none in this thread: zswap's shrink worker (a kworker) writes back";
      }
    }
    const uint64_t written = written_back_now() - wb0;
    if (mech != WritebackMech::MemcgZswapMax) on_disk = written;  // the whole region was in zswap first
    wb["on_disk"] = on_disk;
    wb["sent_to_disk_directly"] = on_disk >= written ? on_disk - written : 0;
    const double secs = static_cast<double>(t1 - t0) * 1e-9;
    wb["written_back"] = written;
    wb["written_back_share"] = static_cast<double>(written) / static_cast<double>(sc.pages);
    wb["seconds"] = secs;
    wb["pages_per_second"] = secs > 0 ? static_cast<double>(written) / secs : 0.0;
    wb["ns_per_written_back_page"] = written ? secs * 1e9 / static_cast<double>(written) : 0.0;
    wb["trigger_latency_ns"] = summarize(trig).to_json();
    if (!wb.contains("trigger_count")) wb["trigger_count"] = trig.size();
    json wp = json::object();
    for (const auto& c : wpmu.read())
      wp[c.name] = c.scaled < 0 || !written || mech == WritebackMech::PoolLimit ? json(nullptr)
                                                                         : json(c.scaled / static_cast<double>(written));
    wb["pmu_per_written_back_page"] = wp;
    wb["pmu_scope"] = mech == WritebackMech::PoolLimit
                          ? "not counted: the writeback ran in a kworker, not in this thread"
                          : "this thread during the writeback phase (the kernel work it triggered), per page written back";
    // The written-back pages sit in the swap cache until reclaimed: out with them, then fault all
    // pages back in (written-back ones from disk, the rest from zswap).
    if (r->resident() > 0) sb["swapcache_eviction"] = evict_swapcache(*r);
    resident_before = r->resident();
    StatSnapshot before = snapshot();
    pmu.start();
    for (auto _ : st) {
      // Unmarked: a writeback set's counted operations are its triggers; this swap-in is a disk and
      // zswap swap-in like the swap-in sets', which count it, and mixed in it would swamp them.
      uint64_t ns = r->timed_fault(order[k], false, 0, 0, Region::Marks::Off);
      samples[k++] = ns;
      st.SetIterationTime(static_cast<double>(ns) * 1e-9);
    }
    pmu.stop();
    d = delta(before, snapshot());
    // zswpwb counts the whole machine; the pool limit's worker (and a shrinker run) may also write
    // back another cgroup's entries, which the proof then separates out by the region's disk reads.
    const WritebackScope scope =
        mech == WritebackMech::MemcgZswapMax ? WritebackScope::Region : WritebackScope::Machine;
    v = prove_writeback(sc.pages, written, on_disk, resident_before, d.vmstat, scope);
    wb["foreign_written_back"] = v.foreign_written_back;
    wb["region_written_back"] = written - v.foreign_written_back;
    check_stamps(*r, prof, gen, rec);
    if (sc.tagging != Tagging::None) sb["tagging"] = to_string(sc.tagging);
    if (sc.tagging == Tagging::Tagged) check_tags(*r, gen, rec);  // after writeback and the swap-in from disk
  } catch (const std::exception& e) {
    m.leave();
    rec.error = std::string("writeback set: ") + e.what();
  }
  sb["writeback"] = wb;
  finish(st, rec, v, samples, k, d, pmu, resident_before);
}

void Runner::run_race_set(benchmark::State& st, const Scenario& sc) {
  SetRecord rec = begin(sc);
  const PageProfile& prof = profile(sc.profile);
  json& sb = rec.sb;
  const WritebackMech mech = *sc.mechanism;
  ZswapGuard& z = *b_->zswap;
  Memcg& m = *b_->memcg;
  RaceHooks hooks;
  hooks.written_back = [] { return written_back_now(); };
  hooks.enter = [&m] { m.enter(); };
  hooks.leave = [&m] { m.leave(); };
  const std::string pool0 = z.has("max_pool_percent") ? z.get("max_pool_percent") : "";
  if (mech == WritebackMech::PoolLimit) {
    hooks.pressure_on = [&z] { z.set("max_pool_percent", "0"); };
    hooks.pressure_off = [&z, pool0] { z.set("max_pool_percent", pool0); };
  } else if (mech == WritebackMech::MemcgZswapMax) {
    const std::string lim = std::to_string(zswap_max_bytes(sc.pages));
    hooks.pressure_on = [&m, lim] { m.set("memory.zswap.max", lim); };
    hooks.pressure_off = [&m] { m.set("memory.zswap.max", "max"); };
  } else {  // shrinker_reclaim
    const uint64_t bytes = sc.pages * kPageSize;
    hooks.pressure_on = [&z, &m, bytes] {
      z.set("shrinker_enabled", "Y");
      m.reclaim(bytes);
    };
    hooks.pressure_off = [&z] { z.set("shrinker_enabled", "N"); };
  }
  RaceConfig cfg;
  cfg.pages = sc.pages;
  cfg.duration_s = p_.duration_s;
  cfg.seed = generation(rec);
  cfg.test_stale_page = p_.test_stale_page;
  const Topology topo = read_topology();
  cfg.fault_cpu = p_.cpu ? *p_.cpu : topo.pus - 1;
  cfg.writeback_cpu = topo.pus > 1 ? (cfg.fault_cpu == 0 ? 1 : 0) : cfg.fault_cpu;
  RaceResult res;
  StatSnapshot before = snapshot();
  for (auto _ : st) {
    try {
      res = run_race(cfg, prof, hooks);
    } catch (const std::exception& e) {
      res.error = e.what();
      hooks.pressure_off();
      m.leave();
    }
    st.SetIterationTime(res.seconds > 0 ? res.seconds : 1e-9);
  }
  StatDelta d = delta(before, snapshot());
  json first = json::array();
  for (const auto& f : res.first) first.push_back(f.describe());
  sb["operations"] = res.operations;
  sb["writebacks"] = res.writebacks;
  sb["stale_pages"] = res.stale_pages;
  sb["race"] = {{"mechanism", to_string(mech)}, {"seconds", res.seconds},
                {"operations_per_second", res.seconds > 0 ? static_cast<double>(res.operations) / res.seconds : 0.0},
                {"pressure_cycles", res.pressure_cycles}, {"damaged_pages", res.damaged_pages},
                {"final_checked", res.final_checked}, {"first_failures", first},
                {"fault_cpu", cfg.fault_cpu}, {"writeback_cpu", cfg.writeback_cpu},
                {"cycle", "rounds of 4 pages: fault in + check stamp each, MADV_DONTNEED each (frees the slots), "
                          "a new generation in each, MADV_PAGEOUT each in the same order"}};
  sb["stamps"] = {{"checked", res.operations + res.final_checked}, {"failed", res.stale_pages + res.damaged_pages},
                  {"first_failures", first}};
  Verdict v;
  v.path = "race";
  if (!res.error.empty()) rec.error = "race: " + res.error;
  else if (res.stale_pages || res.damaged_pages) {
    hard_failure = true;
    rec.error = std::to_string(res.stale_pages) + " stale and " + std::to_string(res.damaged_pages) +
                " damaged pages during the writeback race: " + res.first.front().describe();
    std::cerr << "\nswapbench: HARD FAILURE in " << sc.name() << ": pages came back wrong\n";
    for (const auto& f : res.first) std::cerr << "  " << f.describe() << "\n";
  } else if (res.writebacks == 0) {
    v.valid = false;
    v.reason = "no page was written back during the race, so no slot was raced: it proves nothing";
  }
  std::vector<uint64_t> none;
  CounterGroup pmu(std::vector<std::string>{});
  finish(st, rec, v, none, 0, d, pmu, 0);
}

}  // namespace swapbench
