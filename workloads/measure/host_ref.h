// The host's speed, sampled during a set: a fixed chain of dependent multiply-adds, timed with the
// sample timer between faults (outside every timed window), every kHostRefEvery pages. Its time
// varies only with how fast this vCPU runs (steal, a busy hyperthread sibling, frequency), never
// with the kernel under test, so a set whose loop ran 10% slower than the run's median ran on a
// 10% slower host. (On a 2-vCPU cloud VM the same loop's speed varied up to 10x between 3 ms samples.)
#pragma once
#include <cstdint>

#include "workloads/measure/timer.h"

namespace swapbench {

// 1024 dependent steps: about 1.2 us on a 2.6 GHz AMD EPYC VM. Long against the clock's granularity: the
// fenced TSC reads there advance in 10 ns steps (26 ticks at 2.6 GHz), so a 300 ns loop (256
// steps, tried first) could only say 290 or 300, 3% apart; at 1.2 us a step is 0.8%. Every 128
// pages: about 0.2% of a zswap swap-in set's time, outside every timed window.
inline constexpr int kHostRefIterations = 1024;
inline constexpr uint64_t kHostRefEvery = 128;

inline uint64_t host_reference_ns() {
  uint64_t x = 0x9e3779b97f4a7c15ull;
  const uint64_t t0 = sample_open();
  for (int i = 0; i < kHostRefIterations; ++i) {
    x = x * 6364136223846793005ull + 1442695040888963407ull;
    asm volatile("" : "+r"(x));  // the chain must run: the compiler may not fold or vectorise it
  }
  const uint64_t t1 = sample_close();
  asm volatile("" ::"r"(x));
  return ticks_to_ns(t1 - t0);
}

}  // namespace swapbench
