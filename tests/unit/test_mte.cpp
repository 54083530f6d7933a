// Tags as data (workloads/arch/arm64/mte.h): the tag each granule must carry and the check of what
// was read back, on fixture arrays; they run on any host. The hardware half runs in the arm64 guest
// test (tests/guest/test_mte_arm64.sh).
#include <gtest/gtest.h>

#include <set>
#include <sstream>
#include <vector>

#include "bench/mte_memory.h"
#include "workloads/arch/arm64/mte.h"

namespace swapbench {
namespace {

constexpr size_t kPage = 4096;
constexpr size_t kPerPage = kPage / kMteGranule;

std::vector<uint8_t> expected(size_t pages, uint64_t seed) {
  std::vector<uint8_t> v(pages * kPerPage);
  for (size_t p = 0; p < pages; ++p)
    for (size_t g = 0; g < kPerPage; ++g) v[p * kPerPage + g] = mte_expected_tag(seed, p, g);
  return v;
}

TEST(MteTags, NeverZeroEveryNonZeroValueUsedAndDeterministic) {
  std::vector<size_t> count(16, 0);
  for (size_t p = 0; p < 64; ++p)
    for (size_t g = 0; g < kPerPage; ++g) {
      const uint8_t t = mte_expected_tag(7, p, g);
      ASSERT_GE(t, 1);
      ASSERT_LE(t, 15);
      ASSERT_EQ(t, mte_expected_tag(7, p, g));
      ++count[t];
    }
  EXPECT_EQ(count[0], 0u);
  // 16384 granules over 15 values: about 1092 each; a broken generator (a constant, a few values)
  // would leave some far off.
  for (int t = 1; t < 16; ++t) {
    EXPECT_GT(count[t], 900u) << "tag " << t;
    EXPECT_LT(count[t], 1300u) << "tag " << t;
  }
}

TEST(MteTags, NeighboursAndSeedsDiffer) {
  // Aliasing across a page's granules (QEMU 7.2's bug) must show: neighbouring granules rarely agree.
  size_t same = 0;
  for (size_t g = 1; g < kPerPage; ++g) same += mte_expected_tag(1, 0, g) == mte_expected_tag(1, 0, g - 1);
  EXPECT_LT(same, kPerPage / 5);
  EXPECT_NE(expected(4, 1), expected(4, 2));
  EXPECT_NE(mte_expected_tag(1, 0, 0) * 16 + mte_expected_tag(1, 1, 0),
            mte_expected_tag(1, 0, 1) * 16 + mte_expected_tag(1, 1, 1));
}

TEST(MteCheck, AllRightIsClean) {
  auto found = expected(8, 3);
  const TagCheck c = check_tags(found.data(), 8, kPage, 3);
  EXPECT_EQ(c.checked, 8 * kPerPage);
  EXPECT_EQ(c.wrong, 0u);
  EXPECT_EQ(c.pages_wrong, 0u);
  EXPECT_TRUE(c.first.empty());
}

TEST(MteCheck, OneWrongTagIsNamed) {
  auto found = expected(8, 3);
  const uint8_t want = found[5 * kPerPage + 17];
  found[5 * kPerPage + 17] = want == 9 ? 10 : 9;
  const TagCheck c = check_tags(found.data(), 8, kPage, 3);
  ASSERT_EQ(c.wrong, 1u);
  EXPECT_EQ(c.pages_wrong, 1u);
  ASSERT_EQ(c.first.size(), 1u);
  EXPECT_EQ(c.first[0].page, 5u);
  EXPECT_EQ(c.first[0].granule, 17u);
  EXPECT_EQ(c.first[0].expected, want);
  EXPECT_EQ(c.first[0].found, want == 9 ? 10u : 9u);
  std::ostringstream want_text;
  want_text << "page 5 granule 17 (offset 0x5110): expected tag 0x" << std::hex << unsigned(want) << ", found 0x"
            << (want == 9 ? 10 : 9);
  EXPECT_EQ(describe(c.first[0], kPage), want_text.str());
}

TEST(MteCheck, ALostPageIsEveryGranuleAndReportsAreCapped) {
  // What restoring tags after their saved copy was freed (arch_swap_restore() after swap_free())
  // does: the page comes back with its tags gone (all zero).
  auto found = expected(8, 3);
  std::fill(found.begin() + 2 * kPerPage, found.begin() + 3 * kPerPage, 0);
  const TagCheck c = check_tags(found.data(), 8, kPage, 3, 4);
  EXPECT_EQ(c.wrong, kPerPage);  // tags are never 0, so every granule of the page is caught
  EXPECT_EQ(c.pages_wrong, 1u);
  ASSERT_EQ(c.first.size(), 4u);
  for (size_t i = 0; i < 4; ++i) {
    EXPECT_EQ(c.first[i].page, 2u);
    EXPECT_EQ(c.first[i].granule, i);
    EXPECT_EQ(c.first[i].found, 0u);
  }
}

#if !defined(__aarch64__)
TEST(MteGate, SkipsWithTheReasonWhereThereIsNoMte) {
  std::ostringstream out;
  EXPECT_EQ(mte_gate_command(4, out), 77);
  EXPECT_NE(out.str().find("skip: MTE unavailable"), std::string::npos) << out.str();
  std::string why;
  EXPECT_EQ(mte_map(4096, &why), nullptr);
  EXPECT_NE(why.find("not arm64"), std::string::npos) << why;
}
#endif

// The saved tags' memory (bench/mte_memory.h): /proc/slabinfo as 6.12 arm64 prints it.
constexpr const char* kSlabinfo =
    "slabinfo - version: 2.1\n"
    "# name            <active_objs> <num_objs> <objsize> <objperslab> <pagesperslab> : tunables <limit> "
    "<batchcount> <sharedfactor> : slabdata <active_slabs> <num_slabs> <sharedavail>\n"
    "radix_tree_node     1904   2072    576   28    4 : tunables    0    0    0 : slabdata     74     74      0\n"
    "kmalloc-128         3136   3136    128   32    1 : tunables    0    0    0 : slabdata     98     98      0\n";

TEST(MteMemory, SlabinfoGivesActiveBytesPerCache) {
  std::map<std::string, uint64_t> m;
  ASSERT_TRUE(parse_slabinfo(kSlabinfo, m));
  EXPECT_EQ(m.at("radix_tree_node"), 1904u * 576);
  EXPECT_EQ(m.at("kmalloc-128"), 3136u * 128);
  std::map<std::string, uint64_t> bad;
  EXPECT_FALSE(parse_slabinfo("Slab: 1234 kB\n", bad));
  EXPECT_FALSE(parse_slabinfo("slabinfo - version: 2.1\nkmalloc-128 x y z\n", bad));
}

TEST(MteMemory, DeltaIsSignedAndUnreadableSaysWhy) {
  SlabUse a, b;
  a.readable = b.readable = true;
  a.bytes = {{"kmalloc-128", 1280}, {"radix_tree_node", 576}, {"other", 100}};
  b.bytes = {{"kmalloc-128", 1280 + 128 * 1024}, {"other", 50}};
  a.meminfo_slab_bytes = 8192;
  b.meminfo_slab_bytes = 4096;
  auto d = slab_delta(a, b);
  EXPECT_EQ(d["kmalloc_128_bytes"].get<int64_t>(), 128 * 1024);
  EXPECT_EQ(d["radix_tree_node_bytes"].get<int64_t>(), -576);
  EXPECT_EQ(d["all_caches_bytes"].get<int64_t>(), 128 * 1024 - 576 - 50);
  EXPECT_EQ(d["meminfo_slab_bytes"].get<int64_t>(), -4096);
  b.readable = false;
  d = slab_delta(a, b);
  EXPECT_FALSE(d["readable"].get<bool>());
  EXPECT_NE(d["why"].get<std::string>().find("slabinfo"), std::string::npos);
}

}  // namespace
}  // namespace swapbench

