#include "bench/mte_memory.h"

#include <algorithm>
#include <array>
#include <fstream>
#include <iostream>
#include <set>
#include <sstream>

#include "workloads/measure/kstat.h"
#include "workloads/system/sysroot.h"

namespace swapbench {

bool parse_slabinfo(const std::string& text, std::map<std::string, uint64_t>& out) {
  std::istringstream in(text);
  std::string line;
  if (!std::getline(in, line) || line.rfind("slabinfo - version: 2.", 0) != 0) return false;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;  // the column header
    std::istringstream f(line);
    std::string name;
    uint64_t active = 0, total = 0, size = 0;
    if (!(f >> name >> active >> total >> size)) return false;
    out[name] = active * size;
  }
  return true;
}

namespace {

std::string slurp(const char* path) {
  std::ifstream f(path);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

int64_t diff(uint64_t a, uint64_t b) { return static_cast<int64_t>(b) - static_cast<int64_t>(a); }

uint64_t get(const std::map<std::string, uint64_t>& m, const std::string& k) {
  auto it = m.find(k);
  return it == m.end() ? 0 : it->second;
}

}  // namespace

SlabUse read_slab_use() {
  SlabUse u;
  SysOps ops;
  u.shrunk = true;
  for (const char* cache : {"kmalloc-128", "radix_tree_node"}) {
    try {
      ops.write(std::string("/sys/kernel/slab/") + cache + "/shrink", "1");
    } catch (const SystemError&) {
      u.shrunk = false;  // no SLUB sysfs, or not root: the reading stands, marked unshrunk
    }
  }
  u.readable = parse_slabinfo(slurp("/proc/slabinfo"), u.bytes);
  std::istringstream mi(slurp("/proc/meminfo"));
  std::string key;
  uint64_t kb = 0;
  std::string unit;
  while (mi >> key >> kb) {
    std::getline(mi, unit);
    if (key == "Slab:") u.meminfo_slab_bytes = kb * 1024;
  }
  return u;
}

nlohmann::json slab_delta(const SlabUse& before, const SlabUse& after) {
  if (!before.readable || !after.readable)
    return {{"readable", false},
            {"why", "/proc/slabinfo unreadable (needs root and CONFIG_SLUB_DEBUG); no tag-memory figure"}};
  uint64_t all_b = 0, all_a = 0;
  for (const auto& [k, v] : before.bytes) all_b += v;
  for (const auto& [k, v] : after.bytes) all_a += v;
  return {{"readable", true}, {"shrunk", before.shrunk && after.shrunk},
          {"kmalloc_128_bytes", diff(get(before.bytes, "kmalloc-128"), get(after.bytes, "kmalloc-128"))},
          {"radix_tree_node_bytes", diff(get(before.bytes, "radix_tree_node"), get(after.bytes, "radix_tree_node"))},
          {"all_caches_bytes", diff(all_b, all_a)},
          {"meminfo_slab_bytes", diff(before.meminfo_slab_bytes, after.meminfo_slab_bytes)}};
}

PushoutReading read_pushout() { return {read_slab_use(), read_vmstat("/")}; }

void record_pushout(const PushoutReading& before, const PushoutReading& after, nlohmann::json& sb) {
  sb["slab_swapped_out"] = slab_delta(before.slab, after.slab);
  sb["pushout_vmstat"] = to_json(delta(before.vmstat, after.vmstat));
}

namespace {

double median_of(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

double range_of(const std::vector<double>& v) {
  auto [lo, hi] = std::minmax_element(v.begin(), v.end());
  return *hi - *lo;
}

}  // namespace

namespace {

constexpr std::array<const char*, 4> kMeasures = {"kmalloc_128_bytes", "radix_tree_node_bytes", "all_caches_bytes",
                                                  "meminfo_slab_bytes"};
// key -> [tagged, untagged] -> measure -> per-page values over the readings that count
using TagGroups = std::map<std::string, std::array<std::array<std::vector<double>, 4>, 2>>;

struct TagReadings {
  TagGroups groups;
  std::set<std::string> left_out;  // why a reading did not count, once each
  int unshrunk = 0;                // counted readings taken without the shrink (they undercount)
  bool any = false;                // some set of the mte suite recorded a slab reading
};

// Why a reading of an mte swap-in set does not count, or "" when it does.
std::string left_out_reason(const nlohmann::json& sb, const nlohmann::json& d) {
  const bool readable = d.value("readable", false);
  const bool valid = sb.value("valid", false);
  if (readable && valid) return "";
  if (readable && !sb.contains("valid")) return "a set without a valid flag (nothing proved it)";
  if (d.contains("why") && d["why"].is_string()) return d["why"].get<std::string>();
  if (sb.contains("invalid_reason") && sb["invalid_reason"].is_string()) return sb["invalid_reason"].get<std::string>();
  return "unreadable";
}

TagReadings tag_readings(const std::vector<const nlohmann::json*>& sets) {
  TagReadings r;
  for (const nlohmann::json* p : sets) {
    const nlohmann::json& sb = *p;
    if (sb.value("kind", "") != "swapin" || !sb.contains("slab_swapped_out")) continue;
    const nlohmann::json& d = sb["slab_swapped_out"];
    const std::string variant = sb.value("variant", "");
    const int arm = variant == "mte-tagged" ? 0 : variant == "untagged" ? 1 : -1;
    if (arm < 0) continue;
    r.any = true;
    if (std::string why = left_out_reason(sb, d); !why.empty()) {
      r.left_out.insert(why);
      continue;
    }
    const double pages = sb.value("pages", 0.0);
    if (pages <= 0) continue;
    r.unshrunk += !d.value("shrunk", false);
    const std::string backend = sb.value("backend", "");
    const std::string key =
        backend + (backend == "zswap" || backend == "zram" ? "/" + sb.value("compressor", "") : std::string());
    for (size_t m = 0; m < kMeasures.size(); ++m) r.groups[key][arm][m].push_back(d.value(kMeasures[m], 0.0) / pages);
  }
  return r;
}

nlohmann::json per_backend_of(const TagGroups& groups) {
  nlohmann::json per_backend = nlohmann::json::object();
  for (const auto& [key, g] : groups) {
    if (g[0][0].empty() || g[1][0].empty()) continue;
    nlohmann::json entry;
    double saved = 0, err = 0;
    for (size_t m = 0; m < kMeasures.size(); ++m) {
      const double t = median_of(g[0][m]), u = median_of(g[1][m]);
      // half the sum of the two arms' ranges over repetitions: how far one repetition of either
      // arm strayed, per page
      const double e = (range_of(g[0][m]) + range_of(g[1][m])) / 2;
      entry[kMeasures[m]] = {{"bytes_per_page", t - u}, {"tagged_per_page_median", t}, {"untagged_per_page_median", u},
                             {"error_bytes_per_page", e}, {"repetitions", {g[0][m].size(), g[1][m].size()}}};
      if (m < 2) {  // the two tag caches are the figure; the whole-slab measures cross-check it
        saved += t - u;
        err += e;
      }
    }
    entry["saved_tags_bytes_per_page"] = saved;
    entry["error_bytes_per_page"] = err;
    per_backend[key] = entry;
  }
  return per_backend;
}

}  // namespace

nlohmann::json mte_tag_memory(const std::vector<const nlohmann::json*>& sets, TagMemoryScope scope) {
  const TagReadings r = tag_readings(sets);
  if (!r.any) return nullptr;
  if (scope == TagMemoryScope::Run)
    return {{"per_backend", per_backend_of(r.groups)},
            {"method", "slab caches (/proc/slabinfo active objects x size) after minus before the region's push-out, "
                       "tagged set minus untagged set of the same backend (medians over valid repetitions), per page; "
                       "saved_tags_bytes_per_page = kmalloc-128 + radix_tree_node (the tag storage and its xarray)"},
            {"note", "measured in this run; a matrix recomputes it over every boot"}};
  return {{"per_backend", per_backend_of(r.groups)},
          {"skipped", r.left_out},
          // an unshrunk reading undercounts (SLUB hides per-CPU free objects; read_slab_use)
          {"readings_without_shrink", r.unshrunk},
          {"method", "slab caches (/proc/slabinfo active objects x size) after minus before the region's push-out, "
                     "tagged set minus untagged set of the same backend (medians over repetitions), per page; "
                     "saved_tags_bytes_per_page = kmalloc-128 + radix_tree_node (the tag storage and its xarray)"},
          {"note", "measured in the guest; see results/SCHEMA.md for the error"}};
}

int mte_tag_memory_command(std::istream& in, std::ostream& out, std::ostream& err) {
  nlohmann::json doc = nlohmann::json::parse(in, nullptr, false);
  if (doc.is_discarded() || !doc.is_object() || !doc.contains("benchmarks") || !doc["benchmarks"].is_array()) {
    err << "swapbench mte-tag-memory: standard input is not {\"benchmarks\": [...]} JSON; accepted: a result "
           "document's benchmark entries, each with its swapbench block\n";
    return 2;
  }
  std::vector<const nlohmann::json*> blocks;
  for (const auto& e : doc["benchmarks"])
    if (e.is_object() && e.contains("swapbench") && e["swapbench"].is_object()) blocks.push_back(&e["swapbench"]);
  out << mte_tag_memory(blocks, TagMemoryScope::Boots).dump() << "\n";
  return 0;
}

}  // namespace swapbench
