// recheck_model: a user-space model of the writeback recheck's lookup (bench/recheck_model.h). It
// borrows nothing and is not run by the Runner (recheck_model_command times it with Google
// Benchmark's adaptive iterations); it is a kind so that its name and nature are declared once.
#include "bench/kind.h"

namespace swapbench {
namespace {

class RecheckModel : public SetKind {
 public:
  RecheckModel()
      : SetKind({.name = "recheck_model",
                 .short_name = "recheck_model",
                 .description = "a user-space model of the writeback recheck's lookup (rbtree+spinlock, xarray locked and lock-free)",
                 .privileged = false,
                 .fault = false,
                 .model = true,
                 .counted = false,
                 .fault_option = false}) {}

  void expand(Expander&, const SetSite&) const override {}  // a model suite never expands
  std::unique_ptr<SetPhases> phases() const override { return nullptr; }
};

const KindRegistrar registrar(std::make_unique<RecheckModel>());

}  // namespace
}  // namespace swapbench