// The per-page figure from a run's own swap-in sets: tagged gain minus untagged gain, medians over
// valid repetitions; an invalid repetition and sets of other kinds do not count.
TEST(MteMemory, TagMemoryPerPageFromTaggedMinusUntagged) {
  auto set = [](const char* variant, double kmalloc, double nodes, bool valid = true) {
    return nlohmann::json{{"kind", "swapin"}, {"variant", variant}, {"backend", "zram"}, {"compressor", "lz4"},
                          {"pages", 100}, {"valid", valid},
                          {"slab_swapped_out",
                           {{"readable", true}, {"kmalloc_128_bytes", kmalloc}, {"radix_tree_node_bytes", nodes},
                            {"all_caches_bytes", kmalloc + nodes + 5000}, {"meminfo_slab_bytes", 0}}}};
  };
  std::vector<nlohmann::json> sets = {set("mte-tagged", 12800, 1000), set("mte-tagged", 13000, 1200),
                                      set("mte-tagged", 99999, 99999, false),  // invalid: left out
                                      set("untagged", 0, 200), set("untagged", 200, 200),
                                      {{"kind", "swapout"}, {"variant", "mte-tagged"}}};
  std::vector<const nlohmann::json*> ptrs;
  for (const auto& s : sets) ptrs.push_back(&s);
  auto m = swapbench::mte_tag_memory(ptrs);
  ASSERT_TRUE(m.is_object());
  const auto& z = m["per_backend"]["zram/lz4"];
  // kmalloc-128: (129 - 1) B/page; nodes: (11 - 2) B/page.
  EXPECT_DOUBLE_EQ(z["kmalloc_128_bytes"]["bytes_per_page"].get<double>(), 128.0);
  EXPECT_DOUBLE_EQ(z["radix_tree_node_bytes"]["bytes_per_page"].get<double>(), 9.0);
  EXPECT_DOUBLE_EQ(z["saved_tags_bytes_per_page"].get<double>(), 137.0);
  // errors: kmalloc (2 + 2) / 2 = 2, nodes (2 + 0) / 2 = 1
  EXPECT_DOUBLE_EQ(z["error_bytes_per_page"].get<double>(), 3.0);
  EXPECT_EQ(z["kmalloc_128_bytes"]["repetitions"], nlohmann::json({2, 2}));
  // No mte sets at all: no figure.
  nlohmann::json other{{"kind", "swapin"}, {"variant", ""}};
  EXPECT_TRUE(swapbench::mte_tag_memory({&other}).is_null());
}

