// What one timed set is, and what a suite holds: the data a suite declares and a result names.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "bench/writeback.h"
#include "workloads/pages/page_profile.h"
#include "workloads/pages/region.h"
#include "workloads/proof/proof.h"

namespace swapbench {

// One arm of a calibration run: a busy-wait added inside each timed fault, and a label that keeps
// two sets of the same scenario apart (the A/A twin). The plain arm is {"", 0}.
struct CalibrationArm {
  std::string label;
  uint64_t inject_ns = 0;
  // The calibrate-exact suite: user instructions added inside the counted window (0, 8, 64, 512;
  // workloads/arch/marker.h known_work). Only with SuiteDef::known_work.
  unsigned extra_instructions = 0;
  // Interleaved arms only (Scenario::interleaved): this arm's faults are writes (the first byte
  // written back unchanged, so the stamp still holds), the others' reads (or all writes with --fault
  // write). A separate set's fault kind is the set's, Scenario::write_faults.
  bool write_fault = false;
};

// The mte suite (arm64 MTE): every set twice, on ordinary memory (Untagged) and on a PROT_MTE
// region with a random tag per 16-byte granule (Tagged), interleaved in one run; None elsewhere.
// The sets and their checks live in workloads/arch/arm64/mte.h.
enum class Tagging { None, Untagged, Tagged };
std::string to_string(Tagging t);  // "", "untagged", "mte-tagged"

struct Scenario {
  std::string kind = "swapin";  // a registered kind's name (bench/kind.h)
  Backend backend = Backend::Zswap;
  std::string compressor = "none";
  ProfileSpec profile;
  Pattern pattern = Pattern::Random;
  bool write_faults = false;
  size_t pages = 0;
  CalibrationArm arm;
  // A set whose arms are timed page-interleaved in one loop (bench/interleave.h): arm 0 is the base
  // the others are paired with. Empty for every other set (then `arm` is its only arm).
  std::vector<CalibrationArm> interleaved;
  Tagging tagging = Tagging::None;
  // Writeback and race sets: how writeback is forced. Unset only in `list` without root, where
  // the kernel has not been asked yet.
  std::optional<WritebackMech> mechanism;
  // Threads faulting (or pushing out) the set's pages at once, each its own slice (bench/threads.h).
  int threads = 1;
  bool privileged() const;  // its kind borrows the machine
  // "swapin/zswap/lzo/ratio2/random": kind/backend/compressor/profile/pattern[/write][/arm or mechanism]
  // [/threads:N when N > 1] (Google Benchmark style, so its tools can filter on any part).
  std::string name() const;
};

// Guests' default pages per set: half the quick suite's 8192, as emulated faults are slow.
inline constexpr size_t kGuestPages = 4096;
// The MTE suites in guests: under TCG every granule's tag (256 per page) is set and read back in
// emulation, over 44 sets on 6.12 (each compressor, zram and disk, tagged and untagged, in and out).
// At 4096 pages a two-kernel arm64 matrix took 13 minutes on a 2-vCPU machine; 1024 keeps it under
// 8, and the tag checks and per-call counts need no more (0 wrong of 3,145,728 granules at 1024).
inline constexpr size_t kMteGuestPages = 1024;

// A suite is data: which set kinds, backends, profiles and patterns, how many pages and
// repetitions by default. Declared with designated initializers so each field says what it is.
struct SuiteDef {
  std::string name, description;
  // The kinds of set it holds, by name (bench/kinds/); each profile's sets come in this order, the
  // floors after all of them. Floors can be left out with --no-floors.
  std::vector<std::string> kinds;
  std::vector<std::string> backends, profiles, patterns;
  size_t pages = 0;
  int repetitions = 0;
  // Pages per set in a guest (`./swapbench matrix`, ab) unless --pages is given; none: the guest run
  // passes no --pages and the suite's own pages apply.
  std::optional<size_t> guest_pages = kGuestPages;
  std::vector<CalibrationArm> arms = {{}};  // every swap-in set is made once per arm
  // The arms are instead one swap-in set, timed page-interleaved (Scenario::interleaved), named
  // ".../interleaved"; the first arm is the base.
  bool interleave_arms = false;
  // recheck-model: a user-space model that borrows nothing and takes only --cpu, --repetitions, --out.
  bool model = false;
  // calibrate-exact: every fault also runs its arm's known work (marker.h), the plain arm included,
  // so that arms differ by exactly their extra instructions.
  bool known_work = false;
  // mte: each swap-in and swap-out set made twice, untagged and MTE-tagged (Scenario::tagging).
  bool mte_pairs = false;
  // A swap area of exactly pages + this many free slots (0: room to spare, swap_bytes_for). The race
  // wants freed slots reused at once: with few free slots the kernel allocates straight from the
  // swap map (6.1 and 6.12 switch their per-CPU slot caches off below 128 free slots per CPU,
  // include/linux/swap_slots.h), so a slot freed by a swapin is the next store's slot.
  size_t swap_slack_pages = 0;
  // A standard workload (usemem, swap-w): sized by --workers x --worker-bytes, not --pages.
  bool workload = false;
  // Compressors run when --compressor is not given (empty: every one the kernel accepts).
  std::vector<std::string> compressors;
  bool has(const std::string& kind) const;
};
const std::vector<SuiteDef>& suites();
const SuiteDef& find_suite(const std::string& name);  // throws std::invalid_argument listing the suites

}  // namespace swapbench
