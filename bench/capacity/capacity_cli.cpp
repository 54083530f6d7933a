#include "bench/capacity/capacity_cli.h"

namespace swapbench {

void add_capacity_options(CLI::App& app, CapacityArgs& a) {
  app.footer(R"(
Examples:
  swapbench-capacity --pid 1234 --sample 20000 --out /tmp/pages.json
  swapbench-capacity --cgroup /sys/fs/cgroup/memory/mydb --all
  swapbench-capacity --core /var/crash/core.1234 --compressor lzo-rle,zstd
  swapbench-capacity --file /var/lib/db/table.dat --sample 4096 --seed 7
  swapbench-capacity --validate pages.raw --zpool all --swap-device /dev/vda    (in a guest: kmatrix/capacity.py)
Exit status: 0 ok, 1 a failure (a compressor did not round-trip), 2 bad input.)");
  CapacityOptions& o = a.o;
  app.add_option("--pid", a.pids, "processes, comma-separated: present anonymous and shared-memory pages");
  app.add_option("--cgroup", o.cgroups, "every process in this cgroup folder (read only)");
  app.add_option("--file", o.files, "a raw file, read as pages");
  app.add_option("--core", o.cores, "an ELF core dump: its PT_LOAD segments");
  app.add_option("--sample", o.sample, "pages to sample, stratified over the sources (default 16384: the pool "
                                       "came within 1% at this size on the heaps measured here)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
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

}  // namespace swapbench
