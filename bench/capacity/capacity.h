// capacity: what compressed swap would store for real pages. Samples pages from processes,
// cgroups, files and core dumps (bench/capacity/page_source.h), classifies and compresses
// each with every compressor as the kernel would (page_codec.h), times compression and
// decompression per page, and writes a versioned JSON of per-page lengths that
// analysis/capacity/model.py turns into pool sizes per kernel version and allocator.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace swapbench {

struct CapacityOptions {
  std::vector<int> pids;
  std::vector<std::string> cgroups, files, cores, compressors;
  uint64_t sample = 16384;  // 0 = every page (--all)
  uint64_t seed = 0;        // 0 = drawn from the clock, and recorded
  std::string out;          // "" = stdout
  std::string save_pages;   // raw file of the sampled pages, in record order (for --validate)
  int save_pages_fd = -1;   // or an open descriptor to write them into (the caller's memfd)
};

constexpr int kCapacitySchemaVersion = 1;

// The swapbench_capacity block that opens every capacity file: schema_version, kind, and the build
// that wrote it (version and commit, as a run result's context.swapbench has them).
nlohmann::json capacity_header(const std::string& kind);

// Throws capacity::InputError on bad input (exit 2), std::runtime_error on a failure (exit 1).
nlohmann::json capacity_run(const CapacityOptions& o);

}  // namespace swapbench
