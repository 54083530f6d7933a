// swapbench-capacity: the page sampler behind `./swapbench capacity` (analysis/capacity/ calls
// it, then models the pool). Usable alone: it writes the per-page lengths JSON.
#include <CLI/CLI.hpp>

#include <unistd.h>

#include <algorithm>
#include <iostream>

#include "bench/capacity/capacity.h"
#include "bench/capacity/capacity_validate.h"
#include "bench/results.h"
#include "bench/capacity/page_source.h"
#include "workloads/system/sysroot.h"

namespace {

// What the command line asked for, before it is checked.
struct Args {
  swapbench::CapacityOptions o;
  swapbench::ValidateOptions vo;
  std::string pids, validate;
  bool all = false;
};

void add_options(CLI::App& app, Args& a) {
  app.footer(R"(
Examples:
  swapbench-capacity --pid 1234 --sample 20000 --out /tmp/pages.json
  swapbench-capacity --cgroup /sys/fs/cgroup/memory/mydb --all
  swapbench-capacity --core /var/crash/core.1234 --compressor lzo-rle,zstd
  swapbench-capacity --file /var/lib/db/table.dat --sample 4096 --seed 7
  swapbench-capacity --validate pages.raw --zpool all --swap-device /dev/vda    (in a guest: kmatrix/capacity.py)
Exit status: 0 ok, 1 a failure (a compressor did not round-trip), 2 bad input.)");
  swapbench::CapacityOptions& o = a.o;
  app.add_option("--pid", a.pids, "processes, comma-separated: present anonymous and shared-memory pages");
  app.add_option("--cgroup", o.cgroups, "every process in this cgroup folder (read only)");
  app.add_option("--file", o.files, "a raw file, read as pages");
  app.add_option("--core", o.cores, "an ELF core dump: its PT_LOAD segments");
  app.add_option("--sample", o.sample, "pages to sample, stratified over the sources (default 16384: the pool "
                                       "came within 1% at this size on the heaps measured here)")->check(CLI::PositiveNumber);
  app.add_flag("--all", a.all, "every page, no sampling");
  app.add_option("--seed", o.seed, "sampling seed (default: from the clock; recorded either way)");
  app.add_option("--compressor", o.compressors, "lzo, lzo-rle, lz4, zstd, deflate, zstd-zram (default all)")->delimiter(',');
  app.add_option("--out", o.out, "result file (default stdout)");
  app.add_option("--save-pages", o.save_pages, "also write the sampled pages, raw, in record order (for --validate): "
                                               "a new file, mode 0600 (they are the process's memory)");
  app.add_option("--save-pages-fd", o.save_pages_fd, "the same into this open descriptor (analysis/capacity/ "
                                                     "passes a memfd: the pages never reach a file system)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--validate", a.validate, "root: push these saved pages through zswap with each compressor the kernel "
                                           "accepts, and through a fresh zram device per compressor zram offers (or "
                                           "--compressor), and write the kernel's figures");
  app.add_option("--zpool", a.vo.zpools, "with --validate: zswap allocators to run every compressor with, "
                                         "comma-separated, or all (zsmalloc, zbud, z3fold; those the kernel refuses "
                                         "are listed with its answer); default the zpool as found")
      ->delimiter(',');
  app.add_option("--swap-device", a.vo.swap_device, "with --validate: swap on this block device instead of a swap "
                                                    "file (a guest's own disk; everything on it is lost)");
}

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
int run(Args& a) {
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
  Args a;
  add_options(app, a);
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
