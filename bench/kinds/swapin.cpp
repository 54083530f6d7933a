// swapin: the region stored by the backend, then every page faulted back in, one timed fault per
// page. The suite's calibration arms multiply its sets (or become one page-interleaved set).
#include <cstring>

#include "bench/backend.h"
#include "bench/kinds/page_set.h"
#include "workloads/arch/arm64/mte.h"

namespace swapbench {
namespace {

class SwapinSet : public PageSet {
  void prepare(SetRun& run) override {
    if (!start_filled(run)) return;
    push_out(run);
    // Disk pages stay in the swap cache after MADV_PAGEOUT; faults on them would be minor faults.
    if (r_->resident() > 0 && run.borrowed->memcg) run.sb["swapcache_eviction"] = run.runner.evict_swapcache(*r_);
    run.resident_before = r_->resident();
  }

  void time(SetRun& run, benchmark::State& st) override {
    time_faults(run, st, run.sc.write_faults, prof_->first_byte());
  }

  void prove(SetRun& run) override {
    const Scenario& sc = run.sc;
    const bool zero = sc.profile.kind == ProfileKind::Zero;
    run.verdict = prove_swapin(backend_of(sc.backend), sc.pages, run.resident_before, run.delta.vmstat, zero, run.delta.zram);
    record_device(run, device_pre_, run.before.zram);
    const long bad = run.plan.test_corrupt_page;
    if (bad >= 0 && static_cast<size_t>(bad) < sc.pages) {
      // --test-corrupt-page: tests the checks below. A tagged set gets one wrong tag (granule 6 of
      // that page) instead of wrong data, so the tag check alone must catch it.
      uint8_t* page = r_->page(static_cast<size_t>(bad));
      if (sc.tagging == Tagging::Tagged) mte_set_tag(page + 6 * kMteGranule, 0);
      else page[100] ^= 0x40;
    }
    check_pages(run);
  }
};

class Swapin : public SetKind {
 public:
  Swapin()
      : SetKind({.name = "swapin",
                 .short_name = "in",
                 .description = "pages stored by the backend, then faulted back in: one timed fault per page",
                 .threads = true,
                 .backends = {Backend::Zswap, Backend::Zram, Backend::Disk},
                 .options = {{"--inject-ns", "adds a delay to timed swap-in faults; suite {suite} has none"}, kThreadsOption}}) {}

  void expand(Expander& x, const SetSite& at) const override {
    for (auto pat : x.plan.patterns) {
      Scenario sc = x.set(info.name, at, pat);
      // A disk page left in the swap cache would be a minor fault: only a cgroup's reclaim drops it.
      if (at.backend == Backend::Disk && x.resolved() && !x.caps.memcg)
        x.skip(sc.name(), "no memory cgroup to push pages out of the swap cache: " + x.caps.memcg_reason,
               "see ./swapbench check");
      else x.add_arms(sc);
    }
  }
  std::unique_ptr<SetPhases> phases() const override { return std::make_unique<SwapinSet>(); }
};

const KindRegistrar registrar(std::make_unique<Swapin>());

}  // namespace
}  // namespace swapbench
