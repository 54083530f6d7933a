// A user-space MODEL of the zswap writeback recheck's cost, not the kernel's code: after
// allocating the swap-cache folio, writeback looks its entry up again to confirm it is still the
// one stored at that offset. The lookup's shape changed across releases:
//   rbtree   - 6.1: a red-black tree searched under the tree's spinlock
//   xa_lock  - 6.12: an xarray compare-exchange, which takes the xarray's spinlock
//   xa_rcu   - ~6.15+: a lock-free xarray load
// Here: std::map (a red-black tree) under a spinlock; a 64-way radix tree (the xarray's fan-out)
// under a spinlock; and the same radix tree read with acquire loads and no lock. Timed per lookup
// as a function of stored entries (1e3..1e7) and of threads looking up at once.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace swapbench {

struct ModelEntry {
  uint64_t offset;
};

// The three forms, behind one interface so every one is timed by the same loop.
class RecheckIndex {
 public:
  virtual ~RecheckIndex() = default;
  virtual void insert(uint64_t offset, const ModelEntry* e) = 0;
  // true when `e` is still the entry stored at `offset` (the recheck's question)
  virtual bool still_current(uint64_t offset, const ModelEntry* e) const = 0;
};

// The set kind its result entries carry (swapbench.kind): a model, not a kernel path.
inline constexpr const char* kRecheckModelKind = "recheck_model";

std::unique_ptr<RecheckIndex> make_index(const std::string& form);  // rbtree, xa_lock, xa_rcu
extern const std::vector<std::string> kRecheckForms;

struct Plan;
struct MachineFacts;
// `swapbench run --suite recheck-model`: the model's benchmarks into the usual result file.
int recheck_model_command(const Plan& p, const MachineFacts& m);

}  // namespace swapbench
