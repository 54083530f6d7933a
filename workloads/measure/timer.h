// The clocks. now_ns(): clock_gettime(CLOCK_MONOTONIC) through the vDSO, for intervals of
// milliseconds and more (writeback, race, wall time). sample_open()/sample_close(): the clock
// around each timed fault, chosen once per process by init_sample_timer():
// - x86-64: the TSC, read directly, only when the kernel reports it constant and nonstop
//   (/proc/cpuinfo flags constant_tsc, nonstop_tsc) and rdtscp exists;
// - arm64: the virtual counter cntvct_el0 at the rate cntfrq_el0 declares;
// - otherwise (or SWAPBENCH_TIMER=clock_gettime): clock_gettime, as before.
// A vDSO clock_gettime reads the same counter and then does a seqlock retry loop and a
// multiply-shift: about half of the 41 ns per sample the harness cost on a cloud VM. Reading the
// counter and converting the difference once per sample leaves the read itself. Which timer, why,
// and its frequency travel in every result; its cost is measured and recorded, never subtracted.
#pragma once
#include <cstdint>
#include <ctime>
#include <string>

#include "workloads/arch/counter.h"

namespace swapbench {

inline uint64_t now_ns() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000ull + static_cast<uint64_t>(ts.tv_nsec);
}

enum class TimerKind { Counter, ClockGettime };

// The decision, from what the machine says; pure, so the fallbacks are tested on fixture text.
// arch: uname's machine ("x86_64", "aarch64", ...); cpuinfo: /proc/cpuinfo's text; forced:
// SWAPBENCH_TIMER ("" or "auto": choose; "clock_gettime": the fallback whatever the machine).
// Throws std::invalid_argument for another forced value, naming the accepted ones.
struct TimerChoice {
  TimerKind kind = TimerKind::ClockGettime;
  std::string why;
};
TimerChoice choose_timer(const std::string& arch, const std::string& cpuinfo, const std::string& forced);

// The frequency of a counter from two readings of it, each bracketed by CLOCK_MONOTONIC_RAW
// readings: ticks per ns. Pure (tested); the bracket's width bounds the error.
struct ClockPair {
  uint64_t ticks = 0;
  uint64_t raw_ns = 0;       // mid-point of the bracket
  uint64_t bracket_ns = 0;   // raw after - raw before
};
double ticks_per_ns(const ClockPair& a, const ClockPair& b);

// What init_sample_timer() chose, and what the result records.
struct SampleTimer {
  TimerKind kind = TimerKind::ClockGettime;
  std::string name = "clock_gettime(CLOCK_MONOTONIC) via vDSO";
  std::string why = "not initialised (init_sample_timer() not called)";
  double frequency_hz = 1e9;
  std::string frequency_source = "ns by definition";
  double frequency_error_ppm = 0;  // the calibration's bound (bracket widths / interval)
  std::string clocksource;         // the kernel's current clocksource (what CLOCK_MONOTONIC_RAW reads)
};

namespace detail {
// Set once by init_sample_timer() before any timed loop; read in the loop (a predictable branch).
inline bool g_counter = false;
inline double g_ns_per_tick = 1.0;
inline double g_ticks_per_ns = 1.0;
}  // namespace detail

// Chooses and calibrates the timer (about 60 ms on x86-64); later calls return the first choice.
// Throws std::invalid_argument for a bad SWAPBENCH_TIMER.
const SampleTimer& init_sample_timer();
const SampleTimer& sample_timer();

inline uint64_t sample_open() { return detail::g_counter ? counter_open() : now_ns(); }
inline uint64_t sample_close() { return detail::g_counter ? counter_close() : now_ns(); }
// Differences of sample_open/close readings to ns, and back (the injected busy-wait's target).
inline uint64_t ticks_to_ns(uint64_t d) {
  return detail::g_counter ? static_cast<uint64_t>(static_cast<double>(d) * detail::g_ns_per_tick + 0.5) : d;
}
inline uint64_t ns_to_ticks(uint64_t ns) {
  return detail::g_counter ? static_cast<uint64_t>(static_cast<double>(ns) * detail::g_ticks_per_ns + 0.5) : ns;
}

struct TimerOverhead {
  double min_ns = 0, p50_ns = 0, p99_ns = 0;
  std::string source = "sample_open(); sample_close() back to back";
};
// Back-to-back reads, as the timed loop does them: what one sample costs with nothing in between.
TimerOverhead measure_timer_overhead(int samples = 200000);

}  // namespace swapbench
