// The CPU's own time counter, read directly from user space: the TSC on x86-64, the virtual
// counter on arm64. Only the reads live here (one fence per architecture); whether a counter may be
// used at all, and its frequency, are decided once at start by workloads/measure/timer.cpp.
//
// x86-64: `lfence; rdtsc; lfence` opens a sample: the first lfence keeps the read from starting
//   before earlier loads finish, the second keeps the measured access from starting before the
//   read. `rdtscp; lfence` closes it: rdtscp waits for the access to complete, lfence keeps later
//   work out of the window. (Intel's "How to Benchmark Code Execution Times" recipe with lfence for
//   cpuid, which a VM exit would make cost microseconds; Linux makes lfence dispatch-serialising on
//   AMD too.)
// arm64: `isb; mrs cntvct_el0` on both sides: without the isb the read may be taken before the
//   access it is meant to follow. Linux lets EL0 read cntvct_el0 (the vDSO does so itself).
// Other architectures: no counter (kCounterAvailable false); the timer uses clock_gettime.
#pragma once
#include <cstdint>

#if defined(__x86_64__)
#include <x86intrin.h>
#endif

namespace swapbench {

#if defined(__x86_64__)
inline constexpr bool kCounterAvailable = true;
inline constexpr const char* kCounterName = "x86-64 TSC (lfence; rdtsc / rdtscp; lfence)";
inline uint64_t counter_open() {
  _mm_lfence();
  const uint64_t t = __rdtsc();
  _mm_lfence();
  return t;
}
inline uint64_t counter_close() {
  unsigned aux;
  const uint64_t t = __rdtscp(&aux);
  _mm_lfence();
  return t;
}
// The frequency the architecture declares, 0 where it declares none (x86-64: only the kernel knows).
inline uint64_t counter_declared_hz() { return 0; }
#elif defined(__aarch64__)
inline constexpr bool kCounterAvailable = true;
inline constexpr const char* kCounterName = "arm64 virtual counter (isb; mrs cntvct_el0)";
inline uint64_t counter_read() {
  uint64_t v;
  asm volatile("isb\n\tmrs %0, cntvct_el0" : "=r"(v)::"memory");
  return v;
}
inline uint64_t counter_open() { return counter_read(); }
inline uint64_t counter_close() { return counter_read(); }
inline uint64_t counter_declared_hz() {
  uint64_t f;
  asm volatile("mrs %0, cntfrq_el0" : "=r"(f));
  return f;
}
#else
inline constexpr bool kCounterAvailable = false;
inline constexpr const char* kCounterName = "none";
inline uint64_t counter_open() { return 0; }
inline uint64_t counter_close() { return 0; }
inline uint64_t counter_declared_hz() { return 0; }
#endif

}  // namespace swapbench
