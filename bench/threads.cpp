#include "bench/threads.h"

#include <sys/mman.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <thread>

#include "bench/options.h"
#include "bench/plan.h"
#include "bench/suites.h"
#include "workloads/measure/histogram.h"
#include "workloads/measure/timer.h"

namespace swapbench {

int threads_asked(const RunOptions& o) {
  if (o.threads.empty()) return 1;
  const std::string range = "accepted: 1.." + std::to_string(kMaxThreads);
  char* end = nullptr;
  errno = 0;
  const long long n = std::strtoll(o.threads.c_str(), &end, 10);
  if (*end != '\0' || errno == ERANGE)
    throw BadInput("--threads '" + o.threads + "': not a whole number; " + range);
  if (n < 1 || n > kMaxThreads) throw BadInput("--threads " + o.threads + ": out of range; " + range);
  return static_cast<int>(n);
}

int parse_threads(const RunOptions& o, const SuiteDef& s, size_t pages) {
  const int n = threads_asked(o);
  if (n == 1) return 1;
  if (s.interleave_arms || s.known_work) {
    std::string ok;
    for (const auto& t : suites())
      if (!t.interleave_arms && !t.known_work && !t.model && (t.has("swapin") || t.has("swapout") || t.has("writeback")))
        ok += (ok.empty() ? "" : ", ") + t.name;
    throw BadInput("--threads " + o.threads + ": suite " + s.name + " times " +
                   (s.known_work ? "known work per fault, counted on one thread" : "its arms page-interleaved in one loop on one thread") +
                   "; accepted with --suite " + ok);
  }
  if (o.events_given)
    throw BadInput("--events with --threads " + o.threads + ": counter groups count the thread that opens them, and "
                   "per-thread groups are not made; run the counters with --threads 1");
  if (static_cast<size_t>(n) > pages)
    throw BadInput("--threads " + o.threads + ": more threads than the set's " + std::to_string(pages) +
                   " pages (--pages is split over the threads); accepted: 1.." + std::to_string(std::min<size_t>(pages, kMaxThreads)));
  return n;
}

std::vector<Slice> split_pages(size_t pages, int threads) {
  const size_t n = static_cast<size_t>(threads), base = pages / n, extra = pages % n;
  std::vector<Slice> out;
  size_t first = 0;
  for (size_t t = 0; t < n; ++t) {
    const size_t mine = base + (t < extra ? 1 : 0);
    out.push_back({first, mine});
    first += mine;
  }
  return out;
}

namespace {

double ops_per_s(size_t ops, uint64_t ns) { return ns ? static_cast<double>(ops) * 1e9 / static_cast<double>(ns) : 0.0; }

nlohmann::json latency_json(const std::vector<uint64_t>& samples) {
  const LatencySummary l = summarize(samples);
  return {{"p50", l.p50}, {"p99", l.p99}, {"mean", l.mean}};
}

}  // namespace

nlohmann::json thread_figures(const std::vector<ThreadRun>& runs, const Placement& where) {
  nlohmann::json per = nlohmann::json::array();
  std::vector<uint64_t> all;
  uint64_t first = UINT64_MAX, last = 0;
  for (const ThreadRun& r : runs) {
    const uint64_t elapsed = r.end_ns > r.start_ns ? r.end_ns - r.start_ns : 0;
    per.push_back({{"index", r.index}, {"first_page", r.slice.first}, {"slice_pages", r.slice.pages}, {"pages", r.samples.size()},
                   {"latency_ns", latency_json(r.samples)}, {"elapsed_ns", elapsed},
                   {"ops_per_s", ops_per_s(r.samples.size(), elapsed)}, {"binding", r.binding.to_json()},
                   {"error", r.error.empty() ? nlohmann::json(nullptr) : nlohmann::json(r.error)}});
    all.insert(all.end(), r.samples.begin(), r.samples.end());
    if (r.start_ns) first = std::min(first, r.start_ns);
    last = std::max(last, r.end_ns);
  }
  const uint64_t span = first != UINT64_MAX && last > first ? last - first : 0;
  return {{"count", runs.size()}, {"pages", "split: --pages is the set's total, thread i faults its own slice"},
          {"placement", where.to_json()}, {"per_thread", per},
          {"aggregate", {{"pages", all.size()}, {"span_ns", span}, {"ops_per_s", ops_per_s(all.size(), span)},
                         {"latency_ns", latency_json(all)},
                         {"span", "from the first thread's start to the last thread's end"}}}};
}

std::string thread_failure(const std::vector<ThreadRun>& runs) {
  for (const ThreadRun& r : runs)
    if (!r.error.empty()) return "thread " + std::to_string(r.index) + ": " + r.error;
  return "";
}

std::vector<ThreadRun> run_threads(const std::vector<Slice>& slices, const Placement& where, const ThreadBody& body) {
  std::vector<ThreadRun> runs(slices.size());
  std::atomic<size_t> ready{0};
  std::atomic<int> go{0};  // 0: wait, 1: start, -1: give up (a thread could not be created)
  std::vector<std::thread> threads;
  auto worker = [&](ThreadRun& r) {
    try {
      r.binding = pin_current_thread(where.cpus[static_cast<size_t>(r.index)]);
      // Locked, as the one-thread sets' buffer is: reclaim must not push it out mid-loop.
      r.samples.reserve(r.slice.pages);
      mlock(r.samples.data(), r.slice.pages * sizeof(uint64_t));
    } catch (const std::exception& e) {
      r.error = std::string("could not be pinned and prepared: ") + e.what();
    }
    ready.fetch_add(1);
    ready.notify_all();
    go.wait(0);
    if (go.load() < 0 || !r.error.empty()) return;
    r.start_ns = now_ns();
    try {
      body(r);
    } catch (const std::exception& e) {
      r.error = e.what();
    }
    r.end_ns = now_ns();
  };
  for (size_t t = 0; t < slices.size(); ++t) {
    runs[t].index = static_cast<int>(t);
    runs[t].slice = slices[t];
  }
  for (size_t t = 0; t < slices.size(); ++t) {
    try {
      threads.emplace_back(worker, std::ref(runs[t]));
    } catch (const std::exception& e) {
      runs[t].error = std::string("could not be created: ") + e.what();
      break;
    }
  }
  // Pinned before the clock starts, so no thread's first faults are timed on a CPU it then leaves.
  for (size_t n = ready.load(); n < threads.size(); n = ready.load()) ready.wait(n);
  go.store(threads.size() == slices.size() ? 1 : -1);
  go.notify_all();
  for (auto& t : threads) t.join();
  return runs;
}

}  // namespace swapbench
