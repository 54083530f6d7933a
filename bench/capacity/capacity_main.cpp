// swapbench-capacity: the page sampler behind `./swapbench capacity` (analysis/capacity/ calls
// it, then models the pool). Usable alone: it writes the per-page lengths JSON.
#include <CLI/CLI.hpp>

#include <unistd.h>

#include <algorithm>
#include <iostream>

#include "bench/capacity/capacity.h"
#include "bench/capacity/capacity_cli.h"
#include "bench/capacity/capacity_validate.h"
#include "bench/results.h"
#include "bench/capacity/page_source.h"
#include "workloads/system/sysroot.h"

namespace {

using swapbench::CapacityArgs;

std::vector<int> parse_pids(const std::string& pids) {
  std::vector<int> out;
  std::size_t a = 0;
  while (a < pids.size()) {
    std::size_t b = pids.find(',', a);
    if (b == std::string::npos) b = pids.size();
    std::string t = pids.substr(a, b - a);
    std::size_t used = 0;
    int p = 0;
    try { p = std::stoi(t, &used); } catch (...) { used = 0; }
    if (t.empty() || used != t.size() || p <= 0)
      throw swapbench::capacity::InputError("--pid " + t + ": not a process id; accepted: positive integers, comma-separated");
    out.push_back(p);
    a = b + 1;
  }
  return out;
}

// --zpool all stands for every allocator a kernel may offer; any other name must be one of them.
void check_zpools(swapbench::ValidateOptions& vo) {
  if (vo.zpools.size() == 1 && vo.zpools[0] == "all") vo.zpools = swapbench::kKnownZpools;
  for (const auto& z : vo.zpools)
    if (!std::count(swapbench::kKnownZpools.begin(), swapbench::kKnownZpools.end(), z))
      throw swapbench::capacity::InputError("--zpool " + z + ": accepted: zsmalloc, zbud, z3fold, or all");
}

void write_result(const swapbench::CapacityOptions& o, const nlohmann::json& j) {
  if (o.out.empty())
    std::cout << j.dump() << "\n";
  else
    swapbench::write_json_file(o.out, j);
}

// The sampler, or --validate; the exit status.
int run(CapacityArgs& a) {
  a.o.pids = parse_pids(a.pids);
  if (a.validate.empty()) {
    write_result(a.o, swapbench::capacity_run(a.o));
    return 0;
  }
  if (geteuid() != 0) {
    std::cerr << "swapbench capacity: --validate changes zswap and swap (borrowed, then restored): run as root\n";
    return 2;
  }
  check_zpools(a.vo);
  a.vo.compressors = a.o.compressors;
  nlohmann::json j = swapbench::capacity_validate(a.validate, a.vo);
  j["swapbench_capacity"] = swapbench::capacity_header("validation");
  write_result(a.o, j);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"swapbench-capacity: per-page compressed lengths of real pages, as the kernel's compressors produce them"};
  CapacityArgs a;
  swapbench::add_capacity_options(app, a);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? 0 : 2;
  }
  if (a.all) a.o.sample = 0;
  if (a.validate.empty() && (!a.vo.zpools.empty() || !a.vo.swap_device.empty())) {
    std::cerr << "swapbench capacity: --zpool and --swap-device go with --validate\n";
    return 2;
  }
  try {
    return run(a);
  } catch (const swapbench::capacity::InputError& e) {
    std::cerr << "swapbench capacity: " << e.what() << "\n";
    return 2;
  } catch (const swapbench::SystemError& e) {
    std::cerr << "swapbench capacity: cannot borrow the machine: " << e.what() << "\n";
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "swapbench capacity: " << e.what() << "\n";
    return 1;
  }
}
