#include "bench/scenario.h"

#include <stdexcept>

namespace swapbench {

std::string to_string(Kind k) {
  switch (k) {
    case Kind::Swapin: return "swapin";
    case Kind::Swapout: return "swapout";
    case Kind::FloorSwapcache: return "floor_swapcache";
    case Kind::FloorFirsttouch: return "floor_firsttouch";
  }
  return "?";
}

std::string Scenario::name() const {
  std::string n = to_string(kind) + "/" + to_string(backend) + "/" + compressor + "/" + profile.name() + "/" +
                  to_string(pattern);
  return write_faults ? n + "/write" : n;
}

const std::vector<SuiteDef>& suites() {
  static const std::vector<SuiteDef> s = {
      // quick: one compressible profile (2:1, about what zswap sees from typical anonymous memory),
      // random order (no readahead or prefetch luck), 32 MiB: large enough for a stable p99,
      // small enough that the whole suite fits in 3 minutes on a 2-vCPU VM.
      {"quick", "every accepted compressor + disk, ratio2 pages, random order, 32 MiB, 5 repetitions",
       {"zswap", "disk"}, {"ratio2"}, {"random"}, 8192, 5},
      // full: every profile and pattern, 128 MiB, 10 repetitions (>= 9, what A/B statistics need).
      {"full", "every accepted compressor + disk, all profiles and patterns, 128 MiB, 10 repetitions",
       {"zswap", "disk"}, {"random", "text", "ratio2", "ratio3", "ratio4", "zero", "same"},
       {"seq", "random", "strided"}, 32768, 10},
  };
  return s;
}

const SuiteDef& find_suite(const std::string& name) {
  std::string names;
  for (const auto& s : suites()) {
    if (s.name == name) return s;
    names += (names.empty() ? "" : ", ") + s.name;
  }
  throw std::invalid_argument("unknown suite '" + name + "'; accepted: " + names);
}

}  // namespace swapbench
