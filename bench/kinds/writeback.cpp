// writeback: the region stored in zswap, then written back to disk by one mechanism (each the
// kernel offers is a set), then every page faulted back in (the written-back ones from disk).
// bench/writeback.h finds the mechanisms; workloads/proof/proof.h proves the path.
#include <cstring>
#include <functional>
#include <iostream>
#include <thread>

#include "bench/kinds/page_set.h"
#include "bench/writeback.h"
#include "workloads/arch/marker.h"
#include "workloads/measure/timer.h"

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

double secs_since(uint64_t t) { return static_cast<double>(now_ns() - t) * 1e-9; }

class WritebackSet : public PageSet {
 public:
  void prepare(SetRun& run) override {
    start(run);
    mech_ = *run.sc.mechanism;
    wb_ = {{"mechanism", to_string(mech_)}};
    for (const auto& m : run.borrowed->writeback)
      if (m.id == mech_) wb_["how"] = m.how;
    Memcg& m = *run.borrowed->memcg;
    try {
      fill_region(run);
      wpmu_ = std::make_unique<CounterGroup>(run.runner.events());
      wb0_ = written_back_now();
      if (mech_ == WritebackMech::MemcgZswapMax) force_by_zswap_max(run);
      else {
        store_in_zswap(run);
        if (mech_ == WritebackMech::ShrinkerReclaim) force_by_shrinker(run);
        else force_by_pool_limit(run);
      }
      summarise();
      // The written-back pages sit in the swap cache until reclaimed: out with them, then fault all
      // pages back in (written-back ones from disk, the rest from zswap).
      if (r_->resident() > 0) run.sb["swapcache_eviction"] = run.runner.evict_swapcache(*r_);
      run.resident_before = r_->resident();
    } catch (const std::exception& e) {
      m.leave();
      run.rec.error = std::string("writeback set: ") + e.what();
    }
  }

  void time(SetRun& run, benchmark::State& st) override {
    // Unmarked: a writeback set's counted operations are its triggers; this swap-in is a disk and
    // zswap swap-in like the swap-in sets', which count it, and mixed in it would swamp them.
    if (run.sc.threads > 1)
      return time_threads(run, st, true, "", [&](size_t i, uint64_t& ns) {
        ns = r_->timed_fault(i, false, 0, 0, Region::Marks::Off);
        return 0;
      });
    for (auto _ : st) {
      uint64_t ns = r_->timed_fault(order_[run.k], false, 0, 0, Region::Marks::Off);
      run.samples[run.k++] = ns;
      st.SetIterationTime(static_cast<double>(ns) * 1e-9);
    }
  }

  void prove(SetRun& run) override {
    // zswpwb counts the whole machine; the pool limit's worker (and a shrinker run) may also write
    // back another cgroup's entries, which the proof then separates out by the region's disk reads.
    const WritebackScope scope = mech_ == WritebackMech::MemcgZswapMax ? WritebackScope::Region : WritebackScope::Machine;
    run.verdict = prove_writeback(run.sc.pages, written_, on_disk_, run.resident_before, run.delta.vmstat, scope);
    wb_["foreign_written_back"] = run.verdict.foreign_written_back;
    wb_["region_written_back"] = written_ - run.verdict.foreign_written_back;
    check_pages(run);  // the tags after writeback and the swap-in from disk
    if (run.sc.tagging != Tagging::None) run.sb["tagging"] = to_string(run.sc.tagging);
  }

  void record(SetRun& run) override { run.sb["writeback"] = wb_; }

 private:
  // The memcg limit: each store over memory.zswap.max writes an older entry back first.
  void force_by_zswap_max(SetRun& run) {
    Memcg& m = *run.borrowed->memcg;
    const size_t pages = run.sc.pages;
    Undo undo{[&] { m.set("memory.zswap.max", "max"); }};
    m.set("memory.zswap.max", std::to_string(zswap_max_bytes(pages)));
    wb_["memory_zswap_max"] = zswap_max_bytes(pages);
    const int64_t pswpout0 = read_vmstat("/")["pswpout"];
    wpmu_->start();
    t0_ = now_ns();
    for (size_t i = 0; i < pages; ++i) {
      uint64_t ns = 0;
      if (int e = r_->timed_pageout(i, ns)) throw SystemError(std::string("MADV_PAGEOUT failed: ") + std::strerror(e));
      trig_.push_back(ns);
    }
    t1_ = now_ns();
    wpmu_->stop();
    // Stores over the limit that could not write back (an entry's second chance) went straight
    // to disk: they come back from disk too.
    on_disk_ = static_cast<uint64_t>(read_vmstat("/")["pswpout"] - pswpout0);
    wb_["trigger"] = "each MADV_PAGEOUT (the store writes an older entry back first)";
  }

  // The other mechanisms write back from a pool that holds the whole region.
  void store_in_zswap(SetRun& run) {
    Memcg& m = *run.borrowed->memcg;
    if (int e = r_->pageout_all()) throw SystemError(std::string("MADV_PAGEOUT failed: ") + std::strerror(e));
    if (size_t left = r_->resident()) throw SystemError(std::to_string(left) + " pages were not stored by zswap");
    wb_["written_back_while_storing"] = written_back_now() - wb0_;
    // What the cgroup is charged with once the region sits in zswap: the shrinker only sees a
    // cgroup whose zswap pool is charged to it.
    json charged = json::object();
    for (const char* f : {"memory.usage_in_bytes", "memory.kmem.usage_in_bytes", "memory.current", "memory.zswap.current"})
      if (m.has(f)) charged[f] = m.get(f);
    wb_["cgroup_charged_after_store"] = charged;
  }

