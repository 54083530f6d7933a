// The swapbench binary: run, list, check, restore. The ./swapbench front door at the top of the
// repository installs, builds and then calls this.
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <CLI/CLI.hpp>

#include <iostream>

#include "bench/check.h"
#include "bench/environment.h"
#include "bench/run.h"
#include "workloads/arch/arm64/mte.h"
#include "workloads/crash_report.h"
#include "workloads/system/session.h"
#include "workloads/system/swap_area.h"

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
  ./swapbench run --suite race --duration 5  the writeback race for 5 s (root)
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

}  // namespace

int main(int argc, char** argv) {
  // A closed stdout (`swapbench run | head`) must not kill a run that has the machine borrowed:
  // the write fails with EPIPE instead, and is reported (run.cpp check_stdout).
  signal(SIGPIPE, SIG_IGN);
  // A crash anywhere says where (stderr: a guest's log and console), so one seen once can be found.
  swapbench::install_crash_report();
  CLI::App app{"swapbench: what the Linux swap path costs - swap-in, swap-out, zswap, zram - measured on real swap"};
  app.footer(kExamples);
  app.require_subcommand(1);
  swapbench::RunOptions o;
  for (int i = 0; i < argc; ++i) o.command_line += (i ? " " : "") + std::string(argv[i]);
  std::vector<std::string> backends, compressors, profiles, patterns, events;
  events = {"cycles:k,instructions:k,cycles:u,instructions:u"};
  std::string swap_dir_help = std::string("where the run's swap file is created, with a random name: a folder of root's, "
                                          "not writable by others unless sticky (default ") + swapbench::kDefaultSwapDir + ")";

  auto add_common = [&](CLI::App* c) {
    c->add_option("--suite", o.suite, "quick, full, swapin, writeback, race, calibrate, faults, mte, recheck-model (./swapbench list)")->envname("SWAPBENCH_SUITE")->capture_default_str();
    c->add_option("--backend", backends, "zswap, disk, zram (comma-separated; default: the suite's)")->envname("SWAPBENCH_BACKEND");
    c->add_option("--compressor", compressors,
                  "compressors for zswap and zram sets (default: every one the kernel accepts for zswap, "
                  "every one a zram device offers for zram)")
        ->envname("SWAPBENCH_COMPRESSOR");
    c->add_option("--profile", profiles, "page content: random, text, ratio2/3/4, zero, same, file:PATH")
        ->envname("SWAPBENCH_PROFILE");
    c->add_option("--pattern", patterns, "fault order: seq, random, strided")->envname("SWAPBENCH_PATTERN");
    c->add_option("--filter", o.filter,
                  "only the sets whose name matches this regular expression, as Google Benchmark's --benchmark_filter")
        ->envname("SWAPBENCH_FILTER");
    c->add_option("--pages", o.pages, "pages per set, 1 or more (default: the suite's)")->envname("SWAPBENCH_PAGES");
  };

  auto* run = app.add_subcommand("run", "run a suite and write a result file");
  run->footer(kExamples);
  add_common(run);
  run->add_option("--cpu", o.cpu, "CPU the faulting thread is pinned to (default: the last one)")->envname("SWAPBENCH_CPU");
  auto* ev = run->add_option("--events", events, "libpfm4 event names, comma-separated")->envname("SWAPBENCH_EVENTS")->capture_default_str();
  run->add_option("--repetitions", o.repetitions, "repetitions per set, 1 or more, interleaved (default: the suite's)")
      ->envname("SWAPBENCH_REPETITIONS");
  run->add_option("--out", o.out, "result file (default: results/<host>-<kernel>-<UTC>.json)")->envname("SWAPBENCH_OUT");
  run->add_option("--fault", o.fault, "read or write faults (default: read)")->envname("SWAPBENCH_FAULT");
  run->add_option("--inject-ns", o.inject_ns, "busy-wait N ns inside each timed fault (calibration)")
      ->envname("SWAPBENCH_INJECT_NS");
  run->add_option("--duration", o.duration_s, "seconds the race suite runs, 0.1 to 86400 (default 10)")
      ->envname("SWAPBENCH_DURATION");
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
  run->add_option("--swap-dir", o.swap_dir, swap_dir_help)->envname("SWAPBENCH_SWAP_DIR");
  run->add_flag("--fixed-order", o.fixed_order,
                "run sets in their declared order, repetitions back to back, instead of randomly interleaved "
                "(the count pass uses it: the same order in every boot)")
      ->envname("SWAPBENCH_FIXED_ORDER");
  run->add_flag("--thp", o.thp, "leave transparent huge pages on for the region");
  run->add_flag("--no-floors", o.no_floors, "skip the swap-cache and first-touch floors");
  run->add_option("--test-corrupt-page", o.test_corrupt_page, "tests only: damage this page after swap-in")
      ->group("");  // hidden: it exists to prove the stamp check fails loudly

  auto* list = app.add_subcommand("list", "list suites and their sets");
  add_common(list);
  // As in run, checked the same way: matrix and ab ask list whether a guest run's options are
  // good before they fetch, build or boot anything.
  list->add_option("--duration", o.duration_s, "as in run (checked, exit 2 when run would refuse it)");
  list->add_option("--race-mechanism", o.race_mechanism, "as in run (checked)");
  list->add_option("--repetitions", o.repetitions, "as in run (checked)");
  list->add_flag("--thp", o.thp, "as in run");
  auto* check = app.add_subcommand("check", "what can run here, and how to fix what cannot");
  check->add_option("--events", events, "libpfm4 event names to try")->capture_default_str();
  check->add_option("--swap-dir", o.swap_dir, swap_dir_help);
  app.add_subcommand("restore", "undo the system changes of a run that was killed");
  // Guests only: N getppid() calls, the near-empty syscall whose traced duration is ftrace's own
  // per-call cost (the baseline subtracted from every traced function).
  long getppid_calls = 0;
  auto* getppid_loop = app.add_subcommand("getppid-loop", "");
  getppid_loop->add_option("calls", getppid_calls)->required();
  getppid_loop->group("");
  // Guests and MTE hosts: the MTE gate (workloads/arch/arm64/mte.h), run before any swap.
  size_t mte_pages = 64;
  auto* mte_gate = app.add_subcommand("mte-selftest", "");
  mte_gate->add_option("--pages", mte_pages)->check(CLI::Range(1, 65536));
  mte_gate->group("");
  // Tests only: dies of a SIGSEGV on purpose, to show the crash report says where.
  auto* crash_selftest = app.add_subcommand("crash-selftest", "");
  crash_selftest->group("");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  o.backends = split_commas(backends);
  o.compressors = split_commas(compressors);
  o.profiles = split_commas(profiles);
  o.patterns = split_commas(patterns);
  o.events = split_commas(events);
  o.events_given = run->parsed() && ev->count() > 0;
  if (run->parsed() && geteuid() == 0) {
    const std::string why = swapbench::root_environment_problem(std::vector<std::string>(argv + 1, argv + argc));
    if (!why.empty()) {
      std::cerr << "swapbench run: " << why << "\n";
      return 2;
    }
  }

  if (run->parsed()) return swapbench::run_command(o);
  if (list->parsed()) return swapbench::list_command(o);
  if (check->parsed()) return swapbench::check_command(o.events, o.swap_dir.empty() ? swapbench::kDefaultSwapDir : o.swap_dir);
  if (mte_gate->parsed()) return swapbench::mte_gate_command(mte_pages, std::cout);
  if (crash_selftest->parsed()) swapbench::crash_on_purpose();
  if (getppid_loop->parsed()) {
    for (long i = 0; i < getppid_calls; ++i) syscall(SYS_getppid);
    return 0;
  }
  // restore
  try {
    swapbench::SysOps ops;
    const swapbench::RestoreResult r = swapbench::restore_leftovers_result(ops);
    for (const auto& l : r.lines()) std::cout << l << "\n";
    return r.success() ? 0 : 1;
  } catch (const std::exception& e) {
    std::cerr << "swapbench restore: " << e.what() << "\n";
    return 1;
  }
}
