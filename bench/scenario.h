// What one timed set is: the data a suite declares and a result names.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "workloads/page_profile.h"
#include "workloads/proof.h"
#include "workloads/region.h"

namespace swapbench {

enum class Kind { Swapin, Swapout, FloorSwapcache, FloorFirsttouch, Writeback, Race };
std::string to_string(Kind k);

struct Scenario {
  Kind kind = Kind::Swapin;
  Backend backend = Backend::Zswap;
  std::string compressor = "none";
  ProfileSpec profile;
  Pattern pattern = Pattern::Random;
  bool write_faults = false;
  size_t pages = 0;
  // A calibration arm: a busy-wait added inside each timed fault, and a label that keeps two sets
  // of the same scenario apart (the A/A twin). Both empty/0 for every ordinary set.
  uint64_t inject_ns = 0;
  std::string variant;
  bool privileged() const { return kind != Kind::FloorFirsttouch; }
  // "swapin/zswap/lzo/ratio2/random": kind/backend/compressor/profile/pattern[/write][/variant]
  // (Google Benchmark style, so its tools can filter on any part).
  std::string name() const;
};

// One arm of a suite: every set is made once per variant.
struct Variant {
  std::string label;  // "" for the plain set
  uint64_t inject_ns;
};

// A suite is data: which backends, profiles, patterns, how many pages and repetitions by default.
struct SuiteDef {
  std::string name, description;
  std::vector<std::string> backends, profiles, patterns;
  size_t pages;
  int repetitions;
  bool swapout = true;  // also time swap-out per backend and compressor
  bool floors = true;   // also time the swap-cache and first-touch floors
  std::vector<Variant> variants = {{"", 0}};
  bool swapin = true;      // time swap-in faults
  bool writeback = false;  // force zswap writeback with every mechanism the kernel offers
  bool race = false;       // provoke the writeback race for --duration seconds (bench/race.h)
};
const std::vector<SuiteDef>& suites();
const SuiteDef& find_suite(const std::string& name);  // throws std::invalid_argument listing the suites

}  // namespace swapbench
