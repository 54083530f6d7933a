// The swapbench binary: run, list, check, restore, --version. The ./swapbench front door at the top of the
// repository installs, builds and then calls this.
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <iostream>

#include "bench/capacity/capacity_cli.h"
#include "bench/check.h"
#include "bench/cli.h"
#include "bench/cx16_gate.h"
#include "bench/environment.h"
#include "bench/manifest.h"
#include "bench/mte_memory.h"
#include "bench/result_doc.h"
#include "bench/run.h"
#include "workloads/arch/arm64/mte.h"
#include "workloads/diagnostics/crash_report.h"
#include "workloads/system/session.h"
#include "workloads/system/swap_area.h"

int main(int argc, char** argv) {
  // A closed stdout (`swapbench run | head`) must not kill a run that has the machine borrowed:
  // the write fails with EPIPE instead, and is reported (run.cpp check_stdout).
  signal(SIGPIPE, SIG_IGN);
  // A crash anywhere says where (stderr: a guest's log and console), so one seen once can be found.
  swapbench::install_crash_report();
  swapbench::Cli cli;
  CLI::App& app = cli.app;
  swapbench::RunOptions& o = cli.o;
  for (int i = 0; i < argc; ++i) o.command_line += (i ? " " : "") + std::string(argv[i]);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  cli.finish();
  if (cli.run->parsed() && geteuid() == 0) {
    const std::string why = swapbench::root_environment_problem(std::vector<std::string>(argv + 1, argv + argc));
    if (!why.empty()) {
      std::cerr << "swapbench run: " << why << "\n";
      return 2;
    }
  }

  if (cli.run->parsed()) return swapbench::run_command(o);
  if (cli.list->parsed() && cli.list_json) {
    CLI::App sampler;
    swapbench::CapacityArgs unused;
    swapbench::add_capacity_options(sampler, unused);
    std::cout << swapbench::manifest(app, {{"capacity", &sampler}}).dump(2) << "\n";
    return swapbench::check_stdout(0);
  }
  if (cli.list->parsed()) return swapbench::list_command(o);
  if (cli.check->parsed())
    return swapbench::check_command(o.events, o.swap_dir.empty() ? swapbench::kDefaultSwapDir : o.swap_dir);
  if (cli.mte_gate->parsed()) return swapbench::mte_gate_command(cli.mte_pages, std::cout);
  if (cli.cx16_gate->parsed()) return swapbench::cx16_gate_command(std::cout);
  if (cli.crash_selftest->parsed()) swapbench::crash_on_purpose();
  if (cli.tag_memory->parsed()) return swapbench::mte_tag_memory_command(std::cin, std::cout, std::cerr);
  if (cli.getppid_loop->parsed()) {
    for (long i = 0; i < cli.getppid_calls; ++i) syscall(SYS_getppid);
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
