// A backend: where a set's pages go when they are swapped out (zswap, disk, zram). What it is, as
// plain data, and what a run does with it: what it borrows, what the borrowed kernel offers for it
// (probe), switching a set onto it (activate; the others release), its own counters for the proof
// of path, and what the result's context says about it. Each backend is one file in
// bench/backends/ that registers itself by name with a static BackendRegistrar, the way the kinds
// do (bench/kind.h); the privileged code it drives stays in the guards of workloads/system/.
#pragma once
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "workloads/measure/kstat.h"
#include "workloads/proof/proof.h"

namespace swapbench {

struct Borrowed;
struct Plan;
struct Capabilities;
struct BackendCaps;

// What a backend is, as data: `list --json` prints it, make_plan() parses --backend by its name.
struct BackendInfo {
  Backend id = Backend::None;  // the value results and the proof carry; its name is to_string(id)
  std::string name;            // only for an id past the built-in ones: its name
  std::string description;     // one line
  bool compresses = false;     // its sets are one per compressor
  bool swap_file = false;      // its sets swap to the run's swap file (or --swap-device)
  std::string zpool;           // the allocator its pages are stored with, as a set's result says it
  int rank = 0;                // its place wherever backends are listed (manifest, --backend's refusal)
  int set_rank = 0;            // its sets' place among a profile's sets, as results list them
  // Compressing backends: what a set's compressor is called before the kernel is asked (listing).
  std::string every_compressor;
  std::string missing_fix;     // the fix hint of the skip when the kernel lacks it
};

class SwapBackend : public PathRules {
 public:
  explicit SwapBackend(BackendInfo i) : info(std::move(i)) {}
  virtual ~SwapBackend() = default;
  const BackendInfo info;
  std::string name() const { return to_string(info.id); }
  // What a run with sets of this backend borrows for it, after the swap file and zswap's guard.
  // Throws SystemError.
  virtual void borrow(Borrowed&, const Plan&) const {}
  // What the borrowed kernel offers for it (every backend is asked, in the plan or not).
  virtual void probe(const Borrowed&, BackendCaps& c) const;  // available, unless it says why not
  // Compressing backends: why it does not take `compressor` (`c`: what its probe found), and the
  // fix hint of the skip of its sets with it.
  virtual std::string refusal(const BackendCaps& /*c*/, const std::string& /*compressor*/) const { return ""; }
  virtual std::string refusal_fix(const std::string& /*compressor*/) const { return ""; }
  // Another backend's set (or a set that swaps nowhere) is next: this one's path goes off.
  virtual void release(Borrowed&) const {}
  // One of its sets is next: its path on (the others are already off); `sb` is the set's result block.
  virtual void activate(Borrowed&, const std::string& /*compressor*/, nlohmann::json& /*sb*/) const {}
  // Its own counters for the proof of path, read around the timed loop ({}: it has none).
  virtual Stats snapshot(const Borrowed&) const { return {}; }
  // What the set's region added to it: `pre` before the region was pushed out, `stored` with it stored.
  virtual void record(const Stats& /*pre*/, const Stats& /*stored*/, nlohmann::json& /*sb*/) const {}
  // What the result's context says about it (a run whose plan has it).
  virtual void context(const Borrowed&, nlohmann::json& /*ctx*/) const {}
};

// Every registered backend, in rank order. The registry is a function-local static, so a
// registrar in any translation unit may run first.
const std::vector<const SwapBackend*>& backends();
const SwapBackend* backend_or_null(const std::string& name);
const SwapBackend& backend_of(Backend id);  // throws std::logic_error for one not registered
std::string backend_names();                // "zswap, disk, zram"
std::vector<const SwapBackend*> backends_in_set_order();
std::string comma_list(const std::vector<std::string>& v);  // "a, b, c"

// Switches the machine onto a set of `target` (Backend::None: a set that swaps nowhere of its
// own): every other backend released first, then the swap file paused or resumed, then the target
// activated. Only the swap area of the set's backend is then on, so no page of the set can land on
// another: the kernel fills the highest priority first, but 6.15+ also keeps allocating from the
// area a CPU used last. Returns the target (null for None).
const SwapBackend* switch_to(Borrowed& b, Backend target, const std::string& compressor, nlohmann::json& sb);

// `static const BackendRegistrar r(std::make_unique<MyBackend>());` in the backend's file registers it.
struct BackendRegistrar {
  explicit BackendRegistrar(std::unique_ptr<SwapBackend> b);
};

}  // namespace swapbench
