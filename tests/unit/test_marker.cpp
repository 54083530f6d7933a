// The exact-cost markers (workloads/arch/marker.h): the very bytes the compiler emitted, read back
// from this binary's code, against the contract's encodings (kernels-config/exact-contract.md),
// and the numbering of REPORT markers that sets record as count_report.
#include "workloads/arch/marker.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <vector>

#include "workloads/pages/region.h"

#define BOUNDS(name) extern const uint8_t __start_##name[], __stop_##name[];
extern "C" {
BOUNDS(sb_marker_start)
BOUNDS(sb_marker_stop)
BOUNDS(sb_marker_report)
BOUNDS(sb_marked_fault)
BOUNDS(sb_unmarked_fault)
}

namespace swapbench {
namespace {

// Each function under test in a section of its own, whose bounds the linker provides
// (__start_NAME, __stop_NAME): its machine code is read exactly, never a neighbour's (the
// expected bytes below also sit in this binary, as immediates of the test code).
#define SECTION_FN(name) __attribute__((noinline, used, section(#name)))
#define CODE_OF(name) std::vector<uint8_t>(__start_##name, __stop_##name)

SECTION_FN(sb_marker_start) void only_start() { marker_start(); }
SECTION_FN(sb_marker_stop) void only_stop() { marker_stop(); }
SECTION_FN(sb_marker_report) void only_report() { marker_report(); }
SECTION_FN(sb_marked_fault) uint64_t marked_fault(const Region& r) { return r.timed_fault(0, false, 0); }
SECTION_FN(sb_unmarked_fault) uint64_t unmarked_fault(const Region& r) {
  return r.timed_fault(0, false, 0, 0, Region::Marks::Off);
}

size_t count_of(const std::vector<uint8_t>& hay, const std::vector<uint8_t>& needle) {
  size_t n = 0;
  for (size_t i = 0; i + needle.size() <= hay.size(); ++i)
    if (std::memcmp(hay.data() + i, needle.data(), needle.size()) == 0) ++n;
  return n;
}

#if defined(__x86_64__)
// nopl DISP32(%rax,%rax,1): 0F 1F 84 00 and disp32 little-endian.
std::vector<uint8_t> expected(uint32_t disp) {
  return {0x0f, 0x1f, 0x84, 0x00, static_cast<uint8_t>(disp), static_cast<uint8_t>(disp >> 8),
          static_cast<uint8_t>(disp >> 16), static_cast<uint8_t>(disp >> 24)};
}

TEST(Marker, X86BytesAreTheContractsNopl) {
  // The contract's bytes, written out, so a change of the macros cannot move both sides at once.
  EXPECT_EQ(expected(SWAPBENCH_MARKER_START_DISP), (std::vector<uint8_t>{0x0f, 0x1f, 0x84, 0x00, 0x01, 0x00, 0x42, 0x53}));
  EXPECT_EQ(expected(SWAPBENCH_MARKER_STOP_DISP), (std::vector<uint8_t>{0x0f, 0x1f, 0x84, 0x00, 0x02, 0x00, 0x42, 0x53}));
  EXPECT_EQ(expected(SWAPBENCH_MARKER_REPORT_DISP), (std::vector<uint8_t>{0x0f, 0x1f, 0x84, 0x00, 0x03, 0x00, 0x42, 0x53}));
  // Each function holds its own marker once and no other.
  const std::vector<uint8_t> start = expected(0x53420001), stop = expected(0x53420002), report = expected(0x53420003);
  auto s = CODE_OF(sb_marker_start);
  EXPECT_EQ(count_of(s, start), 1u);
  EXPECT_EQ(count_of(s, stop) + count_of(s, report), 0u);
  auto t = CODE_OF(sb_marker_stop);
  EXPECT_EQ(count_of(t, stop), 1u);
  EXPECT_EQ(count_of(t, start) + count_of(t, report), 0u);
  auto r = CODE_OF(sb_marker_report);
  EXPECT_EQ(count_of(r, report), 1u);
  EXPECT_EQ(count_of(r, start) + count_of(r, stop), 0u);
}

TEST(Marker, TimedFaultIsMarkedOnceUnlessAskedNot) {
  Region reg(1);
  reg.page(0)[0] = 1;
  EXPECT_GE(marked_fault(reg), 0u);  // runs: the markers are NOPs here
  EXPECT_GE(unmarked_fault(reg), 0u);
  auto m = CODE_OF(sb_marked_fault);
  EXPECT_EQ(count_of(m, expected(0x53420001)), 1u);
  EXPECT_EQ(count_of(m, expected(0x53420002)), 1u);
  auto u = CODE_OF(sb_unmarked_fault);
  EXPECT_GT(u.size(), 8u);
  EXPECT_EQ(count_of(u, expected(0x53420001)) + count_of(u, expected(0x53420002)), 0u);
}
#elif defined(__aarch64__)
// HINT #imm: 0xD503201F | imm << 5, little-endian.
std::vector<uint8_t> word(uint32_t w) {
  return {static_cast<uint8_t>(w), static_cast<uint8_t>(w >> 8), static_cast<uint8_t>(w >> 16),
          static_cast<uint8_t>(w >> 24)};
}

TEST(Marker, Arm64HintWords) {
  EXPECT_EQ(0xD503201Fu | (SWAPBENCH_MARKER_START_HINT << 5), 0xD5032D5Fu);
  EXPECT_EQ(count_of(CODE_OF(sb_marker_start), word(0xD5032D5Fu)), 1u);
  EXPECT_EQ(count_of(CODE_OF(sb_marker_stop), word(0xD5032D7Fu)), 1u);
  EXPECT_EQ(count_of(CODE_OF(sb_marker_report), word(0xD5032D9Fu)), 1u);
}
#else
TEST(Marker, NoneOnThisArchitecture) {
  EXPECT_FALSE(kMarkersEmitted);
  only_start();
  only_stop();
  only_report();
}
#endif

TEST(Marker, ReportsAreNumberedFromZeroInExecutionOrder) {
  ReportCounter c;
  EXPECT_EQ(c.executed(), 0);
  EXPECT_EQ(c.report(), 0);
  EXPECT_EQ(c.report(), 1);
  EXPECT_EQ(c.report(), 2);
  EXPECT_EQ(c.executed(), 3);
}

TEST(Marker, TheProcessCounterIsOneCounter) {
  ReportCounter& a = process_reports();
  const int before = a.executed();
  EXPECT_EQ(process_reports().report(), before);
  EXPECT_EQ(&a, &process_reports());
  EXPECT_EQ(a.executed(), before + 1);
}

}  // namespace
}  // namespace swapbench

namespace swapbench {
namespace {

TEST(KnownWork, OnlyTheCalibratedSizesExist) {
  for (unsigned n : {0u, 8u, 64u, 512u}) EXPECT_NE(known_work(n), nullptr) << n;
  for (unsigned n : {1u, 7u, 9u, 100u, 1024u}) EXPECT_EQ(known_work(n), nullptr) << n;
}

#if defined(__x86_64__)
// known_instructions<N>: exactly N one-byte NOPs and a return, nothing whose count could vary.
TEST(KnownWork, X86IsExactlyNNopsThenRet) {
  for (unsigned n : {0u, 8u, 64u, 512u}) {
    const auto* code = reinterpret_cast<const uint8_t*>(known_work(n));
    for (unsigned i = 0; i < n; ++i) ASSERT_EQ(code[i], 0x90) << "byte " << i << " of known_instructions<" << n << ">";
    EXPECT_EQ(code[n], 0xc3) << "known_instructions<" << n << "> does not return right after its NOPs";
  }
}
#endif

}  // namespace
}  // namespace swapbench
