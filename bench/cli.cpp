#include "bench/cli.h"

#include "bench/plan.h"
#include "bench/suites.h"
#include "bench/threads.h"
#include "bench/version.h"
#include "workloads/system/swap_area.h"

namespace swapbench {

namespace {

const char* kExamples = R"(
Examples:
  ./swapbench check                          what can run here, and what to fix for the rest
  ./swapbench run                            the quick suite -> results/<host>-<kernel>-<UTC>.json
  ./swapbench run --suite full               every profile and pattern, 10 repetitions
  ./swapbench run --backend zswap --compressor lzo --profile ratio3 --pattern seq --pages 16384
  ./swapbench run --events cycles:k,instructions:k,cache-misses --cpu 1 --out /tmp/a.json
  ./swapbench run --profile file:/usr/bin/python3 --fault write
  ./swapbench run --filter 'swapin/zswap/lzo'  only the sets whose name matches
  ./swapbench run --backend zram --compressor lz4   swap-in and swap-out through a zram device (root)
  ./swapbench list                           suites and the sets they hold
  ./swapbench list --json                    suites, kinds, backends, metrics and options as data
  ./swapbench run --suite race --duration 5  the writeback race for 5 s (root)
  ./swapbench run --suite swapin --threads 2  two threads fault the set's pages at once, each its half
  ./swapbench run --suite recheck-model      a user-space model of the recheck's lookup (no root)
  ./swapbench restore                        undo what a killed run left changed
Every option has an environment twin: --pages N is SWAPBENCH_PAGES=N.)";

std::vector<std::string> split_commas(const std::vector<std::string>& in) {
  std::vector<std::string> out;
  for (const auto& s : in) {
    size_t a = 0;
    while (a <= s.size()) {
      size_t b = s.find(',', a);
      if (b == std::string::npos) b = s.size();
      if (b > a) out.push_back(s.substr(a, b - a));
      a = b + 1;
    }
  }
  return out;
}

std::string join(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : ",") + s;
  return out;
}

std::string suite_help() {
  std::string names;
  for (const auto& s : suites()) names += (names.empty() ? "" : ", ") + s.name;
  return names + " (./swapbench list)";
}

std::string format_seconds(double s) {
  std::string t = std::to_string(s);
  t.erase(t.find_last_not_of('0') + 1);
  if (t.back() == '.') t.pop_back();
  return t;
}

const std::string kSwapDirHelp =
    "where the run's swap file is created, with a random name: a folder of root's, not writable by others unless sticky";

}  // namespace

const std::vector<std::string>& described_verbs() {
  static const std::vector<std::string> v = {"run", "list", "check", "restore"};
  return v;
}

Cli::Cli() : app("swapbench: what the Linux swap path costs - swap-in, swap-out, zswap, zram - measured on real swap") {
  app.footer(kExamples);
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("swapbench ") + version() + " (commit " + commit() + ")");
  add_run();
  add_list();
  check = app.add_subcommand("check", "what can run here, and how to fix what cannot");
  check->add_option("--events", events_, "libpfm4 event names to try")->default_str(join(o.events));
  check->add_option("--swap-dir", o.swap_dir, kSwapDirHelp)->default_str(kDefaultSwapDir);
  restore = app.add_subcommand("restore", "undo the system changes of a run that was killed");
  add_hidden();
}

void Cli::add_common(CLI::App* c) {
  c->add_option("--suite", o.suite, suite_help())->envname("SWAPBENCH_SUITE")->capture_default_str();
  c->add_option("--backend", backends_, "zswap, disk, zram (comma-separated; default: the suite's)")->envname("SWAPBENCH_BACKEND");
  c->add_option("--compressor", compressors_,
                "compressors for zswap and zram sets (default: every one the kernel accepts for zswap, "
                "every one a zram device offers for zram)")
      ->envname("SWAPBENCH_COMPRESSOR");
  c->add_option("--profile", profiles_, "page content: random, text, ratio2/3/4, zero, same, file:PATH")
      ->envname("SWAPBENCH_PROFILE");
  c->add_option("--pattern", patterns_, "fault order: seq, random, strided")->envname("SWAPBENCH_PATTERN");
  c->add_option("--filter", o.filter,
                "only the sets whose name matches this regular expression, as Google Benchmark's --benchmark_filter")
      ->envname("SWAPBENCH_FILTER");
  // Numbers are kept as text and checked by make_plan (bench/options.h); the type name says what is taken.
  c->add_option("--pages", o.pages, "pages per set, 1 or more (default: the suite's); with --threads, split over the threads")
      ->envname("SWAPBENCH_PAGES")->type_name("INT");
  c->add_option("--threads", o.threads,
                "threads of the swap-in, swap-out and writeback sets, 1.." + std::to_string(kMaxThreads) +
                    ", each pinned to its own CPU while there are enough (else they share, and the result says so), faulting its own slice of the set's "
                    "--pages (split, so memory use and the proof's totals do not change); the set's name gains "
                    "/threads:N. Default 1: one thread is the uncontended cost every other figure is compared with")
      ->envname("SWAPBENCH_THREADS")->type_name("INT")->default_str("1");
  c->add_option("--workers", o.workers, "usemem and swap-w: worker processes, 1 to 256")
      ->envname("SWAPBENCH_WORKERS")->type_name("INT")->default_str(std::to_string(Plan{}.workers));
  c->add_option("--worker-bytes", o.worker_bytes, "usemem and swap-w: anonymous memory each worker writes (64M, 1G)")
      ->envname("SWAPBENCH_WORKER_BYTES")->type_name("SIZE")->default_str(std::to_string(Plan{}.worker_bytes >> 20) + "M");
  c->add_option("--loops", o.loops, "usemem: times each worker writes all its pages, 1 to 1000")
      ->envname("SWAPBENCH_LOOPS")->type_name("INT")->default_str(std::to_string(Plan{}.loops));
}

