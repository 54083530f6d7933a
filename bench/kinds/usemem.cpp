// usemem: the mm list's standard anonymous-memory workload (vm-scalability usemem, mmtests
// config-workload-usemem), written anew: --workers processes each write every page of
// --worker-bytes of anonymous memory, --loops times, in the run's memory cgroup limited to half
// their total, so about half of what they write is pushed out to the backend and faulted back in
// by the next loop. Every page is checked after the last loop.
#include "bench/kinds/workload_set.h"

namespace swapbench {
namespace {

// Half the total, as in the figures the list quotes ("a memory cgroup at half their total size"):
// every loop after the first swaps about half the pages out and back in.
constexpr double kUsememLimitShare = 0.5;

class Usemem : public WorkloadKind {
 public:
  Usemem()
      : WorkloadKind({.name = "usemem",
                      .short_name = "usemem",
                      .description = "N worker processes each write S bytes of anonymous memory L times in a memory "
                                     "cgroup limited to half their total: real/user/sys time and throughput",
                      .fault = false,
                      .counted = false,
                      .fault_option = false,
                      .backends = {Backend::Zswap, Backend::Zram, Backend::Disk},
                      .options = workload_options(true)}) {}

  void expand(Expander& x, const SetSite& at) const override { x.add(x.set(info.name, at, Pattern::Sequential)); }
  std::unique_ptr<SetPhases> phases() const override { return std::make_unique<WorkloadSet>(kUsememLimitShare, 0); }
};

const KindRegistrar registrar(std::make_unique<Usemem>());

}  // namespace
}  // namespace swapbench
