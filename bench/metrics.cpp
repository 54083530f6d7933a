#include "bench/metrics.h"

#include "bench/kind_info.h"
#include "bench/suites.h"

namespace swapbench {

std::string to_string(Direction d) { return d == Direction::LowerIsBetter ? "lower_is_better" : "higher_is_better"; }

std::string to_string(MetricKind k) { return k == MetricKind::Timed ? "timed" : "exact"; }

namespace {

using Kinds = std::vector<std::string>;

Kinds plus(Kinds a, const Kinds& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

Kinds minus(Kinds a, const std::string& drop) {
  std::erase(a, drop);
  return a;
}

// A standard workload's figure (usemem, swap-w): one per repetition, in its workload block.
MetricDef workload(const std::string& name, const std::string& unit, Direction d, const std::string& meaning) {
  return {.name = name, .unit = unit, .direction = d, .set_kinds = {"usemem", "swap_w"}, .path = {"workload", name},
          .meaning = meaning};
}

MetricDef latency(const std::string& name, const std::string& meaning) {
  return {.name = name, .unit = "ns", .set_kinds = fault_kind_names(), .path = {"latency_ns", name}, .meaning = meaning};
}

// Exact instruction counts of the count pass: one figure per set in its swapbench.exact block, from
// operations marked in the benchmark (each fault, page-out, writeback trigger). Fewer instructions
// for the same work is better. Writeback sets count their triggers.
struct Reading {
  std::vector<std::string> spread, per_rep, per_rep_over;
};

MetricDef counted(const std::string& name, const std::string& unit, std::vector<std::string> path,
                  const std::string& meaning, Reading r, bool family = false) {
  return {.name = name, .unit = unit, .kind = MetricKind::Exact, .set_kinds = fault_kind_names(),
          .path = std::move(path), .meaning = meaning, .family = family, .spread = std::move(r.spread),
          .per_rep = std::move(r.per_rep), .per_rep_over = std::move(r.per_rep_over)};
}

// A total per operation: its spread under exact.spread, one repetition's median in the report's WHO line.
Reading per_op(const std::string& who) { return {{"exact", "spread", who + "_median_per_op"}, {who, "median"}, {}}; }

}  // namespace

const std::vector<MetricDef>& metrics() {
  static const std::vector<MetricDef> table = [] {
    const std::string writeback = "writeback", race = "race";
    return std::vector<MetricDef>{
        latency("p50", "median per-page latency of the repetition"),
        latency("p90", "90th percentile per-page latency"),
        latency("p99", "99th percentile per-page latency"),
        latency("p999", "99.9th percentile per-page latency"),
        {.name = "mean", .unit = "ns", .set_kinds = plus(fault_kind_names(), model_kind_names()),
         .path = {},  // Google Benchmark's real_time
         .meaning = "mean per-page latency (Google Benchmark's real_time)"},
        latency("min", "fastest page of the repetition"),
        {.name = "pages_per_second", .unit = "pages/s", .direction = Direction::HigherIsBetter,
         .set_kinds = {writeback}, .path = {"writeback", "pages_per_second"},
         .meaning = "pages written back per second while writeback ran"},
        {.name = "ns_per_written_back_page", .unit = "ns", .set_kinds = {writeback},
         .path = {"writeback", "ns_per_written_back_page"}, .meaning = "writeback time per written-back page"},
        {.name = "stale_pages", .unit = "pages", .kind = MetricKind::Exact, .set_kinds = {race},
         .path = {"stale_pages"}, .check = true,
         .meaning = "pages read back with an old generation's data during the writeback race"},
        counted("kernel_instructions_per_op", "instructions/op", {"exact", "kernel_instructions_per_op", "median"},
                "guest kernel instructions per operation (median over operations, median over repetitions)",
                per_op("kernel")),
        counted("user_instructions_per_op", "instructions/op", {"exact", "user_instructions_per_op", "median"},
                "guest user instructions per operation between the markers (median, median over repetitions)",
                per_op("user")),
        counted("functions.{}.instructions_per_call", "instructions/call",
                {"exact", "functions", "{}", "instructions_per_call"}, "{}'s own instructions per call (callees excluded)",
                {{"exact", "functions", "{}", "spread_per_call"}, {"functions", "{}", "instructions"},
                 {"functions", "{}", "calls"}}, true),
        counted("functions.{}.calls_per_op", "calls/op", {"exact", "functions", "{}", "calls_per_op"},
                "calls of {} per operation", {{}, {"functions", "{}", "calls"}, {"ops"}}, true),
        workload("real_s", "s", Direction::LowerIsBetter, "wall time from the first worker's fork to the last worker's end"),
        workload("user_s", "s", Direction::LowerIsBetter, "user CPU time of all workers over their write loops"),
        workload("sys_s", "s", Direction::LowerIsBetter, "system CPU time of all workers over their write loops"),
        workload("throughput_bytes_per_s", "bytes/s", Direction::HigherIsBetter,
                 "bytes all workers wrote over the real time"),
        workload("worker_throughput_bytes_per_s", "bytes/s", Direction::HigherIsBetter,
                 "mean over workers of the bytes each wrote over its own loops' time"),
        // Counters per page, from libpfm4 (swapbench.pmu): multiplexing makes them noisy like a time.
        {.name = "pmu.{}", .unit = "per page", .set_kinds = minus(fault_kind_names(), writeback), .path = {"pmu", "{}"},
         .meaning = "libpfm4 event {} per page", .family = true},
    };
  }();
  return table;
}

}  // namespace swapbench
