// The cmpxchg16b flags gate: an emulator proves it computes the flags of cmpxchg16b right before
// any figure of an x86-64 guest counts. QEMU before 8.0 does not under TCG: its helper builds the
// flags from a lazy condition-code state the translator never wrote back, so after a flag-setting
// instruction in the same translation block they come from that instruction's operand. Linux 6.x's
// SLUB runs cmpxchg16b on every allocation; the garbage reaches EFLAGS (VM, DF, AC) and the guest
// double-faults in kmem_cache_alloc or copies backwards. The guest's /init runs the gate first
// (kernels-config/guest-init.sh) and the host refuses the boot when it fails (kmatrix/gates.py).
#pragma once

#include <cstdint>
#include <ostream>
#include <string>

namespace swapbench {

// What the probe's RFLAGS must be after a successful cmpxchg16b that follows an ADD leaving CF, PF,
// AF, SF, OF clear: ZF set (cmpxchg16b's own flag) and reserved bit 1, nothing else among the bits
// the program's code decides (the operating system's IF, IOPL, AC, ID are not judged).
constexpr uint64_t kCx16ExpectedFlags = 0x42;

// "" when flags (as pushfq saw them) are right, else each wrong bit named: "CF set (expected clear)".
std::string cx16_wrong_flags(uint64_t flags);

// `swapbench cx16-selftest`: the probe's verdict on out; exit 0 pass, 1 wrong flags, 77 not
// applicable (not x86-64, or a CPU without cmpxchg16b), with the reason.
int cx16_gate_command(std::ostream& out);

}  // namespace swapbench
