// capacity --validate: the kernel's own figures for a set of sampled pages. The pages (a raw file
// written by --save-pages) are copied into a region inside the suite's cgroup and pushed out with
// MADV_PAGEOUT through zswap once per compressor the kernel accepts; the debugfs and vmstat
// deltas are what the kernel stored. The machine is borrowed through bench/borrow (journalled
// guards: swap file, zswap parameters, cgroup) and given back. The prediction for exactly these
// pages, and the comparison, are analysis/capacity/'s.
#pragma once
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace swapbench {

struct ValidateOptions {
  std::vector<std::string> compressors;  // empty: every one the kernel accepts (zswap) or zram offers
  // zswap's allocators to run each compressor with; empty: the zpool as found. A name the kernel
  // refuses is recorded with its answer (zpool_refused), not fatal: older kernels offer more.
  std::vector<std::string> zpools;
  std::string swap_device;  // "": a swap file (the host); a guest swaps on its own disk
};

// zswap's allocators a kernel may offer (--zpool all): anything else is a typo, refused early.
extern const std::vector<std::string> kKnownZpools;

// Throws capacity::InputError for a bad pages file, SystemError when the machine cannot be
// borrowed (not root, zswap absent).
nlohmann::json capacity_validate(const std::string& raw_pages, const ValidateOptions& o);

}  // namespace swapbench