void Cli::add_run() {
  run = app.add_subcommand("run", "run a suite and write a result file");
  run->footer(kExamples);
  add_common(run);
  run->add_option("--cpu", o.cpu, "CPU the faulting thread is pinned to (default: the last one); with --threads, thread 0's, the others on the CPUs below it")
      ->envname("SWAPBENCH_CPU")->type_name("INT");
  run_events_ = run->add_option("--events", events_, "libpfm4 event names, comma-separated")
                    ->envname("SWAPBENCH_EVENTS")->default_str(join(o.events));
  run->add_option("--repetitions", o.repetitions, "repetitions per set, 1 or more, interleaved (default: the suite's)")
      ->envname("SWAPBENCH_REPETITIONS")->type_name("INT");
  run->add_option("--out", o.out, "result file (default: results/<host>-<kernel>-<UTC>.json)")->envname("SWAPBENCH_OUT");
  run->add_option("--fault", o.fault, "read or write faults")->envname("SWAPBENCH_FAULT")->default_str("read");
  run->add_option("--inject-ns", o.inject_ns, "busy-wait N ns inside each timed fault (calibration)")
      ->envname("SWAPBENCH_INJECT_NS")->type_name("INT");
  run->add_option("--duration", o.duration_s, "seconds the race suite runs, 0.1 to 86400")
      ->envname("SWAPBENCH_DURATION")->type_name("FLOAT")->default_str(format_seconds(Plan{}.duration_s));
  run->add_option("--race-mechanism", o.race_mechanism,
                  "the race suite's way to force writeback: memcg_zswap_max, shrinker_reclaim or pool_limit "
                  "(default: the first the kernel offers)")
      ->envname("SWAPBENCH_RACE_MECHANISM");
  run->add_option("--test-stale-page", o.test_stale_page, "")->group("");
  run->add_option("--swap-device", o.swap_device,
                  "swap on this blank block device instead of a file (a guest's scratch disk); a device holding "
                  "anything (file system, partition table, RAID, LVM, LUKS, someone's swap) is refused")
      ->envname("SWAPBENCH_SWAP_DEVICE");
  // No environment twin: a variable left set would destroy whatever the next --swap-device holds.
  run->add_flag("--swap-device-wipe", o.swap_device_wipe,
                "DESTROYS DATA: let --swap-device overwrite a device that holds something (every signature on "
                "it is wiped); a device mounted, swapped on or otherwise in use is still refused");
  run->add_option("--swap-dir", o.swap_dir, kSwapDirHelp)->envname("SWAPBENCH_SWAP_DIR")->default_str(kDefaultSwapDir);
  run->add_flag("--fixed-order", o.fixed_order,
                "run sets in their declared order, repetitions back to back, instead of randomly interleaved "
                "(the count pass uses it: the same order in every boot)")
      ->envname("SWAPBENCH_FIXED_ORDER");
  run->add_flag("--thp", o.thp, "leave transparent huge pages on for the region");
  run->add_flag("--no-floors", o.no_floors, "skip the swap-cache and first-touch floors");
  run->add_option("--test-corrupt-page", o.test_corrupt_page, "tests only: damage this page after swap-in")
      ->group("");  // hidden: it exists to prove the stamp check fails loudly
}

void Cli::add_list() {
  list = app.add_subcommand("list", "list suites and their sets");
  add_common(list);
  // As in run, checked the same way: matrix and ab ask list whether a guest run's options are
  // good before they fetch, build or boot anything.
  list->add_option("--duration", o.duration_s, "as in run (checked, exit 2 when run would refuse it)")->type_name("FLOAT");
  list->add_option("--race-mechanism", o.race_mechanism, "as in run (checked)");
  list->add_option("--repetitions", o.repetitions, "as in run (checked)")->type_name("INT");
  list->add_flag("--thp", o.thp, "as in run");
  list->add_flag("--json", list_json,
                 "print the binary's manifest instead: suites, kinds, backends, metrics and options as JSON "
                 "(the whole binary: the other options do not narrow it)");
}

void Cli::add_hidden() {
  // Guests only: N getppid() calls, the near-empty syscall whose traced duration is ftrace's own
  // per-call cost (the baseline subtracted from every traced function).
  getppid_loop = app.add_subcommand("getppid-loop", "");
  getppid_loop->add_option("calls", getppid_calls)->required();
  getppid_loop->group("");
  // Guests and MTE hosts: the MTE gate (workloads/arch/arm64/mte.h), run before any swap.
  mte_gate = app.add_subcommand("mte-selftest", "");
  mte_gate->add_option("--pages", mte_pages)->check(CLI::Range(1, 65536));
  mte_gate->group("");
  // x86-64 guests: the cmpxchg16b flags gate (bench/cx16_gate.h), run before anything else.
  cx16_gate = app.add_subcommand("cx16-selftest", "");
  cx16_gate->group("");
  // The matrix: the saved tags' memory over every boot's sets, by the run's own rule (bench/mte_memory.h).
  tag_memory = app.add_subcommand("mte-tag-memory", "");
  tag_memory->group("");
  // Tests only: dies of a SIGSEGV on purpose, to show the crash report says where.
  crash_selftest = app.add_subcommand("crash-selftest", "");
  crash_selftest->group("");
}

void Cli::finish() {
  o.backends = split_commas(backends_);
  o.compressors = split_commas(compressors_);
  o.profiles = split_commas(profiles_);
  o.patterns = split_commas(patterns_);
  if (!events_.empty()) o.events = split_commas(events_);
  o.events_given = run->parsed() && run_events_->count() > 0;
}

}  // namespace swapbench
