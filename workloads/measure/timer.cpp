#include "workloads/measure/timer.h"

#include <sys/utsname.h>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>
#include <stdexcept>
#include <thread>
#include <vector>

#include "workloads/measure/histogram.h"

namespace swapbench {

namespace {

std::set<std::string> cpu_flags(const std::string& cpuinfo) {
  std::istringstream in(cpuinfo);
  std::string line;
  std::set<std::string> out;
  while (std::getline(in, line)) {
    if (line.rfind("flags", 0) != 0) continue;
    auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::istringstream f(line.substr(colon + 1));
    std::string w;
    while (f >> w) out.insert(w);
    break;  // the first CPU's flags: the kernel reports the same TSC flags on every CPU
  }
  return out;
}

std::string read_text(const char* path) {
  std::ifstream f(path);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

uint64_t raw_ns() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC_RAW, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000ull + static_cast<uint64_t>(ts.tv_nsec);
}

// The counter read between two CLOCK_MONOTONIC_RAW reads, best (narrowest bracket) of 9 tries: a
// preemption between the reads widens one bracket, not all nine.
ClockPair bracketed() {
  ClockPair best;
  best.bracket_ns = UINT64_MAX;
  for (int i = 0; i < 9; ++i) {
    const uint64_t a = raw_ns();
    const uint64_t t = counter_open();
    const uint64_t b = raw_ns();
    if (b - a < best.bracket_ns) best = {t, a + (b - a) / 2, b - a};
  }
  return best;
}

SampleTimer g_timer;
bool g_initialised = false;

}  // namespace

TimerChoice choose_timer(const std::string& arch, const std::string& cpuinfo, const std::string& forced) {
  if (forced == "clock_gettime") return {TimerKind::ClockGettime, "forced by SWAPBENCH_TIMER=clock_gettime"};
  if (!forced.empty() && forced != "auto")
    throw std::invalid_argument("SWAPBENCH_TIMER='" + forced + "': accepted: auto (the default), clock_gettime");
  if (arch == "x86_64") {
    const auto f = cpu_flags(cpuinfo);
    std::vector<std::string> missing;
    for (const char* need : {"constant_tsc", "nonstop_tsc", "rdtscp"})
      if (!f.count(need)) missing.push_back(need);
    if (missing.empty())
      return {TimerKind::Counter, "the kernel reports constant_tsc and nonstop_tsc (/proc/cpuinfo): the TSC ticks at "
                                  "one rate in every P- and C-state, so ticks convert to ns with one factor"};
    std::string m;
    for (const auto& x : missing) m += (m.empty() ? "" : ", ") + x;
    return {TimerKind::ClockGettime,
            "the TSC is not used: /proc/cpuinfo flags lack " + m +
                " (without constant_tsc and nonstop_tsc its rate follows the CPU's frequency or stops in idle)"};
  }
  if (arch == "aarch64") return {TimerKind::Counter, "arm64: the virtual counter runs at the fixed rate cntfrq_el0 declares"};
  return {TimerKind::ClockGettime, "no direct counter read is written for this architecture (" + arch + ")"};
}

double ticks_per_ns(const ClockPair& a, const ClockPair& b) {
  if (b.raw_ns <= a.raw_ns || b.ticks <= a.ticks)
    throw std::invalid_argument("the counter or CLOCK_MONOTONIC_RAW did not advance between calibration reads");
  return static_cast<double>(b.ticks - a.ticks) / static_cast<double>(b.raw_ns - a.raw_ns);
}

const SampleTimer& sample_timer() { return g_timer; }

const SampleTimer& init_sample_timer() {
  if (g_initialised) return g_timer;
  utsname u{};
  uname(&u);
  const char* env = std::getenv("SWAPBENCH_TIMER");
  const TimerChoice c = choose_timer(u.machine, read_text("/proc/cpuinfo"), env ? env : "");
  g_initialised = true;
  SampleTimer t;
  t.clocksource = read_text("/sys/devices/system/clocksource/clocksource0/current_clocksource");
  while (!t.clocksource.empty() && (t.clocksource.back() == '\n' || t.clocksource.back() == ' ')) t.clocksource.pop_back();
  t.why = c.why;
  if (c.kind == TimerKind::Counter && !kCounterAvailable) {
    t.why = std::string("this binary was built without a counter read for ") + u.machine;
  } else if (c.kind == TimerKind::Counter) {
    // Frequency from the kernel's clock: CLOCK_MONOTONIC_RAW is the kernel's clocksource scaled by
    // the kernel's own calibration, without NTP slewing. Mainline Linux does not export tsc_khz to
    // user space (only a line in the kernel log, which rotates and is not an interface), so the
    // counter is compared with that clock over two 25 ms intervals; the two must agree, or the
    // counter is not steady and the fallback is used. 25 ms: a 100 ns bracket is then 4 ppm.
    const ClockPair p0 = bracketed();
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
    const ClockPair p1 = bracketed();
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
    const ClockPair p2 = bracketed();
    try {
      const double f1 = ticks_per_ns(p0, p1), f2 = ticks_per_ns(p1, p2), f = ticks_per_ns(p0, p2);
      const double err_ppm = 1e6 * static_cast<double>(p0.bracket_ns + p2.bracket_ns) / static_cast<double>(p2.raw_ns - p0.raw_ns);
      const double declared = static_cast<double>(counter_declared_hz());
      const double disagree = std::fabs(f1 - f2) / f;
      // 0.1%: far beyond the brackets' few ppm; a counter that drifts that much between two 25 ms
      // intervals is trapped, emulated or unsynchronised, and its ns would not be ns.
      if (disagree > 1e-3) {
        t.why = c.why + "; but its rate against CLOCK_MONOTONIC_RAW changed by " + std::to_string(disagree * 100) +
                "% between two 25 ms intervals, so clock_gettime is used";
      } else if (declared > 0 && std::fabs(f * 1e9 - declared) / declared > 1e-2) {
        t.why = c.why + "; but it ran at " + std::to_string(f * 1e9) + " Hz against CLOCK_MONOTONIC_RAW, not the " +
                std::to_string(declared) + " Hz cntfrq_el0 declares, so clock_gettime is used";
      } else {
        t.kind = TimerKind::Counter;
        t.name = kCounterName;
        if (declared > 0) {
          t.frequency_hz = declared;
          t.frequency_source = "cntfrq_el0 (checked against CLOCK_MONOTONIC_RAW over 50 ms: " +
                               std::to_string(f * 1e9) + " Hz)";
        } else {
          t.frequency_hz = f * 1e9;
          t.frequency_source = "calibrated against CLOCK_MONOTONIC_RAW (clocksource " + t.clocksource +
                               ") over 50 ms, two 25 ms halves agreeing within " +
                               std::to_string(disagree * 1e6) + " ppm";
          t.frequency_error_ppm = err_ppm;
        }
      }
    } catch (const std::invalid_argument& e) {
      t.why = c.why + "; but " + e.what() + ", so clock_gettime is used";
    }
  }
  if (t.kind == TimerKind::Counter) {
    detail::g_ticks_per_ns = t.frequency_hz / 1e9;
    detail::g_ns_per_tick = 1e9 / t.frequency_hz;
    detail::g_counter = true;
  }
  g_timer = t;
  return g_timer;
}

TimerOverhead measure_timer_overhead(int samples) {
  std::vector<uint64_t> d(static_cast<size_t>(samples));
  for (auto& x : d) {
    uint64_t a = sample_open();
    uint64_t b = sample_close();
    x = ticks_to_ns(b - a);
  }
  auto s = summarize(d);
  TimerOverhead t;
  t.min_ns = s.min;
  t.p50_ns = s.p50;
  t.p99_ns = s.p99;
  t.source = "sample_open(); sample_close() back to back: " + g_timer.name;
  return t;
}

}  // namespace swapbench