// One rule for a run and a matrix: a set whose block has no `valid` flag was never proved, so its
// reading does not count (the matrix's figure names it among the readings left out).
TEST(MteMemory, ASetWithoutValidDoesNotCountInEitherScope) {
  auto set = [](const char* variant, double kmalloc) {
    return nlohmann::json{{"kind", "swapin"}, {"variant", variant}, {"backend", "disk"}, {"pages", 10},
                          {"valid", true},
                          {"slab_swapped_out",
                           {{"readable", true}, {"shrunk", true}, {"kmalloc_128_bytes", kmalloc},
                            {"radix_tree_node_bytes", 0}, {"all_caches_bytes", kmalloc}, {"meminfo_slab_bytes", 0}}}};
  };
  std::vector<nlohmann::json> sets = {set("mte-tagged", 1280), set("mte-tagged", 99990), set("untagged", 0)};
  sets[1].erase("valid");  // would move the tagged median to (128 + 9999) / 2 if it counted
  std::vector<const nlohmann::json*> ptrs;
  for (const auto& s : sets) ptrs.push_back(&s);
  for (auto scope : {swapbench::TagMemoryScope::Run, swapbench::TagMemoryScope::Boots}) {
    auto m = swapbench::mte_tag_memory(ptrs, scope);
    EXPECT_DOUBLE_EQ(m["per_backend"]["disk"]["saved_tags_bytes_per_page"].get<double>(), 128.0);
    EXPECT_EQ(m["per_backend"]["disk"]["kmalloc_128_bytes"]["repetitions"], nlohmann::json({1, 1}));
  }
  auto boots = swapbench::mte_tag_memory(ptrs, swapbench::TagMemoryScope::Boots);
  EXPECT_EQ(boots["skipped"], nlohmann::json({"a set without a valid flag (nothing proved it)"}));
  EXPECT_EQ(boots["readings_without_shrink"], 0);
  EXPECT_FALSE(swapbench::mte_tag_memory(ptrs).contains("skipped"));  // a run's result keeps its keys
}

// `swapbench mte-tag-memory`: entries on standard input, the figure on standard output.
TEST(MteMemory, CommandReadsEntriesAndRefusesOtherInput) {
  std::istringstream bad("[1, 2]");
  std::ostringstream out, err;
  EXPECT_EQ(swapbench::mte_tag_memory_command(bad, out, err), 2);
  EXPECT_NE(err.str().find("benchmarks"), std::string::npos) << err.str();
  std::istringstream none(R"({"benchmarks": [{"swapbench": {"kind": "swapout"}}]})");
  std::ostringstream out2;
  EXPECT_EQ(swapbench::mte_tag_memory_command(none, out2, err), 0);
  EXPECT_EQ(out2.str(), "null\n");
}
