// A kind of set (swap-in, swap-out, a floor, writeback, the race, a model): what it is, as plain
// data; how a plan becomes its sets (expand); and the phases the Runner drives for one repetition
// of one of its sets (prepare, time, prove, record). Each kind is one file in bench/kinds/ that
// registers itself by name with a static KindRegistrar, the way fio's engines fill and register an
// ioengine_ops; bench/kinds/floor_firsttouch.cpp is the smallest to copy.
#pragma once
#include <benchmark/benchmark.h>

#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "bench/plan.h"
#include "bench/suites.h"
#include "workloads/measure/kstat.h"
#include "workloads/measure/pmu.h"
#include "workloads/proof/proof.h"

namespace swapbench {

class Runner;
struct SetRecord;
struct Borrowed;

// What a kind is, as data: `list --json` prints it, make_plan() and the summary read it.
struct KindInfo {
  std::string name;         // in set names and results ("swapin"); never renamed
  std::string short_name;   // a table's row label ("in")
  std::string description;  // one line
  bool privileged = true;   // borrows the machine (swap areas, zswap, cgroups): root only
  bool fault = true;        // its latency is a per-page timing (a fault, or one page pushed out)
  bool model = false;       // a user-space model: borrows nothing, runs outside the Runner
  bool threads = false;     // may run with several threads
  bool counted = true;      // its timed loop is counted with the run's --events
  bool floor = false;       // expanded once after the other sets; --no-floors leaves it out
  bool fault_option = true; // --fault read|write shapes its faults
  std::vector<Backend> backends;  // where its sets swap to (empty: nowhere)
  // Options that apply only to a suite holding this kind, each with the refusal for a suite that
  // does not ("{suite}" is replaced by that suite's name).
  std::vector<std::pair<std::string, std::string>> options;
  // Its sets are named by their writeback mechanism; before the kernel is asked, by these words.
  std::string unresolved_mechanism;
};

// One repetition of one set as its phases see it: the Runner's services, the record being
// written, and what each phase leaves for the next.
struct SetRun {
  Runner& runner;
  const Plan& plan;
  Borrowed* borrowed;  // null in a run that borrows nothing
  SetRecord& rec;
  const Scenario& sc;
  nlohmann::json& sb;  // the set's result block
  CounterGroup& pmu;
  Verdict verdict;
  std::vector<uint64_t> samples;  // ns per timed iteration
  size_t k = 0;                   // timed iterations done
  uint64_t resident_before = 0;   // region pages resident when the timed loop began
  StatSnapshot before, after;     // around the timed loop
  StatDelta delta;                // after - before
  bool ok() const;                // nothing has failed yet
};

// The phases of one repetition, in the order the Runner calls them. A phase reports a failure in
// run.rec.error; the phases after it are then skipped, except record().
class SetPhases {
 public:
  virtual ~SetPhases() = default;
  // Everything before the timed loop: a region filled and pushed out, writeback forced.
  virtual void prepare(SetRun& run) = 0;
  // The timed loop, between the Runner's two kernel snapshots and inside its counters.
  virtual void time(SetRun& run, benchmark::State& st) = 0;
  // The verdict (proof of path) and the check of every page.
  virtual void prove(SetRun& run) = 0;
  // Always, last: what the result block holds whatever happened.
  virtual void record(SetRun&) {}
};

// Where a kind's sets go: one profile on one backend with one of its compressors. A floor is
// expanded once, at the first profile, with Backend::None.
struct SetSite {
  Backend backend = Backend::None;
  std::string compressor = "none";
  ProfileSpec profile;
  bool first_compressor = true;  // the first of the backend's compressors in this run
};

// What a kind's expand() adds sets and skips through.
class Expander {
 public:
  Expander(const Plan& p, const Capabilities& c, Expansion& out);
  const Plan& plan;
  const Capabilities& caps;
  bool resolved() const { return caps.root && !caps.listing; }  // the kernel has been asked
  Scenario set(const std::string& kind, const SetSite& at, Pattern pattern) const;
  // One set (twice on the mte suite: untagged, then tagged where MTE is here); a privileged set
  // outside root is a skip.
  void add(Scenario sc);
  // One set per calibration arm of the suite, or one page-interleaved set of all arms.
  void add_arms(Scenario sc);
  void skip(std::string benchmark, std::string reason, std::string fix);

 private:
  void add_plain(Scenario sc);
  Expansion& out_;
  std::string no_mte_;
  bool mte_ = false;
};

class SetKind {
 public:
  explicit SetKind(KindInfo i) : info(std::move(i)) {}
  virtual ~SetKind() = default;
  const KindInfo info;
  virtual void expand(Expander& x, const SetSite& at) const = 0;
  // A fresh state for one repetition of one of its sets (null for a model, which the Runner never sees).
  virtual std::unique_ptr<SetPhases> phases() const = 0;
  // Google Benchmark iterations per repetition: one per page unless the kind times otherwise.
  virtual int64_t iterations(const Scenario& sc) const { return static_cast<int64_t>(sc.pages); }
  // The summary table's note for one repetition ("": none); clears `figures` when its p50/p99
  // mean nothing.
  virtual std::string summary_note(const SetRecord&, bool& /*figures*/) const { return ""; }
  // The same over all of a set's valid repetitions, asked first ("": summary_note is asked).
  virtual std::string summary_over(const std::vector<const SetRecord*>& /*valid*/, bool& /*figures*/) const {
    return "";
  }
};

// Every registered kind, by name (sorted). The registry is a function-local static, so a
// registrar in any translation unit may run first.
const std::vector<const SetKind*>& kinds();
const SetKind& find_kind(const std::string& name);  // throws std::invalid_argument listing the kinds
const SetKind* kind_or_null(const std::string& name);

// `static const KindRegistrar r(std::make_unique<MyKind>());` in the kind's file registers it.
struct KindRegistrar {
  explicit KindRegistrar(std::unique_ptr<SetKind> k);
};

}  // namespace swapbench
