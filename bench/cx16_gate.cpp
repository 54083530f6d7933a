// The cmpxchg16b flags gate (bench/cx16_gate.h).
#include "bench/cx16_gate.h"

#include <sys/utsname.h>

#include <cstdio>
#include <utility>
#include <vector>

#if defined(__x86_64__)
#include <cpuid.h>
#endif

namespace swapbench {

namespace {

// The bits a program's code decides, with their names; a 1 in kCx16ExpectedFlags is expected set.
const std::vector<std::pair<uint64_t, const char*>>& judged_bits() {
  static const std::vector<std::pair<uint64_t, const char*>> bits = {
      {1ULL << 0, "CF"}, {1ULL << 1, "bit 1 (reserved, always 1)"}, {1ULL << 2, "PF"},
      {1ULL << 3, "bit 3 (reserved)"}, {1ULL << 4, "AF"}, {1ULL << 5, "bit 5 (reserved)"}, {1ULL << 6, "ZF"},
      {1ULL << 7, "SF"}, {1ULL << 8, "TF"}, {1ULL << 10, "DF"}, {1ULL << 11, "OF"}, {1ULL << 15, "bit 15 (reserved)"}};
  return bits;
}

// Bits 22-63 are reserved: always 0 in a real RFLAGS.
constexpr uint64_t kReservedHigh = ~((1ULL << 22) - 1);

constexpr int kRounds = 8;

#if defined(__x86_64__)
// One round: a failing cmpxchg16b (so the flags state is EFLAGS), a jump that ends QEMU's
// translation block, an ADD whose operand 0x40000001 leaves CF, PF, AF, ZF, SF, OF clear but would
// give CF and bit 30 if read as flags, then a cmpxchg16b that succeeds and must change ZF alone.
uint64_t probe_once() {
  alignas(16) uint64_t mem[2] = {7, 7};
  uint64_t flags, rax = 0, rdx = 0, rdi = 0;
  const uint64_t rsi = 0x40000001ULL, rbx = 1, rcx = 1;
  __asm__ volatile(
      "cmpxchg16b %[m]\n\t"
      "jmp 1f\n"
      "1:\n\t"
      "add %[s], %[d]\n\t"
      "cmpxchg16b %[m]\n\t"
      "pushfq\n\t"
      "popq %[f]\n\t"
      : [f] "=r"(flags), [d] "+r"(rdi), [m] "+m"(mem), "+a"(rax), "+d"(rdx)
      : [s] "r"(rsi), "b"(rbx), "c"(rcx)
      : "cc");
  return flags;
}

bool has_cx16() {
  unsigned a, b, c, d;
  return __get_cpuid(1, &a, &b, &c, &d) && (c & bit_CMPXCHG16B);
}
#endif

std::string hex(uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "%#llx", static_cast<unsigned long long>(v));
  return buf;
}

}  // namespace

std::string cx16_wrong_flags(uint64_t flags) {
  std::string out;
  auto add = [&](const std::string& s) { out += (out.empty() ? "" : ", ") + s; };
  for (const auto& [bit, name] : judged_bits()) {
    const bool want = kCx16ExpectedFlags & bit, got = flags & bit;
    if (want != got) add(std::string(name) + (got ? " set (expected clear)" : " clear (expected set)"));
  }
  for (int b = 22; b < 64; ++b)
    if (flags & kReservedHigh & (1ULL << b)) add("bit " + std::to_string(b) + " set (reserved, always 0)");
  return out;
}

int cx16_gate_command(std::ostream& out) {
#if defined(__x86_64__)
  if (!has_cx16()) {
    out << "cx16-selftest: skip: this CPU has no cmpxchg16b (CPUID.01H:ECX.CX16 clear), so nothing runs it\n";
    return 77;
  }
  std::string wrong;
  uint64_t seen = 0;
  for (int i = 0; i < kRounds && wrong.empty(); ++i) {
    seen = probe_once();
    wrong = cx16_wrong_flags(seen);
  }
  if (wrong.empty()) {
    out << "cx16-selftest: pass: flags after cmpxchg16b " << hex(seen) << " (ZF alone changed) in " << kRounds
        << " rounds after a flag-setting ADD\n";
    return 0;
  }
  out << "cx16-selftest: FAIL: flags after cmpxchg16b " << hex(seen) << ": " << wrong
      << "; the flags came from the preceding ADD's operand (QEMU's TCG cmpxchg16b flags bug, fixed in QEMU 8.0), "
      << "so nothing measured in this guest counts\n";
  return 1;
#else
  utsname u{};
  uname(&u);
  out << "cx16-selftest: skip: the cmpxchg16b flags probe applies to x86-64 only, this is " << u.machine << "\n";
  return 77;
#endif
}

}  // namespace swapbench
