// `swapbench run` and `swapbench list`: options -> plan -> borrow -> sets -> Google Benchmark ->
// one result document -> the machine given back -> the summary.
#include "bench/run.h"

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <iomanip>
#include <iostream>

#include "bench/backend.h"
#include "bench/borrow.h"
#include "bench/kind.h"
#include "bench/mte_memory.h"
#include "bench/overhead.h"
#include "bench/plan.h"
#include "bench/pmu_exact.h"
#include "bench/recheck_model.h"
#include "bench/result_doc.h"
#include "bench/results.h"
#include "bench/set_runner.h"
#include "bench/summary.h"
#include "workloads/pinning.h"
#include "workloads/pmu.h"
#include "workloads/reclaimers.h"

namespace swapbench {

namespace {

// The events that open here, and the reasons of those that do not (the run goes on without them).
std::vector<std::string> usable_events(const std::vector<std::string>& asked, json& unavailable) {
  std::vector<std::string> ok;
  unavailable = json::array();
  CounterGroup probe(asked);
  for (const auto& s : probe.statuses()) {
    if (s.ok) ok.push_back(s.name);
    else unavailable.push_back({{"event", s.name}, {"reason", s.reason}});
  }
  if (!unavailable.empty())
    std::cerr << "swapbench: " << unavailable.size() << " counter(s) unavailable, the run goes on without them: "
              << unavailable[0]["event"].get<std::string>() << ": " << unavailable[0]["reason"].get<std::string>() << "\n";
  return ok;
}

json benchmark_entries(const std::vector<Scenario>& scs, const std::vector<SetRecord>& records,
                       const CaptureReporter& rep, int reps, const std::string& cpu_model) {
  json benchmarks = json::array();
  int family = 0;
  const std::string accelerator = detect_accelerator();
  for (const auto& sc : scs) {
    const std::string name = sc.name();
    std::vector<const SetRecord*> mine;
    for (const auto& r : records)
      if (r.sc.name() == name) mine.push_back(&r);
    // A host PMU's instructions per fault, as the exact metric (absent without a PMU).
    const auto exact = mine.empty() ? std::nullopt : pmu_exact_block(mine, cpu_model, accelerator);
    std::vector<const benchmark::BenchmarkReporter::Run*> gruns;
    for (const auto& g : rep.runs)
      if (g.run_name.function_name == name) gruns.push_back(&g);
    for (const auto& r : records) {
      if (r.sc.name() != name) continue;
      json e = {{"name", name}, {"family_index", family}, {"per_family_instance_index", 0},
                {"run_name", name}, {"run_type", "iteration"}, {"repetitions", reps},
                {"repetition_index", r.repetition}, {"threads", 1}, {"iterations", r.lat.count},
                {"real_time", r.lat.mean}, {"cpu_time", r.lat.mean}, {"time_unit", "ns"}};
      for (const auto* g : gruns)
        if (g->run_type == benchmark::BenchmarkReporter::Run::RT_Iteration && g->repetition_index == r.repetition &&
            g->iterations > 0)
          e["cpu_time"] = g->GetAdjustedCPUTime();
      if (!r.error.empty()) {
        e["error_occurred"] = true;
        e["error_message"] = r.error;
      }
      e["swapbench"] = r.sb;
      if (exact) e["swapbench"]["exact"] = *exact;
      benchmarks.push_back(e);
    }
    for (const auto* g : gruns)
      if (g->run_type == benchmark::BenchmarkReporter::Run::RT_Aggregate)
        benchmarks.push_back(aggregate_entry(*g, name, family, reps,
                                             "Google Benchmark's aggregate of the per-fault mean over repetitions, "
                                             "errors excluded; see the iteration entries"));
    ++family;
  }
  return benchmarks;
}

}  // namespace

int run_command(const RunOptions& o) {
  const MachineFacts facts = read_machine_facts();
  Plan p;
  try {
    p = make_plan(o, facts);
  } catch (const BadInput& e) {
    std::cerr << "swapbench run: " << e.what() << "\n";
    return 2;
  }
  if (p.suite->model) return recheck_model_command(p, facts);
  Expansion x;
  if (!p.root) {
    // Nothing to ask the kernel: the sets are known now, and a --filter that leaves none is bad
    // input before anything runs.
    try {
      x = expand(p, Capabilities{});
    } catch (const BadInput& e) {
      std::cerr << "swapbench run: " << e.what() << "\n";
      return 2;
    }
    std::cerr << "swapbench: not root: only benchmarks that change nothing run (as root: ./swapbench run, for all)\n";
  }

  Binding bind = pin_current_thread(p.cpu ? *p.cpu : -1);
  try {
    init_sample_timer();  // after pinning: calibrated on the CPU the loop runs on
  } catch (const std::invalid_argument& e) {
    std::cerr << "swapbench run: " << e.what() << "\n";
    return 2;
  }
  TimerOverhead timer = measure_timer_overhead();
  TimerOverhead harness = harness_overhead();
  json ev_bad;
  const std::vector<std::string> events = usable_events(p.events, ev_bad);

  std::unique_ptr<Borrowed> b;
  if (p.root) {
    try {
      b = borrow(p);
    } catch (const std::exception& e) {
      std::cerr << "swapbench run: " << e.what() << "\n";
      return 1;
    }
    try {
      x = expand(p, capabilities(*b));
    } catch (const BadInput& e) {
      b.reset();
      std::cerr << "swapbench run: " << e.what() << "\n(nothing was measured; zswap and zram were asked and given back)\n";
      return 2;
    }
  }
  const std::vector<Scenario>& scs = x.sets;

  Runner runner(p, b.get(), events);
  runner.total_runs = static_cast<int>(scs.size()) * p.repetitions;
  std::cerr << "swapbench: " << scs.size() << " sets x " << p.repetitions << " repetitions, " << p.pages
            << " pages each, " << (p.fixed_order ? "in a fixed order" : "interleaved") << "; CPU " << bind.cpu << "\n";
  for (const auto& sc : scs) {
    benchmark::RegisterBenchmark(sc.name().c_str(), [&runner, sc](benchmark::State& st) { runner.run_set(st, sc); })
        ->Iterations(static_cast<benchmark::IterationCount>(find_kind(sc.kind).iterations(sc)))
        ->Repetitions(p.repetitions)
        ->UseManualTime()
        ->Unit(benchmark::kNanosecond);
  }
  CaptureReporter rep;
  auto t0 = std::chrono::steady_clock::now();
  if (!scs.empty()) run_registered(rep, !p.fixed_order);
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

  json skipped = json::array();
  for (const auto& s : x.skipped) skipped.push_back({{"benchmark", s.benchmark}, {"reason", s.reason}, {"fix", s.fix}});
  const Topology topo = read_topology();
  json sbctx = {{"suite", p.suite->name}, {"repetitions", p.repetitions}, {"pages", p.pages},
                {"command_line", p.command_line}, {"root", p.root}, {"cpu_model", topo.cpu_model},
                {"topology", topo.to_json()}, {"binding", bind.to_json()}, {"timer", [&] {
                   json t = to_json(timer);
                   t["sample_timer"] = to_json(sample_timer());
                   return t;
                 }()},
                {"harness_overhead", to_json(harness)}, {"events_available", events}, {"events_unavailable", ev_bad},
                {"inject", inject_check(scs, p.inject_ns)},
                {"page_cluster_during_timing", p.root ? json(0) : json(nullptr)}, {"skipped", skipped},
                {"set_order", p.fixed_order ? "fixed (declared order, repetitions back to back)" : "random interleaving"},
                {"wall_seconds", wall}, {"other_reclaimers", to_json(find_reclaimers("/"))}};
  if (b) {
    if (b->zswap) {
      sbctx["zswap_params_found"] = b->zswap->found();
      sbctx["compressors"] = {{"accepted", b->compressors.accepted}, {"refused", b->compressors.refused}};
    }
    if (b->swap)
      sbctx["swap_area"] = {{"type", b->swap->type() == SwapAreaGuard::Type::Device ? "device" : "file"},
                            {"path", b->swap->path()}, {"size_bytes", b->swap->bytes()},
                            {"priority", b->swap->priority()}, {"dir", p.swap_dir},
                            {"slots", b->swap->bytes() / kPageSize - 1}, {"exact_size", p.swap_exact}};
    for (const SwapBackend* be : backends())
      if (p.has(be->info.id)) be->context(*b, sbctx);
    sbctx["memcg"] = b->memcg ? json{{"version", b->memcg->info().name()}, {"dir", b->memcg->dir()}}
                              : json{{"version", "none"}, {"reason", b->memcg_reason}};
    sbctx["debugfs_mounted_by_suite"] = b->debugfs && b->debugfs->mounted_by_us();
  }
  sbctx["set_noise"] = set_noise(scs, runner.records);
  {
    std::vector<const json*> blocks;
    for (const auto& r : runner.records) blocks.push_back(&r.sb);
    if (json tags = mte_tag_memory(blocks); !tags.is_null()) sbctx["mte_tag_memory"] = tags;
  }
  const json doc =
      result_document(rep.context, sbctx, benchmark_entries(scs, runner.records, rep, p.repetitions, topo.cpu_model));
  b.reset();  // give the machine back before anything else can fail
  int status = runner.hard_failure ? 1 : 0;
  if (write_result(p, facts, doc) != 0) status = 1;
  std::cerr << "swapbench: " << std::fixed << std::setprecision(0) << wall << " s of sets\n";
  print_summary(scs, runner.records, x.skipped);
  if (runner.hard_failure) std::cerr << "swapbench: HARD FAILURE: pages came back wrong (see above and the result)\n";
  return check_stdout(status);
}

int list_command(const RunOptions& o) {
  const MachineFacts facts = read_machine_facts();
  for (const auto& s : suites()) std::printf("suite %-13s %s\n", s.name.c_str(), s.description.c_str());
  Plan p;
  try {
    p = make_plan(o, facts, true);
  } catch (const BadInput& e) {
    std::cerr << "swapbench list: " << e.what() << "\n";
    return 2;
  }
  if (p.suite->model) return check_stdout(0);
  std::printf("\nsets of suite '%s' (compressors: every one the kernel accepts, found when the run starts):\n",
              p.suite->name.c_str());
  try {
    for (const auto& sc : expand(p, Capabilities::for_listing(facts.root)).sets) std::printf("  %s\n", sc.name().c_str());
  } catch (const BadInput& e) {
    std::cerr << "swapbench list: " << e.what() << "\n";
    return 2;
  }
  return check_stdout(0);
}

}  // namespace swapbench
