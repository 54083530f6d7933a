// Exact-cost markers: instructions that a QEMU TCG plugin (kernels-config/plugin/)
// recognises around each measured operation, and that are NOPs on real hardware, so one binary
// serves the host and the counted guest. The encodings are a contract with the plugin and the
// count pass (kernels-config/exact-contract.md); change them there first, or the plugin
// silently counts nothing.
//
//   START   an operation begins (one fault, one page-out, one writeback trigger)
//   STOP    it ends
//   REPORT  end of one repetition of one set: the plugin writes what it counted since the last one
//
// x86-64: `nopl DISP32(%rax,%rax,1)`, bytes 0F 1F 84 00 + disp32 little-endian. Written as bytes,
//   not as the mnemonic: an assembler may pick a shorter form of a NOP (disp8, no SIB), and the
//   plugin matches these 8 bytes exactly.
// arm64: HINT #imm with an unallocated immediate, which the architecture executes as a NOP (word
//   0xD503201F | imm << 5); the plugin matches the word. Executed by the cross-built suite in arm64
//   guests, whose count pass counts the mte suite's tagged and untagged operations.
// Any other architecture: no marker at all (the functions are empty), so a counted run there finds
// no operations and the count pass says so.
//
// Each marker is `asm volatile` with a "memory" clobber: the compiler may neither drop it nor move
// the measured load or syscall across it, which would count the wrong instructions without a sign.
#pragma once

// The x86-64 displacements, also the identity of each marker in tests.
#define SWAPBENCH_MARKER_START_DISP 0x53420001
#define SWAPBENCH_MARKER_STOP_DISP 0x53420002
#define SWAPBENCH_MARKER_REPORT_DISP 0x53420003
// The arm64 HINT immediates.
#define SWAPBENCH_MARKER_START_HINT 0x6a
#define SWAPBENCH_MARKER_STOP_HINT 0x6b
#define SWAPBENCH_MARKER_REPORT_HINT 0x6c

#define SWAPBENCH_STR2(x) #x
#define SWAPBENCH_STR(x) SWAPBENCH_STR2(x)

#if defined(__x86_64__)
#define SWAPBENCH_MARKER(disp, hint) \
  asm volatile(".byte 0x0f, 0x1f, 0x84, 0x00\n\t.long " SWAPBENCH_STR(disp) ::: "memory")
#define SWAPBENCH_MARKERS_EMITTED 1
#elif defined(__aarch64__)
#define SWAPBENCH_MARKER(disp, hint) asm volatile("hint #" SWAPBENCH_STR(hint) ::: "memory")
#define SWAPBENCH_MARKERS_EMITTED 1
#else
// No marker encoding for this architecture (the contract defines x86-64 and arm64 only): nothing
// is emitted.
#define SWAPBENCH_MARKER(disp, hint) \
  do {                                \
  } while (0)
#define SWAPBENCH_MARKERS_EMITTED 0
#endif

namespace swapbench {

// false where this architecture has no marker encoding (nothing is emitted).
inline constexpr bool kMarkersEmitted = SWAPBENCH_MARKERS_EMITTED;

inline void marker_start() { SWAPBENCH_MARKER(SWAPBENCH_MARKER_START_DISP, SWAPBENCH_MARKER_START_HINT); }
inline void marker_stop() { SWAPBENCH_MARKER(SWAPBENCH_MARKER_STOP_DISP, SWAPBENCH_MARKER_STOP_HINT); }
inline void marker_report() { SWAPBENCH_MARKER(SWAPBENCH_MARKER_REPORT_DISP, SWAPBENCH_MARKER_REPORT_HINT); }

// The REPORT markers executed, numbered in execution order from 0: the number a set's repetition
// records as swapbench.count_report, which the count pass pairs with the plugin's report of the
// same number. Numbering must be the process's: one REPORT executed and not counted (or counted
// twice) shifts every later set onto another set's counts, with nothing to show it.
class ReportCounter {
 public:
  // Executes a REPORT marker and returns its number.
  int report() {
    marker_report();
    return next_++;
  }
  int executed() const { return next_; }

 private:
  int next_ = 0;
};

// The one counter of this process (sets run on one thread; see bench/set_runner.cpp finish()).
inline ReportCounter& process_reports() {
  static ReportCounter r;
  return r;
}

// Known work for the exact metric's calibration (the calibrate-exact suite): a function that
// executes exactly N user instructions besides its own return, N NOPs written out by the
// assembler (no loop, no branch: nothing whose count could depend on data). Called through a
// pointer from inside the START/STOP window, every arm pays the same call and return, so two arms
// differ by exactly their N.
using KnownWork = void (*)();
template <int N>
void known_instructions() {
  asm volatile(".rept %c0\n\tnop\n\t.endr" ::"i"(N) : "memory");
}
// The known-work function for n in {0, 8, 64, 512}; nullptr for any other n.
inline KnownWork known_work(unsigned n) {
  switch (n) {
    case 0: return &known_instructions<0>;
    case 8: return &known_instructions<8>;
    case 64: return &known_instructions<64>;
    case 512: return &known_instructions<512>;
  }
  return nullptr;
}

}  // namespace swapbench
