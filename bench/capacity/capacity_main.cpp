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

int main(int argc, char** argv) {
  CLI::App app{"swapbench-capacity: per-page compressed lengths of real pages, as the kernel's compressors produce them"};
  app.footer(R"(
Examples:
  swapbench-capacity --pid 1234 --sample 20000 --out /tmp/pages.json
  swapbench-capacity --cgroup /sys/fs/cgroup/memory/mydb --all
  swapbench-capacity --core /var/crash/core.1234 --compressor lzo-rle,zstd
  swapbench-capacity --file /var/lib/db/table.dat --sample 4096 --seed 7
  swapbench-capacity --validate pages.raw --zpool all --swap-device /dev/vda    (in a guest: kmatrix/capacity.py)
Exit status: 0 ok, 1 a failure (a compressor did not round-trip), 2 bad input.)");
  swapbench::CapacityOptions o;
  std::string pids;
  bool all = false;
  app.add_option("--pid", pids, "processes, comma-separated: present anonymous and shared-memory pages");
  app.add_option("--cgroup", o.cgroups, "every process in this cgroup folder (read only)");
  app.add_option("--file", o.files, "a raw file, read as pages");
  app.add_option("--core", o.cores, "an ELF core dump: its PT_LOAD segments");
  app.add_option("--sample", o.sample, "pages to sample, stratified over the sources (default 16384: the pool "
                                       "came within 1% at this size on the heaps measured here)")->check(CLI::PositiveNumber);
  app.add_flag("--all", all, "every page, no sampling");
  app.add_option("--seed", o.seed, "sampling seed (default: from the clock; recorded either way)");
  app.add_option("--compressor", o.compressors, "lzo, lzo-rle, lz4, zstd, deflate, zstd-zram (default all)")->delimiter(',');
  app.add_option("--out", o.out, "result file (default stdout)");
  app.add_option("--save-pages", o.save_pages, "also write the sampled pages, raw, in record order (for --validate): "
                                               "a new file, mode 0600 (they are the process's memory)");
  app.add_option("--save-pages-fd", o.save_pages_fd, "the same into this open descriptor (analysis/capacity/ "
                                                     "passes a memfd: the pages never reach a file system)")
      ->check(CLI::NonNegativeNumber);
  std::string validate;
  app.add_option("--validate", validate, "root: push these saved pages through zswap with each compressor the kernel "
                                         "accepts, and through a fresh zram device per compressor zram offers (or "
                                         "--compressor), and write the kernel's figures");
  swapbench::ValidateOptions vo;
  app.add_option("--zpool", vo.zpools, "with --validate: zswap allocators to run every compressor with, "
                                       "comma-separated, or all (zsmalloc, zbud, z3fold; those the kernel refuses "
                                       "are listed with its answer); default the zpool as found")
      ->delimiter(',');
  app.add_option("--swap-device", vo.swap_device, "with --validate: swap on this block device instead of a swap "
                                                  "file (a guest's own disk; everything on it is lost)");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? 0 : 2;
  }
  if (all) o.sample = 0;
  if (validate.empty() && (!vo.zpools.empty() || !vo.swap_device.empty())) {
    std::cerr << "swapbench capacity: --zpool and --swap-device go with --validate\n";
    return 2;
  }
  try {
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
      o.pids.push_back(p);
      a = b + 1;
    }
    nlohmann::json j;
    if (!validate.empty()) {
      if (geteuid() != 0) {
        std::cerr << "swapbench capacity: --validate changes zswap and swap (borrowed, then restored): run as root\n";
        return 2;
      }
      if (vo.zpools.size() == 1 && vo.zpools[0] == "all") vo.zpools = swapbench::kKnownZpools;
      for (const auto& z : vo.zpools)
        if (!std::count(swapbench::kKnownZpools.begin(), swapbench::kKnownZpools.end(), z))
          throw swapbench::capacity::InputError("--zpool " + z + ": accepted: zsmalloc, zbud, z3fold, or all");
      vo.compressors = o.compressors;
      j = swapbench::capacity_validate(validate, vo);
      j["swapbench_capacity"] = {{"schema_version", swapbench::kCapacitySchemaVersion}, {"kind", "validation"}};
    } else {
      j = swapbench::capacity_run(o);
    }
    if (o.out.empty())
      std::cout << j.dump() << "\n";
    else
      swapbench::write_json_file(o.out, j);
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
  return 0;
}
