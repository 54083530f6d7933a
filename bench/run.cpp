// `swapbench run` and `swapbench list`: options -> plan -> borrow -> sets -> Google Benchmark ->
// one result document -> the machine given back -> the summary.
#include "bench/run.h"

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <iomanip>
#include <iostream>
#include <optional>

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
#include "workloads/cpu/pinning.h"
#include "workloads/measure/pmu.h"
#include "workloads/proof/reclaimers.h"

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
                {"repetition_index", r.repetition}, {"threads", r.sc.threads}, {"iterations", r.lat.count},
                {"real_time", r.lat.mean}, {"cpu_time", r.lat.mean}, {"time_unit", "ns"}};
      // A threaded set's one Google Benchmark iteration ran in the main thread, which only waited.
      for (const auto* g : gruns)
        if (g->run_type == benchmark::BenchmarkReporter::Run::RT_Iteration && g->repetition_index == r.repetition &&
            g->iterations > 0 && r.sc.threads == 1)
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

// What the timer and the counters are worth here, measured once before the sets.
struct Instruments {
  TimerOverhead timer, harness;
  std::vector<std::string> events;
  json events_unavailable;
};

// An exit status when the run stops before it measures anything; nothing when it goes on.
using Stop = std::optional<int>;

Stop bad_input(const std::exception& e, const char* after = "") {
  std::cerr << "swapbench run: " << e.what() << after << "\n";
  return 2;
}

Stop plan_run(const RunOptions& o, const MachineFacts& facts, Plan& p) {
  try {
    p = make_plan(o, facts);
  } catch (const BadInput& e) {
    return bad_input(e);
  }
  return std::nullopt;
}

// Nothing to ask the kernel: the sets are known now, and a --filter that leaves none is bad input
// before anything runs.
Stop expand_unprivileged(const Plan& p, Expansion& x) {
  try {
    x = expand(p, Capabilities{});
  } catch (const BadInput& e) {
    return bad_input(e);
  }
  std::cerr << "swapbench: not root: only benchmarks that change nothing run (as root: ./swapbench run, for all)\n";
  return std::nullopt;
}

Stop prepare_instruments(const Plan& p, Instruments& in) {
  try {
    init_sample_timer();  // after pinning: calibrated on the CPU the loop runs on
  } catch (const std::invalid_argument& e) {
    return bad_input(e);
  }
  in.timer = measure_timer_overhead();
  in.harness = harness_overhead();
  in.events = usable_events(p.events, in.events_unavailable);
  return std::nullopt;
}

// The sets a root run can make depend on what borrowing found (compressors, zram), so they are
// expanded only then.
Stop borrow_and_expand(const Plan& p, std::unique_ptr<Borrowed>& b, Expansion& x) {
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
    return bad_input(e, "\n(nothing was measured; zswap and zram were asked and given back)");
  }
  return std::nullopt;
}

