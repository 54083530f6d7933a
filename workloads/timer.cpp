#include "workloads/timer.h"

#include <vector>

#include "workloads/histogram.h"

namespace swapbench {

TimerOverhead measure_timer_overhead(int samples) {
  std::vector<uint64_t> d(static_cast<size_t>(samples));
  for (auto& x : d) {
    uint64_t a = now_ns();
    uint64_t b = now_ns();
    x = b - a;
  }
  auto s = summarize(d);
  TimerOverhead t;
  t.min_ns = s.min;
  t.p50_ns = s.p50;
  t.p99_ns = s.p99;
  return t;
}

}  // namespace swapbench