  void force_by_shrinker(SetRun& run) {
    ZswapGuard& z = *run.borrowed->zswap;
    Memcg& m = *run.borrowed->memcg;
    const size_t pages = run.sc.pages;
    Undo undo{[&] { z.set("shrinker_enabled", "N"); }};
    z.set("shrinker_enabled", "Y");
    wpmu_->start();
    t0_ = now_ns();
    while (written_back_now() - wb0_ < pages && secs_since(t0_) < kWritebackBudgetS) {
      uint64_t a = now_ns();
      marker_start();
      std::string refusal = m.reclaim(pages * kPageSize);
      marker_stop();
      trig_.push_back(now_ns() - a);
      if (!refusal.empty()) wb_["last_refusal"] = refusal;
      if (trig_.size() >= 200) break;
    }
    t1_ = now_ns();
    wpmu_->stop();
    wb_["trigger"] = "each write to the cgroup's reclaim file (the shrinker writes back inside it)";
  }

  void force_by_pool_limit(SetRun& run) {
    ZswapGuard& z = *run.borrowed->zswap;
    Memcg& m = *run.borrowed->memcg;
    const std::string orig = z.get("max_pool_percent");
    Undo undo{[&] { z.set("max_pool_percent", orig); }};
    z.set("max_pool_percent", "0");
    t0_ = now_ns();
    // Stores over the limit, one page at a time: each queues zswap's shrink worker. A worker
    // run rotates entries it finds recently stored (second chance) and gives up after a few
    // such failures, so one trigger writes back little or nothing: keep triggering.
    m.enter();
    Region extra(1, run.plan.thp);
    m.leave();
    uint64_t last = written_back_now(), changed = now_ns();
    int triggers = 0;
    while (secs_since(t0_) < kWritebackBudgetS && last - wb0_ < run.sc.pages) {
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
    wb_["trigger_count"] = triggers;
    t1_ = changed;
    wb_["trigger"] = "none in this thread: zswap's shrink worker (a kworker) writes back";
  }

  // What the writeback phase did: how much, how fast, and what it cost this thread per page.
  void summarise() {
    written_ = written_back_now() - wb0_;
    if (mech_ != WritebackMech::MemcgZswapMax) on_disk_ = written_;  // the whole region was in zswap first
    wb_["on_disk"] = on_disk_;
    wb_["sent_to_disk_directly"] = on_disk_ >= written_ ? on_disk_ - written_ : 0;
    const double secs = static_cast<double>(t1_ - t0_) * 1e-9;
    const size_t pages = order_.size();
    wb_["written_back"] = written_;
    wb_["written_back_share"] = static_cast<double>(written_) / static_cast<double>(pages);
    wb_["seconds"] = secs;
    wb_["pages_per_second"] = secs > 0 ? static_cast<double>(written_) / secs : 0.0;
    wb_["ns_per_written_back_page"] = written_ ? secs * 1e9 / static_cast<double>(written_) : 0.0;
    wb_["trigger_latency_ns"] = summarize(trig_).to_json();
    if (!wb_.contains("trigger_count")) wb_["trigger_count"] = trig_.size();
    const bool kworker = mech_ == WritebackMech::PoolLimit;
    json wp = json::object();
    for (const auto& c : wpmu_->read())
      wp[c.name] = c.scaled < 0 || !written_ || kworker ? json(nullptr) : json(c.scaled / static_cast<double>(written_));
    wb_["pmu_per_written_back_page"] = wp;
    wb_["pmu_scope"] = kworker ? "not counted: the writeback ran in a kworker, not in this thread"
                               : "this thread during the writeback phase (the kernel work it triggered), per page written back";
  }

  WritebackMech mech_ = WritebackMech::MemcgZswapMax;
  json wb_;
  std::unique_ptr<CounterGroup> wpmu_;  // the writeback phase, apart from the timed swap-in
  std::vector<uint64_t> trig_;           // each trigger's latency
  uint64_t wb0_ = 0, t0_ = 0, t1_ = 0, on_disk_ = 0, written_ = 0;
};

class Writeback : public SetKind {
 public:
  Writeback()
      : SetKind({.name = "writeback",
                 .short_name = "writeback",
                 .description = "zswap writeback forced by one mechanism, then swap-in of the region (the written-back pages from disk)",
                 .threads = true,
                 .backends = {Backend::Zswap},
                 .options = {kThreadsOption},
                 .unresolved_mechanism = "(each mechanism the kernel offers)"}) {}

  void expand(Expander& x, const SetSite& at) const override {
    Scenario sc = x.set(info.name, at, x.plan.patterns.front());
    if (!x.resolved()) return x.add(sc);
    for (const auto& m : x.caps.writeback) {
      sc.mechanism = m.id;
      if (m.ok) x.add(sc);
      else x.skip(sc.name(), "writeback by " + m.name + " is not possible here: " + m.reason, m.fix);
    }
  }
  std::unique_ptr<SetPhases> phases() const override { return std::make_unique<WritebackSet>(); }
  std::string summary_note(const SetRecord& r, bool&) const override {
    if (!r.valid || !r.sb.contains("writeback")) return "";
    return "swap-in after writeback; " + std::to_string(r.sb["writeback"]["written_back"].get<uint64_t>()) +
           " written back at " + std::to_string(static_cast<long>(r.sb["writeback"]["pages_per_second"].get<double>())) +
           " pages/s";
  }
};

const KindRegistrar registrar(std::make_unique<Writeback>());

}  // namespace
}  // namespace swapbench
