// swapout: the region pushed out one page at a time, each MADV_PAGEOUT timed; every page then
// faulted back in, untimed, to check its stamp.
#include <cstring>

#include "bench/backend.h"
#include "bench/kinds/page_set.h"

namespace swapbench {
namespace {

class SwapoutSet : public PageSet {
  void prepare(SetRun& run) override { start_filled(run); }

  void time(SetRun& run, benchmark::State& st) override {
    if (run.sc.threads > 1)
      return time_threads(run, st, false, "MADV_PAGEOUT failed", [&](size_t i, uint64_t& ns) { return r_->timed_pageout(i, ns); });
    size_t& k = run.k;
    std::vector<double> host_ref;
    for (auto _ : st) {
      uint64_t ns = 0;
      if (int e = r_->timed_pageout(k, ns)) {
        run.rec.error = std::string("MADV_PAGEOUT failed: ") + std::strerror(e);
        break;
      }
      run.samples[k++] = ns;
      st.SetIterationTime(static_cast<double>(ns) * 1e-9);
      if (k % kHostRefEvery == 0) sample_host(run, host_ref);
    }
    run.sb["host_ref"] = host_ref_json(host_ref);
  }

  void prove(SetRun& run) override {
    const Scenario& sc = run.sc;
    const bool zero = sc.profile.kind == ProfileKind::Zero;
    run.verdict = prove_swapout(backend_of(sc.backend), sc.pages, r_->resident(), run.delta.vmstat, zero, run.delta.zram);
    // The push-out is the timed loop: the footprint is across it.
    record_device(run, run.before.zram, run.after.zram);
    check_pages(run);
  }
};

class Swapout : public SetKind {
 public:
  Swapout()
      : SetKind({.name = "swapout",
                 .short_name = "out",
                 .description = "the region pushed out to the backend: one timed MADV_PAGEOUT per page",
                 .threads = true,
                 .fault_option = false,  // it has no faults
                 .backends = {Backend::Zswap, Backend::Zram, Backend::Disk},
                 .options = {kThreadsOption}}) {}

  void expand(Expander& x, const SetSite& at) const override { x.add(x.set(info.name, at, Pattern::Sequential)); }
  std::unique_ptr<SetPhases> phases() const override { return std::make_unique<SwapoutSet>(); }
};

const KindRegistrar registrar(std::make_unique<Swapout>());

}  // namespace
}  // namespace swapbench
