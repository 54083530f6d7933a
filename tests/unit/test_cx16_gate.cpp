// The cmpxchg16b flags gate (bench/cx16_gate.h): its judgement of a flags value, and the probe on
// this machine's CPU, which computes cmpxchg16b's flags right. The emulator half (QEMU 7.2 failing
// it) runs in the guest test tests/guest/test_cx16_gate.sh.
#include <gtest/gtest.h>

#include <sstream>

#include "bench/cx16_gate.h"

namespace swapbench {
namespace {

TEST(Cx16Gate, RightFlagsPassWhateverTheSystemBits) {
  EXPECT_EQ(cx16_wrong_flags(0x242), "");              // IF, ZF, bit 1: what a real CPU gives
  EXPECT_EQ(cx16_wrong_flags(0x42 | 0x3000), "");      // IOPL is the system's, not judged
  EXPECT_EQ(cx16_wrong_flags(0x42 | (1 << 18)), "");  // AC too
}

TEST(Cx16Gate, QemuSevenTwoFlagsAreNamedBitByBit) {
  // Seen under Debian 12's qemu-x86_64 7.2: CF and bit 30 from the ADD's operand 0x40000001.
  EXPECT_EQ(cx16_wrong_flags(0x40000243), "CF set (expected clear), bit 30 set (reserved, always 0)");
  EXPECT_EQ(cx16_wrong_flags(0x202), "ZF clear (expected set)");
  EXPECT_EQ(cx16_wrong_flags(0x242 | 0x400 | 0x100), "TF set (expected clear), DF set (expected clear)");
}

TEST(Cx16Gate, ThisCpuPassesTheProbe) {
  std::ostringstream out;
  const int rc = cx16_gate_command(out);
  if (rc == 77) GTEST_SKIP() << out.str();
  EXPECT_EQ(rc, 0) << out.str();
  EXPECT_EQ(out.str().rfind("cx16-selftest: pass: flags after cmpxchg16b 0x", 0), 0u) << out.str();
}

}  // namespace
}  // namespace swapbench
