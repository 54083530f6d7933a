#include "bench/result_doc.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <iostream>

#include "bench/plan.h"
#include "bench/results.h"
#include "bench/version.h"

namespace swapbench {

using nlohmann::json;

bool CaptureReporter::ReportContext(const Context& c) {
  const auto& ci = c.cpu_info;
  json caches = json::array();
  for (const auto& cc : ci.caches)
    caches.push_back({{"type", cc.type}, {"level", cc.level}, {"size", cc.size}, {"num_sharing", cc.num_sharing}});
  context = {{"num_cpus", ci.num_cpus}, {"mhz_per_cpu", static_cast<int>(ci.cycles_per_second / 1e6)},
             {"cpu_scaling_enabled", ci.scaling == benchmark::CPUInfo::ENABLED}, {"caches", caches},
             {"load_avg", ci.load_avg}, {"host_name", c.sys_info.name}};
  return true;
}

void CaptureReporter::ReportRuns(const std::vector<Run>& report) {
  for (const auto& r : report) runs.push_back(r);
}

void run_registered(CaptureReporter& rep, bool interleave) {
  std::vector<std::string> args = {"swapbench"};
  if (interleave) args.push_back("--benchmark_enable_random_interleaving=true");
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  int argc = static_cast<int>(argv.size());
  benchmark::Initialize(&argc, argv.data());
  benchmark::RunSpecifiedBenchmarks(&rep);
}

json result_document(const json& gbench_context, const json& sb_context, const json& benchmarks) {
  json ctx = gbench_context.is_object() ? gbench_context : json::object();
  ctx["date"] = utc_stamp("%Y-%m-%dT%H:%M:%SZ");
  ctx["executable"] = "swapbench";
  ctx["library_build_type"] = "release";
  ctx["json_schema_version"] = kGbenchSchemaVersion;
  if (!ctx.contains("host_name")) {
    char h[256] = {0};
    gethostname(h, sizeof h - 1);
    ctx["host_name"] = h;
  }
  json sb = sb_context;
  sb["schema_version"] = kSchemaVersion;
  // Which build measured it: a figure that moved between two runs is traced to its code.
  sb["version"] = version();
  sb["commit"] = commit();
  sb["kernel"] = kernel_json();
  sb["accelerator"] = detect_accelerator();
  ctx["swapbench"] = sb;
  return {{"context", ctx}, {"benchmarks", benchmarks}};
}

json aggregate_entry(const benchmark::BenchmarkReporter::Run& g, const std::string& name, int family, int reps,
                     const std::string& note) {
  const bool pct = g.aggregate_unit == benchmark::kPercentage;
  return {{"name", name + "_" + g.aggregate_name}, {"family_index", family}, {"per_family_instance_index", 0},
          {"run_name", name}, {"run_type", "aggregate"}, {"repetitions", reps}, {"threads", g.threads},
          {"aggregate_name", g.aggregate_name}, {"aggregate_unit", pct ? "percentage" : "time"},
          {"iterations", g.iterations},
          // A percentage aggregate (cv) is a plain ratio: not scaled like a time.
          {"real_time", pct ? g.real_accumulated_time : g.GetAdjustedRealTime()},
          {"cpu_time", pct ? g.cpu_accumulated_time : g.GetAdjustedCPUTime()}, {"time_unit", "ns"},
          {"swapbench", {{"note", note}}}};
}

int write_result(const Plan& p, const MachineFacts& m, const json& doc) {
  // The default folder is the one thing created without being named: it is where results go.
  if (p.out.rfind(m.results_dir + "/", 0) == 0) mkdir(m.results_dir.c_str(), 0755);
  try {
    if (p.out_held) p.out_held->write_and_close(p.out, doc.dump(2) + "\n");
    else write_json_file(p.out, doc);
    std::cerr << "swapbench: wrote " << p.out << "\n";
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "swapbench run: " << e.what() << "\n";
  }
  // Nothing is lost: what was measured goes to the default place under its default name.
  const std::string rescue = m.results_dir + "/" + m.host + "-" + m.release + "-unsaved-" + m.utc + ".json";
  if (rescue != p.out) {
    try {
      mkdir(m.results_dir.c_str(), 0755);
      write_json_file(rescue, doc);
      std::cerr << "swapbench: the result is saved as " << rescue << " instead\n";
    } catch (const std::exception& e) {
      std::cerr << "swapbench run: the result is lost: " << e.what() << "\n";
    }
  }
  return 1;
}

// A closed stdout (`| head`) is an error to report, not a reason to die with the machine borrowed:
// SIGPIPE is ignored (bench/main.cpp) and the failed write is seen here.
int check_stdout(int status) {
  if (std::fflush(stdout) == 0 && !std::ferror(stdout)) return status;
  std::cerr << "swapbench: the summary could not be written to standard output (" << std::strerror(errno)
            << "); the result file holds everything\n";
  return status ? status : 1;
}

}  // namespace swapbench