// Registers every set with Google Benchmark and runs them; the wall time they took.
double run_sets(const Plan& p, const std::vector<Scenario>& scs, Runner& runner, int cpu, CaptureReporter& rep) {
  runner.total_runs = static_cast<int>(scs.size()) * p.repetitions;
  std::cerr << "swapbench: " << scs.size() << " sets x " << p.repetitions << " repetitions, " << p.pages
            << " pages each, " << (p.fixed_order ? "in a fixed order" : "interleaved") << "; CPU " << cpu
            << (p.threads > 1 ? " and down (" + std::to_string(p.threads) + " threads, pages split)" : "") << "\n";
  for (const auto& sc : scs) {
    benchmark::RegisterBenchmark(sc.name().c_str(), [&runner, sc](benchmark::State& st) { runner.run_set(st, sc); })
        // A threaded set's threads share one iteration: Google Benchmark's loop runs on one thread.
        ->Iterations(static_cast<benchmark::IterationCount>(sc.threads > 1 ? 1 : find_kind(sc.kind).iterations(sc)))
        ->Repetitions(p.repetitions)
        ->UseManualTime()
        ->Unit(benchmark::kNanosecond);
  }
  auto t0 = std::chrono::steady_clock::now();
  if (!scs.empty()) run_registered(rep, !p.fixed_order);
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

json run_context(const Plan& p, const Expansion& x, const Topology& topo, const Binding& bind, const Instruments& in,
                 double wall) {
  json skipped = json::array();
  for (const auto& s : x.skipped) skipped.push_back({{"benchmark", s.benchmark}, {"reason", s.reason}, {"fix", s.fix}});
  json timer = to_json(in.timer);
  timer["sample_timer"] = to_json(sample_timer());
  return {{"suite", p.suite->name}, {"repetitions", p.repetitions}, {"pages", p.pages},
          {"command_line", p.command_line}, {"root", p.root}, {"cpu_model", topo.cpu_model},
          {"topology", topo.to_json()}, {"binding", bind.to_json()}, {"timer", timer},
          {"harness_overhead", to_json(in.harness)}, {"events_available", in.events},
          {"events_unavailable", in.events_unavailable}, {"inject", inject_check(x.sets, p.inject_ns)},
          {"page_cluster_during_timing", p.root ? json(0) : json(nullptr)}, {"skipped", skipped},
          {"set_order", p.fixed_order ? "fixed (declared order, repetitions back to back)" : "random interleaving"},
          {"wall_seconds", wall}, {"other_reclaimers", to_json(find_reclaimers("/"))}};
}

// What the run borrowed: zswap as found, the swap area, each backend's own block, the cgroup.
void borrowed_context(const Plan& p, const Borrowed& b, json& sbctx) {
  if (b.zswap) {
    sbctx["zswap_params_found"] = b.zswap->found();
    sbctx["compressors"] = {{"accepted", b.compressors.accepted}, {"refused", b.compressors.refused}};
  }
  if (b.swap)
    sbctx["swap_area"] = {{"type", b.swap->type() == SwapAreaGuard::Type::Device ? "device" : "file"},
                          {"path", b.swap->path()}, {"size_bytes", b.swap->bytes()},
                          {"priority", b.swap->priority()}, {"dir", p.swap_dir},
                          {"slots", b.swap->bytes() / kPageSize - 1}, {"exact_size", p.swap_exact}};
  for (const SwapBackend* be : backends())
    if (p.has(be->info.id)) be->context(b, sbctx);
  sbctx["memcg"] = b.memcg ? json{{"version", b.memcg->info().name()}, {"dir", b.memcg->dir()}}
                           : json{{"version", "none"}, {"reason", b.memcg_reason}};
  sbctx["debugfs_mounted_by_suite"] = b.debugfs && b.debugfs->mounted_by_us();
}

// Figures over all sets: the noise of each, and MTE's saved-tag memory where sets recorded it.
void sets_context(const std::vector<Scenario>& scs, const std::vector<SetRecord>& records, json& sbctx) {
  sbctx["set_noise"] = set_noise(scs, records);
  std::vector<const json*> blocks;
  for (const auto& r : records) blocks.push_back(&r.sb);
  if (json tags = mte_tag_memory(blocks); !tags.is_null()) sbctx["mte_tag_memory"] = tags;
}

}  // namespace

int run_command(const RunOptions& o) {
  const MachineFacts facts = read_machine_facts();
  Plan p;
  if (Stop s = plan_run(o, facts, p)) return *s;
  if (p.suite->model) return recheck_model_command(p, facts);
  Expansion x;
  if (!p.root)
    if (Stop s = expand_unprivileged(p, x)) return *s;

  Binding bind = pin_current_thread(p.cpu ? *p.cpu : -1);
  Instruments in;
  if (Stop s = prepare_instruments(p, in)) return *s;
  std::unique_ptr<Borrowed> b;
  if (p.root)
    if (Stop s = borrow_and_expand(p, b, x)) return *s;
  const std::vector<Scenario>& scs = x.sets;

  Runner runner(p, b.get(), in.events);
  CaptureReporter rep;
  const double wall = run_sets(p, scs, runner, bind.cpu, rep);

  const Topology topo = read_topology();
  json sbctx = run_context(p, x, topo, bind, in, wall);
  if (b) borrowed_context(p, *b, sbctx);
  sets_context(scs, runner.records, sbctx);
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
  const std::string compressors = p.compressors.empty() ? "every one the kernel accepts, found when the run starts"
                                                        : comma_list(p.compressors) + ", where the kernel accepts them";
  std::printf("\nsets of suite '%s' (compressors: %s):\n", p.suite->name.c_str(), compressors.c_str());
  try {
    for (const auto& sc : expand(p, Capabilities::for_listing(facts.root)).sets) std::printf("  %s\n", sc.name().c_str());
  } catch (const BadInput& e) {
    std::cerr << "swapbench list: " << e.what() << "\n";
    return 2;
  }
  return check_stdout(0);
}

}  // namespace swapbench
