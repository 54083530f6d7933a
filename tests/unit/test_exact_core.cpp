// The exact-cost plugin's logic (kernels-config/plugin/exactcount_core.h, C compiled here as C++):
// the marker bytes of the contract, attribution of addresses to function ranges, the per-report
// state machine, the summary and the JSON line.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "../../kernels-config/plugin/exactcount_core.h"

namespace {

enum exact_marker x86(std::vector<uint8_t> b) { return exact_marker_decode(EXACT_ARCH_X86_64, b.data(), b.size()); }

enum exact_marker arm64(uint32_t word) {
  uint8_t b[4] = {uint8_t(word), uint8_t(word >> 8), uint8_t(word >> 16), uint8_t(word >> 24)};
  return exact_marker_decode(EXACT_ARCH_ARM64, b, 4);
}

TEST(ExactMarker, X86BytesOfTheContract) {
  // nopl 0x53420001(%rax,%rax,1) etc., disp32 little-endian
  EXPECT_EQ(x86({0x0F, 0x1F, 0x84, 0x00, 0x01, 0x00, 0x42, 0x53}), EXACT_MARKER_START);
  EXPECT_EQ(x86({0x0F, 0x1F, 0x84, 0x00, 0x02, 0x00, 0x42, 0x53}), EXACT_MARKER_STOP);
  EXPECT_EQ(x86({0x0F, 0x1F, 0x84, 0x00, 0x03, 0x00, 0x42, 0x53}), EXACT_MARKER_REPORT);
}

TEST(ExactMarker, X86OtherNopsAreNotMarkers) {
  EXPECT_EQ(x86({0x0F, 0x1F, 0x84, 0x00, 0x00, 0x00, 0x00, 0x00}), EXACT_MARKER_NONE);  // compiler padding
  EXPECT_EQ(x86({0x0F, 0x1F, 0x84, 0x00, 0x00, 0x00, 0x42, 0x53}), EXACT_MARKER_NONE);  // base itself
  EXPECT_EQ(x86({0x0F, 0x1F, 0x84, 0x00, 0x04, 0x00, 0x42, 0x53}), EXACT_MARKER_NONE);  // past REPORT
  EXPECT_EQ(x86({0x0F, 0x1F, 0x84, 0x08, 0x01, 0x00, 0x42, 0x53}), EXACT_MARKER_NONE);  // other SIB
  EXPECT_EQ(x86({0x0F, 0x1F, 0x80, 0x01, 0x00, 0x42, 0x53}), EXACT_MARKER_NONE);        // no SIB, 7 bytes
  EXPECT_EQ(x86({0x66, 0x0F, 0x1F, 0x84, 0x00, 0x01, 0x00, 0x42, 0x53}), EXACT_MARKER_NONE);  // prefixed
  EXPECT_EQ(x86({0x90}), EXACT_MARKER_NONE);
  // The arm64 words mean nothing on x86 and the reverse.
  uint8_t hint[4] = {0x5F, 0x2D, 0x03, 0xD5};
  EXPECT_EQ(exact_marker_decode(EXACT_ARCH_X86_64, hint, 4), EXACT_MARKER_NONE);
  uint8_t start[8] = {0x0F, 0x1F, 0x84, 0x00, 0x01, 0x00, 0x42, 0x53};
  EXPECT_EQ(exact_marker_decode(EXACT_ARCH_ARM64, start, 8), EXACT_MARKER_NONE);
  EXPECT_EQ(exact_marker_decode(EXACT_ARCH_OTHER, start, 8), EXACT_MARKER_NONE);
}

TEST(ExactMarker, Arm64HintWords) {
  // HINT #imm = 0xD503201F | imm << 5: #0x6a START, #0x6b STOP, #0x6c REPORT
  EXPECT_EQ(EXACT_ARM64_HINT(0x6a), 0xD5032D5Fu);
  EXPECT_EQ(arm64(0xD5032D5F), EXACT_MARKER_START);
  EXPECT_EQ(arm64(0xD5032D7F), EXACT_MARKER_STOP);
  EXPECT_EQ(arm64(0xD5032D9F), EXACT_MARKER_REPORT);
  EXPECT_EQ(arm64(0xD503201F), EXACT_MARKER_NONE);  // nop
  EXPECT_EQ(arm64(0xD5032D3F), EXACT_MARKER_NONE);  // hint #0x69
  EXPECT_EQ(arm64(0xD5032DBF), EXACT_MARKER_NONE);  // hint #0x6d
}

TEST(ExactMarker, ArchFromQemuTargetName) {
  EXPECT_EQ(exact_arch_from_target("x86_64"), EXACT_ARCH_X86_64);
  EXPECT_EQ(exact_arch_from_target("aarch64"), EXACT_ARCH_ARM64);
  EXPECT_EQ(exact_arch_from_target("riscv64"), EXACT_ARCH_OTHER);
  EXPECT_EQ(exact_arch_from_target(nullptr), EXACT_ARCH_OTHER);
}

struct Funcs {
  exact_funcs f{};
  std::string err;
  int rc;
  explicit Funcs(const char* text) {
    char e[256] = "";
    rc = exact_funcs_parse(text, &f, e, sizeof e);
    err = e;
  }
  ~Funcs() { exact_funcs_free(&f); }
  // the listed function holding vaddr, or "" (and "user"/"kernel" for the bucket)
  std::string at(uint64_t vaddr) const {
    const exact_range* r = exact_range_find(f.sorted, f.n, vaddr);
    return r ? f.names[r->func] : "";
  }
};

constexpr const char* kFuncs =
    "# name start end (exclusive)\n"
    "zswap_load ffffffff81300100 ffffffff81300180\n"
    "\n"
    "do_swap_page 0xffffffff81200000 0xffffffff81200400\n"
    "swap_read_folio ffffffff81300180 ffffffff813001c0\n";  // starts where zswap_load ends

TEST(ExactRanges, ParseKeepsFileOrderAndSortsRanges) {
  Funcs f(kFuncs);
  ASSERT_EQ(f.rc, 0) << f.err;
  ASSERT_EQ(f.f.n, 3u);
  EXPECT_STREQ(f.f.names[0], "zswap_load");
  EXPECT_STREQ(f.f.names[1], "do_swap_page");
  EXPECT_STREQ(f.f.names[2], "swap_read_folio");
  EXPECT_EQ(f.f.sorted[0].start, 0xffffffff81200000u);
  EXPECT_EQ(f.f.sorted[0].func, 1u);
}

TEST(ExactRanges, StartInclusiveEndExclusiveGapsOutside) {
  Funcs f(kFuncs);
  ASSERT_EQ(f.rc, 0) << f.err;
  EXPECT_EQ(f.at(0xffffffff811fffff), "");                 // just before the first
  EXPECT_EQ(f.at(0xffffffff81200000), "do_swap_page");     // start
  EXPECT_EQ(f.at(0xffffffff812003ff), "do_swap_page");     // last byte
  EXPECT_EQ(f.at(0xffffffff81200400), "");                 // end: the gap after
  EXPECT_EQ(f.at(0xffffffff813000ff), "");                 // gap before zswap_load
  EXPECT_EQ(f.at(0xffffffff81300100), "zswap_load");
  EXPECT_EQ(f.at(0xffffffff8130017f), "zswap_load");
  EXPECT_EQ(f.at(0xffffffff81300180), "swap_read_folio");  // adjacent: end of one is start of the next
  EXPECT_EQ(f.at(0xffffffff813001c0), "");                 // past the last
  EXPECT_EQ(f.at(0x401000), "");                           // user space
  EXPECT_EQ(f.at(UINT64_MAX), "");
  EXPECT_EQ(exact_range_find(nullptr, 0, 0xffffffff81200000), nullptr);  // no funcs file
}

TEST(ExactRanges, KernelIsTheTopBit) {
  EXPECT_TRUE(exact_is_kernel(0xffffffff81000000));
  EXPECT_TRUE(exact_is_kernel(0x8000000000000000));
  EXPECT_FALSE(exact_is_kernel(0x7fffffffffffffff));
  EXPECT_FALSE(exact_is_kernel(0x00007ffff7dd0000));
  EXPECT_FALSE(exact_is_kernel(0));
}

TEST(ExactRanges, RefusesWhatWouldMisattribute) {
  EXPECT_NE(Funcs("a ffffffff81000000 ffffffff81000100\nb ffffffff810000ff ffffffff81000200\n").rc, 0);  // overlap
  Funcs overlap("a ffffffff81000000 ffffffff81000100\nb ffffffff810000ff ffffffff81000200\n");
  EXPECT_NE(overlap.err.find("overlap"), std::string::npos) << overlap.err;
  EXPECT_NE(Funcs("a ffffffff81000100 ffffffff81000100\n").rc, 0);                    // empty
  EXPECT_NE(Funcs("a 401000 402000\n").rc, 0);                                        // user space
  EXPECT_NE(Funcs("a ffffffff81000000 ffffffff81000100\na ffffffff82000000 ffffffff82000100\n").rc, 0);
  Funcs bad("a ffffffff81000000\n");
  EXPECT_NE(bad.rc, 0);
  EXPECT_NE(bad.err.find("line 1"), std::string::npos) << bad.err;
  EXPECT_NE(Funcs("a ffffffff81000000 ffffffff81000100 extra\n").rc, 0);
  EXPECT_EQ(Funcs("").rc, 0);
  EXPECT_EQ(Funcs("a ffffffff81000000 ffffffff81000100").rc, 0);  // no final newline
}

TEST(ExactSummary, MedianIsTheLowerMiddleMinMeanMaxTotal) {
  std::vector<uint64_t> odd{30, 10, 20};
  exact_summary s = exact_summarise(odd.data(), odd.size());
  EXPECT_EQ(s.median, 20u);
  EXPECT_EQ(s.min, 10u);
  EXPECT_EQ(s.max, 30u);
  EXPECT_EQ(s.total, 60u);
  EXPECT_DOUBLE_EQ(s.mean, 20.0);
  std::vector<uint64_t> even{40, 10, 30, 20};
  s = exact_summarise(even.data(), even.size());
  EXPECT_EQ(s.median, 20u);  // lower middle, not 25
  EXPECT_DOUBLE_EQ(s.mean, 25.0);
  std::vector<uint64_t> one{7};
  s = exact_summarise(one.data(), 1);
  EXPECT_EQ(s.median, 7u);
  EXPECT_EQ(s.min, 7u);
  EXPECT_EQ(s.max, 7u);
  s = exact_summarise(nullptr, 0);
  EXPECT_EQ(s.n, 0u);
  EXPECT_EQ(s.total, 0u);
}

// The plugin in miniature: live counters the test advances as if instructions ran, markers fed in.
struct Plugin {
  exact_counters c{};
  exact_state s{};
  std::vector<std::string> lines;
  char* names[2] = {const_cast<char*>("do_swap_page"), const_cast<char*>("zswap_load")};
  Plugin() {
    EXPECT_EQ(exact_counters_init(&c, 2), 0);
    EXPECT_EQ(exact_state_init(&s, 2), 0);
  }
  ~Plugin() {
    exact_state_free(&s);
    exact_counters_free(&c);
  }
  void run(uint64_t kernel, uint64_t user, uint64_t dsp_insns = 0, uint64_t dsp_calls = 0) {
    c.kernel += kernel;
    c.user += user;
    c.func_insns[0] += dsp_insns;
    c.func_calls[0] += dsp_calls;
  }
  void mark(exact_marker m) {
    int due = exact_on_marker(&s, m, &c);
    ASSERT_GE(due, 0);
    if (due) {
      char* l = exact_report_line(&s, names);
      ASSERT_NE(l, nullptr);
      lines.emplace_back(l);
      free(l);
    }
  }
};

TEST(ExactState, OperationsBetweenStartAndStopOnly) {
  Plugin r;
  r.run(1000, 1000, 50, 1);  // before any START: not counted
  for (uint64_t k : {300u, 100u, 200u}) {
    r.mark(EXACT_MARKER_START);
    r.run(k, 5, 40, 2);
    r.mark(EXACT_MARKER_STOP);
    r.run(77, 77, 77, 77);  // between operations: not counted
  }
  r.mark(EXACT_MARKER_REPORT);
  ASSERT_EQ(r.lines.size(), 1u);
  EXPECT_EQ(r.lines[0],
            "{\"report\": 0, \"ops\": 3, "
            "\"kernel\": {\"median\": 200, \"min\": 100, \"mean\": 200.000, \"max\": 300, \"total\": 600}, "
            "\"user\": {\"median\": 5, \"min\": 5, \"mean\": 5.000, \"max\": 5, \"total\": 15}, "
            "\"functions\": {\"do_swap_page\": {\"instructions\": 120, \"calls\": 6}, "
            "\"zswap_load\": {\"instructions\": 0, \"calls\": 0}}, \"unmatched\": 0}\n");
}

TEST(ExactState, ReportsAreNumberedAndReset) {
  Plugin r;
  r.mark(EXACT_MARKER_START);
  r.run(10, 1, 3, 1);
  r.mark(EXACT_MARKER_STOP);
  r.mark(EXACT_MARKER_REPORT);
  r.mark(EXACT_MARKER_REPORT);  // nothing since: no operation
  ASSERT_EQ(r.lines.size(), 2u);
  EXPECT_NE(r.lines[0].find("\"report\": 0, \"ops\": 1,"), std::string::npos) << r.lines[0];
  EXPECT_EQ(r.lines[1],
            "{\"report\": 1, \"ops\": 0, "
            "\"kernel\": {\"median\": null, \"min\": null, \"mean\": null, \"max\": null, \"total\": 0}, "
            "\"user\": {\"median\": null, \"min\": null, \"mean\": null, \"max\": null, \"total\": 0}, "
            "\"functions\": {\"do_swap_page\": {\"instructions\": 0, \"calls\": 0}, "
            "\"zswap_load\": {\"instructions\": 0, \"calls\": 0}}, \"unmatched\": 0}\n");
  char* end = exact_end_line(&r.s);
  EXPECT_STREQ(end, "{\"end\": true, \"reports\": 2}\n");
  free(end);
}

TEST(ExactState, UnmatchedMarkers) {
  Plugin r;
  r.mark(EXACT_MARKER_STOP);  // STOP without START
  r.mark(EXACT_MARKER_START);
  r.run(999, 999);
  r.mark(EXACT_MARKER_START);  // START while open: counted, and the operation restarts here
  r.run(10, 2);
  r.mark(EXACT_MARKER_STOP);
  r.mark(EXACT_MARKER_START);  // still open at REPORT: dropped, counted
  r.run(5, 5);
  r.mark(EXACT_MARKER_REPORT);
  ASSERT_EQ(r.lines.size(), 1u);
  EXPECT_NE(r.lines[0].find("\"ops\": 1, \"kernel\": {\"median\": 10,"), std::string::npos) << r.lines[0];
  EXPECT_NE(r.lines[0].find("\"unmatched\": 3}"), std::string::npos) << r.lines[0];
  r.mark(EXACT_MARKER_STOP);  // the dropped operation does not close later
  r.mark(EXACT_MARKER_REPORT);
  EXPECT_NE(r.lines[1].find("\"ops\": 0,"), std::string::npos) << r.lines[1];
  EXPECT_NE(r.lines[1].find("\"unmatched\": 1}"), std::string::npos) << r.lines[1];
}

TEST(ExactState, ManyOperationsGrowTheArrays) {
  Plugin r;
  for (uint64_t i = 0; i < 5000; i++) {
    r.mark(EXACT_MARKER_START);
    r.run(i + 1, 2);
    r.mark(EXACT_MARKER_STOP);
  }
  r.mark(EXACT_MARKER_REPORT);
  EXPECT_NE(r.lines[0].find("\"ops\": 5000, \"kernel\": {\"median\": 2500, \"min\": 1, \"mean\": 2500.500, "
                            "\"max\": 5000, \"total\": 12502500}"),
            std::string::npos)
      << r.lines[0];
}

TEST(ExactJson, NamesAreEscaped) {
  exact_buf b{};
  exact_buf_json_string(&b, "a\"b\\c\n.isra.0");
  EXPECT_EQ(std::string(b.s, b.n), "\"a\\\"b\\\\c\\u000a.isra.0\"");
  free(b.s);
}

}  // namespace
