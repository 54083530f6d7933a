// What one timed set is: the data a suite declares and a result names.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "workloads/page_profile.h"
#include "workloads/proof.h"
#include "workloads/region.h"

namespace swapbench {

enum class Kind { Swapin, Swapout, FloorSwapcache, FloorFirsttouch };
std::string to_string(Kind k);

struct Scenario {
  Kind kind = Kind::Swapin;
  Backend backend = Backend::Zswap;
  std::string compressor = "none";
  ProfileSpec profile;
  Pattern pattern = Pattern::Random;
  bool write_faults = false;
  size_t pages = 0;
  bool privileged() const { return kind != Kind::FloorFirsttouch; }
  // "swapin/zswap/lzo/ratio2/random": kind/backend/compressor/profile/pattern (Google Benchmark
  // style, so its tools can filter on any part).
  std::string name() const;
};

// A suite is data: which backends, profiles, patterns, how many pages and repetitions by default.
struct SuiteDef {
  std::string name, description;
  std::vector<std::string> backends, profiles, patterns;
  size_t pages;
  int repetitions;
};
const std::vector<SuiteDef>& suites();
const SuiteDef& find_suite(const std::string& name);  // throws std::invalid_argument listing the suites

}  // namespace swapbench
