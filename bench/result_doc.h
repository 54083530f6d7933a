// The one result document every suite writes: Google Benchmark's JSON layout (context +
// benchmarks, so its tools/compare.py reads it) with a versioned `swapbench` block in the context
// and in every benchmark entry (results/SCHEMA.md).
#pragma once
#include <benchmark/benchmark.h>

#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace swapbench {

struct Plan;
struct MachineFacts;

// Keeps Google Benchmark's context and runs; prints nothing (progress comes from the sets).
class CaptureReporter : public benchmark::BenchmarkReporter {
 public:
  nlohmann::json context;
  std::vector<Run> runs;  // in the order Google Benchmark reported them
  bool ReportContext(const Context& c) override;
  void ReportRuns(const std::vector<Run>& report) override;
};

// Runs Google Benchmark over what has been registered, repetitions in random interleaved order
// where `interleave` (drift then spreads over every set instead of landing on one).
void run_registered(CaptureReporter& rep, bool interleave);

// {"context": Google Benchmark's context + date, host, schema versions + "swapbench": sb_context,
//  "benchmarks": benchmarks}
nlohmann::json result_document(const nlohmann::json& gbench_context, const nlohmann::json& sb_context,
                               const nlohmann::json& benchmarks);

// A Google Benchmark aggregate run (mean, median, stddev, cv) as a result entry.
nlohmann::json aggregate_entry(const benchmark::BenchmarkReporter::Run& g, const std::string& name, int family,
                               int reps, const std::string& note);

// Writes the result to p.out; when that fails, to the results folder under an "unsaved" name, so
// nothing measured is lost. 0: written where asked.
int write_result(const Plan& p, const MachineFacts& m, const nlohmann::json& doc);
// The exit status, made 1 when the summary could not be written to stdout.
int check_stdout(int status);

}  // namespace swapbench
