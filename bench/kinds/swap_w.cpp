// swap_w: vm-scalability's case-swap-w-seq and case-swap-w-rand. There, nr_task processes share
// 3/4 of (MemAvailable + SwapTotal) and each writes its part once, sequentially or at random, so
// the machine runs out of memory and swaps. Here the run's memory cgroup stands in for the
// machine: the workers (--workers, nr_task) write --worker-bytes each, once, under a limit of 2/3
// of their total, which is the same overcommit when swap is as large as memory (3/4 of 2 x 2/3 = 1).
// The random order writes every page once in a shuffled order (vm-scalability picks pages with
// replacement), so every page's content is known and checked afterwards.
#include "bench/kinds/workload_set.h"

namespace swapbench {
namespace {

constexpr double kSwapWLimitShare = 2.0 / 3.0;

class SwapW : public WorkloadKind {
 public:
  SwapW()
      : WorkloadKind({.name = "swap_w",
                      .short_name = "swap-w",
                      .description = "vm-scalability swap-w: N workers write S bytes each once, sequentially or at "
                                     "random, in a memory cgroup limited to 2/3 of their total",
                      .fault = false,
                      .counted = false,
                      .fault_option = false,
                      .backends = {Backend::Zswap, Backend::Zram, Backend::Disk},
                      .options = workload_options(false)}) {}

  void expand(Expander& x, const SetSite& at) const override {
    for (Pattern p : x.plan.patterns) x.add(x.set(info.name, at, p));
  }
  std::unique_ptr<SetPhases> phases() const override { return std::make_unique<WorkloadSet>(kSwapWLimitShare, 1); }
};

const KindRegistrar registrar(std::make_unique<SwapW>());

}  // namespace
}  // namespace swapbench
