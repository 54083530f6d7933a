// The clock around each fault. clock_gettime(CLOCK_MONOTONIC) through the vDSO: no syscall, ns
// units without a TSC calibration step, and the same clock on every architecture the suite runs on
// (arm64 guests included). Its own cost is measured and recorded, never subtracted silently.
#pragma once
#include <cstdint>
#include <ctime>

namespace swapbench {

inline uint64_t now_ns() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000ull + static_cast<uint64_t>(ts.tv_nsec);
}

struct TimerOverhead {
  double min_ns = 0, p50_ns = 0, p99_ns = 0;
  const char* source = "clock_gettime(CLOCK_MONOTONIC) via vDSO";
};
// Back-to-back reads, as the timed loop does them: what one sample costs with nothing in between.
TimerOverhead measure_timer_overhead(int samples = 200000);

}  // namespace swapbench
