// The memory the kernel spends on saved MTE tags: while a tagged page is swapped
// out its tags live in a 128-byte kmalloc object (mte_allocate_tag_storage) held in an xarray keyed
// by the swap entry (radix_tree_node slabs). Measured, not assumed: the slab caches as they stand
// around a region's push-out, in tagged and in untagged sets alike; the difference between the two
// per page is what the tags cost (kmatrix/mte_memory.py; the method and its error: results/SCHEMA.md).
#pragma once
#include <cstdint>
#include <iosfwd>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace swapbench {

struct SlabUse {
  bool readable = false;                  // /proc/slabinfo was read (root only; some kernels lack it)
  bool shrunk = false;                    // the two tag caches were shrunk first (see read_slab_use)
  std::map<std::string, uint64_t> bytes;  // per cache: active objects x object size
  uint64_t meminfo_slab_bytes = 0;        // /proc/meminfo Slab (whole slab pages, every cache)
};

// Parses /proc/slabinfo text ("slabinfo - version: 2.1", then name active_objs num_objs objsize ...).
// Returns false (and leaves out empty) on text that is not slabinfo 2.x.
bool parse_slabinfo(const std::string& text, std::map<std::string, uint64_t>& out);

// The slab caches and meminfo's Slab now (root: slabinfo is mode 0400). SLUB's slabinfo counts
// the free objects of per-CPU slabs as in use (and estimates long partial lists), so a burst of
// allocations that reuses them shows smaller than it is (measured: 780 to 994 of 1024 tag objects
// seen). kmalloc-128 and radix_tree_node are shrunk first (/sys/kernel/slab/<cache>/shrink, through
// SysOps): per-CPU slabs go back to the node lists, where slabinfo counts free objects exactly. A
// shrink is an action, not a setting: nothing is left to restore.
SlabUse read_slab_use();

// What changed between two readings: {"kmalloc_128_bytes", "radix_tree_node_bytes",
// "all_caches_bytes", "meminfo_slab_bytes"} as signed byte deltas, or {"readable": false, "why"}.
nlohmann::json slab_delta(const SlabUse& before, const SlabUse& after);

// One reading around a region's push-out: the slab caches and the vmstat counters (the latter show
// whether the push-out swapped THPs whole, thp_swpout, or split them, thp_split_page).
struct PushoutReading {
  SlabUse slab;
  std::map<std::string, int64_t> vmstat;
};
PushoutReading read_pushout();
// Writes sb["slab_swapped_out"] (slab_delta) and sb["pushout_vmstat"] (the counters' change).
void record_pushout(const PushoutReading& before, const PushoutReading& after, nlohmann::json& sb);

// The tags' memory per swapped page from swap-in sets of the mte suite (their swapbench blocks): per
// backend (and compressor), the tagged sets' slab gain per page minus the untagged sets', medians
// over the readings that count, with half the sum of the two ranges as the error. A reading counts
// when it is readable, has pages, and its set is marked valid; a set without the `valid` flag does
// not count (nothing proved it). null when no such set recorded a slab reading.
// The one implementation: a native run writes it into its context (Run); a matrix pools every
// boot's sets and asks the suite's binary for it (Boots: `swapbench mte-tag-memory`, which adds
// the readings left out, with why, and how many were not shrunk).
enum class TagMemoryScope { Run, Boots };
nlohmann::json mte_tag_memory(const std::vector<const nlohmann::json*>& sets,
                              TagMemoryScope scope = TagMemoryScope::Run);

// `swapbench mte-tag-memory`: {"benchmarks": [entries with a swapbench block]} on `in`, the Boots
// figure (or null) on `out`. Exit 0, or 2 with one line on `err` for input that is not that.
int mte_tag_memory_command(std::istream& in, std::ostream& out, std::ostream& err);

}  // namespace swapbench
