#include "bench/suites.h"

#include "bench/kind.h"

#include <algorithm>
#include <stdexcept>
#include <utility>

namespace swapbench {

std::string to_string(Tagging t) {
  switch (t) {
    case Tagging::None: return "";
    case Tagging::Untagged: return "untagged";
    case Tagging::Tagged: return "mte-tagged";
  }
  return "?";
}

bool Scenario::privileged() const { return find_kind(kind).info.privileged; }

std::string Scenario::name() const {
  std::string n = kind + "/" + to_string(backend) + "/" + compressor + "/" + profile.name() + "/" +
                  to_string(pattern);
  if (write_faults) n += "/write";
  const std::string& unresolved = find_kind(kind).info.unresolved_mechanism;
  if (!unresolved.empty()) {
    // The mte-writeback suite runs each mechanism on untagged and on tagged memory: both in the name.
    if (mechanism) n += "/" + to_string(*mechanism) + (tagging != Tagging::None ? "/" + to_string(tagging) : "");
    else n += "/" + unresolved;
  } else {
    if (tagging != Tagging::None) n += "/" + to_string(tagging);
    if (!arm.label.empty()) n += "/" + arm.label;
  }
  // As Google Benchmark names a multi-threaded benchmark; one thread keeps the name it always had.
  return threads > 1 ? n + "/threads:" + std::to_string(threads) : n;
}

bool SuiteDef::has(const std::string& kind) const { return std::count(kinds.begin(), kinds.end(), kind) > 0; }

namespace {

// The timed swap-in and swap-out sets, with or without their floors.
std::vector<SuiteDef> timed_suites() {
  const std::vector<std::string> timed_and_floors = {"swapin", "swapout", "floor_swapcache", "floor_firsttouch"};
  return {
    // quick: one compressible profile (2:1, about what zswap sees from typical anonymous memory),
    // random order (no readahead or prefetch luck), 32 MiB: large enough for a stable p99,
    // small enough that the whole suite fits in 3 minutes on a 2-vCPU VM.
    // 10 repetitions: A/B statistics warn below 9 (Google Benchmark's Mann-Whitney U advice).
    {.name = "quick",
     .description = "every accepted compressor + disk, ratio2 pages, random order, 32 MiB, 10 repetitions",
     .kinds = timed_and_floors, .backends = {"zswap", "disk"}, .profiles = {"ratio2"}, .patterns = {"random"},
     .pages = 8192, .repetitions = 10},
    // full: every profile and pattern, 128 MiB, 10 repetitions (>= 9, what A/B statistics need).
    {.name = "full",
     .description = "every accepted compressor + disk, all profiles and patterns, 128 MiB, 10 repetitions",
     .kinds = timed_and_floors, .backends = {"zswap", "disk"},
     .profiles = {"random", "text", "ratio2", "ratio3", "ratio4", "zero", "same"},
     .patterns = {"seq", "random", "strided"}, .pages = 32768, .repetitions = 10},
    // swapin: only the timed faults, no swap-out sets and no floors: what the guests' ftrace pass
    // runs, so the traced functions see swap-in faults and the stores that set them up, nothing else.
    {.name = "swapin", .description = "swap-in only (zswap + disk), ratio2, random, 32 MiB, 10 repetitions",
     .kinds = {"swapin"}, .backends = {"zswap", "disk"}, .profiles = {"ratio2"}, .patterns = {"random"},
     .pages = 8192, .repetitions = 10},
  };
}

// Sets whose pages zswap writes back to disk.
std::vector<SuiteDef> writeback_suites() {
  return {
    // writeback: the region stored in zswap, then written back to disk by each mechanism the
    // kernel offers (bench/kinds/writeback.cpp), then faulted back in; 32 MiB like quick, 5
    // repetitions (writeback is slow: a disk write per page).
    {.name = "writeback",
     .description = "zswap writeback forced by every mechanism the kernel offers, then swap-in of the written-back pages",
     .kinds = {"writeback"}, .backends = {"zswap"}, .profiles = {"ratio2"}, .patterns = {"random"},
     .pages = 8192, .repetitions = 5},
    // race: slots freed and reused while writeback runs, every page's generation checked
    // (bench/race.h). 1 MiB: the racer touches the page being written back within a 1-2 ms window
    // only if the region is small; 32 spare slots: below the kernels' slot-cache threshold (128 per
    // CPU), so a freed slot is reused by the next store. One repetition of --duration seconds. In a guest
    // too it keeps this small region: a race is provoked only in a small one.
    {.name = "race", .description = "the zswap writeback race provoked under a stale-data detector, for --duration seconds",
     .kinds = {"race"}, .backends = {"zswap"}, .profiles = {"ratio2"}, .patterns = {"random"}, .pages = 256,
     .repetitions = 1, .guest_pages = std::nullopt, .swap_slack_pages = 32},
  };
}

// Sets of several arms: known slowdowns or known work to find, or fault kinds to pair.
std::vector<SuiteDef> calibration_suites() {
  return {
    // calibrate: what `./swapbench calibrate` measures. The quick suite's zswap swap-in as one set
    // of eight page-interleaved arms (bench/interleave.h): the base, an identical twin (A/A: how
    // often identical arms look different) and the base with 10..400 ns busy-waited inside every
    // timed fault (how small a known slowdown is found). Every arm sees the same host speed, so
    // each repetition gives a paired ratio per arm that host drift cancels from. 8192 pages
    // (1024 per arm) as in the quick suite; 160 repetitions (27-29 s here): a pool from which
    // the analysis draws many experiments of a few repetitions each.
    {.name = "calibrate",
     .description = "zswap swap-in, ratio2, random: A, its A/A twin, and A + 10/25/50/100/200/400 ns per fault, "
                    "page-interleaved in one loop",
     .kinds = {"swapin"}, .backends = {"zswap"}, .profiles = {"ratio2"}, .patterns = {"random"}, .pages = 8192,
     .repetitions = 160,
     .arms = {{"", 0}, {"twin", 0}, {"inject10ns", 10}, {"inject25ns", 25}, {"inject50ns", 50},
              {"inject100ns", 100}, {"inject200ns", 200}, {"inject400ns", 400}},
     .interleave_arms = true},
    // calibrate-sets: the earlier design, kept to show what interleaving buys (`calibrate --design
    // sets`): seven separate sets interleaved per repetition, seconds apart. 40 repetitions per
    // arm: 7 x 40 sets of 8192 pages fit in about a minute.
    {.name = "calibrate-sets",
     .description = "zswap swap-in, ratio2, random: A, its A/A twin, and A + 25/50/100/200/400 ns per fault, "
                    "as separate sets interleaved per repetition",
     .kinds = {"swapin"}, .backends = {"zswap"}, .profiles = {"ratio2"}, .patterns = {"random"}, .pages = 8192,
     .repetitions = 40,
     .arms = {{"", 0}, {"twin", 0}, {"inject25ns", 25}, {"inject50ns", 50}, {"inject100ns", 100},
              {"inject200ns", 200}, {"inject400ns", 400}}},
    // faults: what a write fault on a swapped-out page costs against a read fault, both in one
    // page-interleaved loop (bench/interleave.h), so host drift cancels from their ratio;
    // `./swapbench compare RUN.json` judges the pair. zswap (every accepted compressor) and disk,
    // the quick suite's pages; 20 repetitions: the paired ratio needs few (the interleaved
    // calibration's finding).
    {.name = "faults",
     .description = "swap-in by a read fault vs by a write fault, page-interleaved in one loop (zswap + disk)",
     .kinds = {"swapin"}, .backends = {"zswap", "disk"}, .profiles = {"ratio2"}, .patterns = {"random"},
     .pages = 8192, .repetitions = 20, .arms = {{.label = ""}, {.label = "write", .write_fault = true}},
     .interleave_arms = true},
    // calibrate-exact: what `./swapbench calibrate --exact` runs in counted guests. zswap swap-in
    // with known work inside every counted fault: the plain arm, its A/A twin, and +8/+64/+512
    // user instructions, which the count pass must find exactly (and no kernel difference).
    // 1024 pages, 2 repetitions: counts do not need many samples, and a counted TCG fault is slow.
    {.name = "calibrate-exact",
     .description = "zswap swap-in with 0 (twice), 8, 64, 512 known user instructions in every counted fault",
     .kinds = {"swapin"}, .backends = {"zswap"}, .profiles = {"ratio2"}, .patterns = {"random"}, .pages = 1024,
     .repetitions = 2,
     .arms = {{"", 0, 0}, {"twin", 0, 0}, {"plus8insn", 0, 8}, {"plus64insn", 0, 64}, {"plus512insn", 0, 512}},
     .known_work = true},
  };
}

// arm64 MTE: every set on untagged and on tagged memory.
std::vector<SuiteDef> mte_suites() {
  return {
    // mte: swap-in and swap-out of MTE-tagged pages (a random tag per granule, PROT_MTE) against the
    // same sets on untagged memory, interleaved; after swap-in every granule's tag and every page's
    // stamp is checked. arm64 with MTE only (natively, or ./swapbench matrix --kernels
    // debian-6.12-arm64 --suite mte); elsewhere the tagged sets are skipped with the reason. 16 MiB:
    // a tagged fault under TCG costs tens of microseconds. zram too: a synchronous device frees the
    // slot at once on swap-in, where tags were lost when arch_swap_restore() ran after swap_free():
    // they were restored after their saved copy had been freed.
    {.name = "mte",
     .description = "arm64 MTE: tagged vs untagged swap-in and swap-out (zswap, zram, disk), every tag checked, 16 MiB",
     .kinds = {"swapin", "swapout"}, .backends = {"zswap", "zram", "disk"}, .profiles = {"ratio2"},
     .patterns = {"random"}, .pages = 4096, .repetitions = 10, .guest_pages = kMteGuestPages, .mte_pairs = true},
    // mte-writeback: the writeback suite's sets on untagged and on MTE-tagged memory (arm64 with
    // MTE): tagged pages stored in zswap, written back to disk by each mechanism the kernel offers,
    // faulted back from disk, every tag checked. 8 MiB and 3 repetitions: a written-back page costs a
    // disk write, and tagged faults under TCG are slow.
    {.name = "mte-writeback",
     .description = "arm64 MTE: zswap writeback (every mechanism) of tagged vs untagged pages, then swap-in from disk, every tag checked",
     .kinds = {"writeback"}, .backends = {"zswap"}, .profiles = {"ratio2"}, .patterns = {"random"},
     .pages = 2048, .repetitions = 3, .guest_pages = kMteGuestPages, .mte_pairs = true},
  };
}

// Models timed in user space, away from the kernel's swap path.
std::vector<SuiteDef> model_suites() {
  return {
    // recheck-model: user space only (bench/recheck_model.h). 3 repetitions: each is already
    // Google Benchmark's adaptive iteration count over 0.2 s. It takes no --pages, in a guest either.
    {.name = "recheck-model",
     .description = "a user-space model of the writeback recheck's lookup (rbtree+spinlock, xarray locked and lock-free)",
     .kinds = {"recheck_model"}, .repetitions = 3, .guest_pages = std::nullopt, .model = true},
  };
}

// The workloads swap patch series are judged by on the mm list, with their counters.
std::vector<SuiteDef> workload_suites() {
  return {
    // usemem: 2 workers x 128 MiB x 2 loops under a 128 MiB limit (bench/plan.h says why), zswap
    // with lzo (the compressor the figures name; --compressor for others) and disk. 5
    // repetitions: the mean ± stdev the list quotes, inside 3 minutes here.
    {.name = "usemem",
     .description = "usemem: N workers x S bytes x L loops in a memory cgroup at half their total (zswap lzo + disk)",
     .kinds = {"usemem"}, .backends = {"zswap", "disk"}, .profiles = {"ratio2"}, .patterns = {"seq"},
     .repetitions = 5, .guest_pages = std::nullopt, .workload = true, .compressors = {"lzo"}},
    // swap-w: vm-scalability's swap-w-seq and swap-w-rand (bench/kinds/swap_w.cpp), the same
    // workers written once, on zswap with lzo and on disk, 5 repetitions.
    {.name = "swap-w",
     .description = "vm-scalability swap-w-seq and swap-w-rand: N workers write S bytes once under a limit of 2/3 "
                    "(zswap lzo + disk)",
     .kinds = {"swap_w"}, .backends = {"zswap", "disk"}, .profiles = {"ratio2"}, .patterns = {"seq", "random"},
     .repetitions = 5, .guest_pages = std::nullopt, .workload = true, .compressors = {"lzo"}},
  };
}

}  // namespace

const std::vector<SuiteDef>& suites() {
  // In the order `list` prints them and --suite names them.
  static const std::vector<SuiteDef> s = [] {
    std::vector<SuiteDef> all;
    for (auto family : {timed_suites, writeback_suites, calibration_suites, mte_suites, model_suites, workload_suites})
      for (auto& def : family()) all.push_back(std::move(def));
    return all;
  }();
  return s;
}

const SuiteDef& find_suite(const std::string& name) {
  std::string names;
  for (const auto& s : suites()) {
    if (s.name == name) return s;
    names += (names.empty() ? "" : ", ") + s.name;
  }
  throw std::invalid_argument("--suite '" + name + "': unknown; accepted: " + names);
}

}  // namespace swapbench
