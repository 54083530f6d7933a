#include "bench/plan.h"

#include <fcntl.h>
#include <linux/magic.h>
#include <sched.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <fstream>
#include <regex>

#include "bench/backend.h"
#include "bench/kind.h"
#include "bench/plan_parse.h"
#include "bench/threads.h"
#include "workloads/measure/pmu.h"
#include "workloads/system/session.h"
#include "workloads/system/state_dir.h"
#include "workloads/system/swap_area.h"
#include "workloads/system/zswap.h"

namespace swapbench {

namespace {
// A run may use at most this share of MemAvailable: the region, plus at worst as much again in
// zswap's pool or the swap cache, must leave the rest of the machine room to work.
constexpr double kSafeMemShare = 0.5;
// Room in the swap area beyond the region, for whatever else swaps meanwhile.
constexpr uint64_t kSwapHeadroom = 64ull << 20;

bool on_kernel_fs(const std::string& path) {
  struct statfs f {};
  if (statfs(path.c_str(), &f) != 0) return false;
  return f.f_type == PROC_SUPER_MAGIC || f.f_type == SYSFS_MAGIC || f.f_type == DEBUGFS_MAGIC ||
         f.f_type == TRACEFS_MAGIC || f.f_type == CGROUP_SUPER_MAGIC || f.f_type == CGROUP2_SUPER_MAGIC;
}

std::string parent_of(const std::string& path) {
  auto slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

std::optional<std::string> folder_problem(const std::string& dir, const std::string& what) {
  struct stat st {};
  if (stat(dir.c_str(), &st) != 0) return what + " " + dir + " does not exist (create it first)";
  if (!S_ISDIR(st.st_mode)) return what + " " + dir + " is not a folder";
  if (on_kernel_fs(dir)) return what + " " + dir + " is a kernel interface (/proc, /sys, ...), not a place for files";
  if (access(dir.c_str(), W_OK) != 0) return what + " " + dir + " is not writable: " + std::strerror(errno);
  return std::nullopt;
}

// As an ordinary user only the first-touch floor runs (it borrows nothing). A suite with no such
// set, or an option that shapes only the other sets, would otherwise run what was not asked (or
// nothing) and exit 0; the user learns it needs root only by reading the skips.
void refuse_what_needs_root(const RunOptions& o, const Plan& p) {
  const std::string why = " needs root (swap areas, zswap parameters, zram devices, cgroups): run it as root";
  const std::string floor_only = "; as an ordinary user only the first-touch floor runs (./swapbench run)";
  const std::vector<std::pair<std::string, std::string>> root_only = {
      {"--backend", comma_list(o.backends)},     {"--compressor", comma_list(o.compressors)}, {"--profile", comma_list(o.profiles)},
      {"--pattern", comma_list(o.patterns)},     {"--swap-dir", o.swap_dir},            {"--swap-device", o.swap_device},
      {"--race-mechanism", o.race_mechanism}, {"--fault", o.fault}, {"--threads", threads_asked(o) > 1 ? o.threads : ""}};
  for (const auto& [opt, value] : root_only)
    if (!value.empty()) throw BadInput(opt + " " + value + why + floor_only);
  const bool any_unprivileged = std::any_of(p.suite->kinds.begin(), p.suite->kinds.end(), [](const std::string& k) {
    const SetKind* kind = kind_or_null(k);
    return kind && !kind->info.privileged;
  });
  if (!any_unprivileged)
    throw BadInput("suite " + p.suite->name + ": every set" + why + " (no set of it runs as an ordinary user)");
  if (!p.floors) throw BadInput("--no-floors: every other set" + why + floor_only);
}

}  // namespace

std::optional<std::string> output_path_problem(const std::string& path, std::shared_ptr<HeldOutput>* hold) {
  if (path.empty()) return "an empty path";
  if (auto why = foreign_symlink_problem(path)) return why;
  struct stat st {};
  if (stat(path.c_str(), &st) == 0) {  // follows a symlink: its target is what gets written
    if (S_ISDIR(st.st_mode)) return path + " is a folder; name a file in it, e.g. " + path + "/result.json";
    if (on_kernel_fs(path)) return path + " is a kernel interface (/proc, /sys, ...), not a place for results";
    if (S_ISSOCK(st.st_mode)) return path + " is a socket; accepted: a file, a device or a FIFO";
    if (access(path.c_str(), W_OK) != 0) return path + " is not writable: " + std::strerror(errno);
    if (S_ISFIFO(st.st_mode)) {
      // A plain open would wait for a reader, for ever and silently; O_NONBLOCK says ENXIO instead.
      // The end is kept open until the result is written: closing it would hand a waiting reader
      // its end of file, and it would be gone by then.
      int fd = -1;
      // A reader started just before (`cat FIFO > r.json & swapbench run --out FIFO`) may not have
      // opened its end yet: it gets two seconds.
      for (int tries = 0; tries < 40; ++tries) {
        fd = ::open(path.c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
        if (fd >= 0 || errno != ENXIO) break;
        usleep(50000);
      }
      if (fd < 0 && errno == ENXIO)
        return path + " is a FIFO with no reader; start its reader first (e.g. cat " + path +
               " > result.json &), or give a file";
      if (fd < 0) return path + ": cannot open it for writing: " + std::strerror(errno);
      if (hold) *hold = std::make_shared<HeldOutput>(fd);
      else ::close(fd);
    }
    // A regular file is replaced atomically through a temporary file beside it; a device or FIFO is
    // written through and needs nothing more.
    if (S_ISREG(st.st_mode)) {
      char real[PATH_MAX];
      if (realpath(path.c_str(), real)) return folder_problem(parent_of(real), "the result's folder");
    }
    return std::nullopt;
  }
  const int err = errno;
  if (lstat(path.c_str(), &st) == 0 && S_ISLNK(st.st_mode)) {
    char target[PATH_MAX];
    const ssize_t n = readlink(path.c_str(), target, sizeof target - 1);
    return path + " is a symlink to nothing" + (n > 0 ? " (" + std::string(target, static_cast<size_t>(n)) + ")" : "") +
           "; remove it or name its target";
  }
  if (err != ENOENT) return path + ": " + std::strerror(err);
  return folder_problem(parent_of(path), "the result's folder");
}

uint64_t swap_bytes_for(size_t pages) { return static_cast<uint64_t>(pages) * kPageSize + kSwapHeadroom; }

MachineFacts read_machine_facts() {
  MachineFacts m;
  m.root = geteuid() == 0;
  std::ifstream f("/proc/meminfo");
  std::string k, unit;
  uint64_t v;
  while (f >> k >> v >> unit)
    if (k == "MemAvailable:") m.mem_available = v * 1024;
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) == 0)
    for (int c = 0; c < CPU_SETSIZE; ++c)
      if (CPU_ISSET(c, &set)) m.cpus.push_back(c);
  m.results_dir = default_results_dir();
  utsname u;
  uname(&u);
  char h[256] = {0};
  gethostname(h, sizeof h - 1);
  m.host = h;
  m.release = u.release;
  m.utc = utc_stamp("%Y%m%dT%H%M%SZ");
  return m;
}

bool Plan::has(Backend b) const { return std::count(backends.begin(), backends.end(), b) > 0; }
bool Plan::needs_swap_file() const {
  return std::any_of(backends.begin(), backends.end(), [](Backend b) { return backend_of(b).info.swap_file; });
}

namespace {

// Options a suite would silently ignore are refused: a user who asks for --pages on the model
// would otherwise believe the figures depend on it. An option a kind declares applies only to a
// suite holding that kind.
void refuse_options_the_suite_ignores(const RunOptions& o, const SuiteDef& s) {
  std::vector<std::pair<std::string, bool>> given = {
      {"--backend", !o.backends.empty()}, {"--compressor", !o.compressors.empty()}, {"--profile", !o.profiles.empty()},
      {"--pattern", !o.patterns.empty()}, {"--pages", !o.pages.empty()},       {"--fault", !o.fault.empty()},
      {"--inject-ns", !o.inject_ns.empty()}, {"--duration", !o.duration_s.empty()}, {"--swap-dir", !o.swap_dir.empty()},
      {"--swap-device", !o.swap_device.empty()}, {"--swap-device-wipe", o.swap_device_wipe}, {"--thp", o.thp}, {"--filter", !o.filter.empty()},            {"--no-floors", o.no_floors},
      {"--events", o.events_given}, {"--race-mechanism", !o.race_mechanism.empty()}, {"--threads", threads_asked(o) > 1},
      {"--workers", !o.workers.empty()}, {"--worker-bytes", !o.worker_bytes.empty()}, {"--loops", !o.loops.empty()}};
  for (const auto& [opt, yes] : given) {
    if (!yes) continue;
    if (s.model)
      throw BadInput(opt + " does not apply to suite " + s.name +
                     " (a user-space model that borrows nothing; it takes --cpu, --repetitions and --out)");
    std::string refusal;
    bool taken = false;
    for (const SetKind* k : kinds())
      for (const auto& [flag, why] : k->info.options)
        if (flag == opt) {
          taken = taken || s.has(k->info.name);
          if (refusal.empty()) refusal = why;
        }
    if (!refusal.empty() && !taken) {
      const auto at = refusal.find("{suite}");
      if (at != std::string::npos) refusal.replace(at, 7, s.name);
      throw BadInput(opt + " " + refusal);
    }
    if (opt == "--fault" && std::any_of(s.arms.begin(), s.arms.end(), [](const CalibrationArm& a) { return a.write_fault; }))
      throw BadInput("--fault: suite " + s.name + " times read and write faults as arms of one loop; it takes no --fault");
  }
}

bool suite_swaps_to(const SuiteDef& s, Backend b) {
  for (const auto& name : s.kinds)
    if (const SetKind* k = kind_or_null(name))
      if (std::count(k->info.backends.begin(), k->info.backends.end(), b)) return true;
  return false;
}

// A --backend the suite has no sets for would give an empty run: refused, naming the suites that
// have such sets.
void refuse_backend_unused(const SuiteDef& s, Backend b) {
  if (suite_swaps_to(s, b)) return;
  std::string ok, where;
  for (const auto& t : suites())
    if (suite_swaps_to(t, b)) ok += (ok.empty() ? "" : ", ") + t.name;
  for (const SwapBackend* be : backends())
    if (suite_swaps_to(s, be->info.id)) where += (where.empty() ? "" : " and ") + be->name();
  throw BadInput("--backend " + to_string(b) + ": suite " + s.name + " has no sets that swap to " + to_string(b) +
                 " (its sets swap " + (where.empty() ? std::string("nowhere") : "to " + where) + "); accepted with --suite " +
                 (ok.empty() ? std::string("none") : ok));
}

std::string swap_file_backends() {
  std::string out;
  for (const SwapBackend* be : backends())
    if (be->info.swap_file) out += (out.empty() ? "" : ", ") + be->name();
  return out;
}

std::optional<int> parse_cpu(const RunOptions& o, const MachineFacts& m) {
  if (o.cpu.empty()) return std::nullopt;
  std::string ok;
  for (int c : m.cpus) ok += (ok.empty() ? "" : ",") + std::to_string(c);
  char* end = nullptr;
  errno = 0;
  const long long cpu = std::strtoll(o.cpu.c_str(), &end, 10);
  if (*end != '\0' || errno || !std::count(m.cpus.begin(), m.cpus.end(), cpu))
    throw BadInput("--cpu " + o.cpu + ": no such CPU (or not one this process may use); accepted: " + ok);
  return static_cast<int>(cpu);
}

void resolve_out(const RunOptions& o, const MachineFacts& m, bool for_list, Plan& p) {
  const SuiteDef& s = *p.suite;
  // The model's results are not timings of the kernel: their name says so.
  p.out = o.out.empty() ? m.results_dir + "/" + m.host + "-" + m.release + (s.model ? "-" + s.name : "") + "-" + m.utc + ".json"
                        : o.out;
  // The default folder is created at the end of the run when missing; only its parent must exist.
  struct stat st {};
  const bool default_dir_missing = o.out.empty() && stat(m.results_dir.c_str(), &st) != 0;
  if (for_list) return;
  auto why = default_dir_missing ? folder_problem(parent_of(m.results_dir), "the results folder's parent")
                                 : output_path_problem(p.out, &p.out_held);
  if (why)
    throw BadInput((o.out.empty() ? "result path " : "--out ") + p.out + ": " + *why +
                   (o.out.empty() ? " (give --out FILE)" : ""));
}

// What is run: the mechanism, the filter, backends, compressors, profiles and patterns.
void parse_selection(const RunOptions& o, Plan& p) {
  const SuiteDef& s = *p.suite;
  if (!o.race_mechanism.empty()) {
    for (auto m : {WritebackMech::MemcgZswapMax, WritebackMech::ShrinkerReclaim, WritebackMech::PoolLimit})
      if (to_string(m) == o.race_mechanism) p.race_mechanism = m;
    if (!p.race_mechanism)
      throw BadInput("--race-mechanism '" + o.race_mechanism + "': accepted: memcg_zswap_max, shrinker_reclaim, pool_limit");
  }
  if (!o.filter.empty()) {
    try {
      std::regex check(o.filter);
    } catch (const std::regex_error& e) {
      throw BadInput("--filter '" + o.filter + "': not a regular expression (" + e.what() + ")");
    }
    p.filter = o.filter;
  }
  for (const auto& b : o.backends.empty() ? s.backends : o.backends) {
    const SwapBackend* be = backend_or_null(b);
    if (!be) throw BadInput("--backend '" + b + "': accepted: " + backend_names());
    p.backends.push_back(be->info.id);
  }
  for (Backend b : p.backends) refuse_backend_unused(s, b);
  if (!p.needs_swap_file() && (!o.swap_dir.empty() || !o.swap_device.empty())) {
    std::string asked;
    for (Backend b : p.backends) asked += (asked.empty() ? "" : ",") + to_string(b);
    throw BadInput(std::string(o.swap_dir.empty() ? "--swap-device" : "--swap-dir") + " does not apply to --backend " +
                   asked + ": none of its sets swap to the run's swap file (accepted with a backend that does: " +
                   swap_file_backends() + ")");
  }
  // zswap and zram know the same compressor names (the kernel's crypto and zcomp backends).
  for (const auto& c : o.compressors.empty() ? s.compressors : o.compressors) {
    if (!std::count(kKnownCompressors.begin(), kKnownCompressors.end(), c))
      throw BadInput("--compressor '" + c + "': not a zswap or zram compressor; accepted names: " +
                     comma_list(kKnownCompressors) + " (which of them this kernel takes: ./swapbench check)");
    if (!std::count(p.compressors.begin(), p.compressors.end(), c)) p.compressors.push_back(c);
  }
  try {
    for (const auto& n : o.profiles.empty() ? s.profiles : o.profiles) {
      ProfileSpec spec = parse_profile(n);
      PageProfile check(spec);  // a file: profile is read here, so a missing file is bad input now
      p.profiles.push_back(spec);
    }
    for (const auto& n : o.patterns.empty() ? s.patterns : o.patterns) p.patterns.push_back(parse_pattern(n));
  } catch (const std::invalid_argument& e) {
    throw BadInput(e.what());
  }
}

// How the sets run: faults, floors, THP, order, counters, injected delay, the race's duration.
void parse_shaping(const RunOptions& o, Plan& p) {
  if (!o.fault.empty() && o.fault != "read" && o.fault != "write")
    throw BadInput("--fault '" + o.fault + "': accepted: read, write");
  p.write_faults = o.fault == "write";
  p.floors = !o.no_floors;
  p.thp = o.thp;
  p.fixed_order = o.fixed_order;
  for (const auto& e : o.events) {
    auto st2 = resolve_event(e);
    if (!st2.ok) throw BadInput("--events: " + st2.reason);
  }
  p.events = o.events;
  if (!o.inject_ns.empty()) p.inject_ns = static_cast<uint64_t>(parse_whole("--inject-ns", o.inject_ns, 0, 1000000000));
  if (!o.duration_s.empty()) p.duration_s = parse_seconds("--duration", o.duration_s, 0.1, 86400);
}

// The region's pages against the memory there is, and the swap area they need.
void size_the_run(const RunOptions& o, const MachineFacts& m, Plan& p) {
  const SuiteDef& s = *p.suite;
  if (s.workload) parse_workload(o, p);
  else p.pages = o.pages.empty() ? s.pages : static_cast<size_t>(parse_whole("--pages", o.pages, 1, UINT32_MAX));
  const uint64_t want = 2ull * p.pages * kPageSize;
  if (static_cast<double>(want) > kSafeMemShare * static_cast<double>(m.mem_available)) {
    uint64_t max_pages = static_cast<uint64_t>(kSafeMemShare * static_cast<double>(m.mem_available)) / (2 * kPageSize);
    throw BadInput("--pages " + std::to_string(p.pages) + " wants " + std::to_string(want >> 20) +
                   " MiB (the region and as much again for zswap's pool or the swap cache); MemAvailable is " +
                   std::to_string(m.mem_available >> 20) + " MiB and a run uses at most half of it: --pages " +
                   std::to_string(max_pages) + " at most");
  }
  p.swap_exact = s.swap_slack_pages > 0;
  // + 1: mkswap's header page holds no slot.
  p.swap_bytes = p.swap_exact ? (p.pages + s.swap_slack_pages + 1) * kPageSize : swap_bytes_for(p.pages);
}

void check_swap_place(const RunOptions& o, const MachineFacts& m, bool for_list, Plan& p) {
  if (!o.swap_dir.empty() && !o.swap_device.empty())
    throw BadInput("--swap-dir and --swap-device: give one (a swap file in a folder, or a whole block device)");
  if (o.swap_device_wipe && o.swap_device.empty())
    throw BadInput("--swap-device-wipe goes with --swap-device DEVICE (it destroys what is on that device)");
  p.swap_dir = o.swap_dir.empty() ? kDefaultSwapDir : o.swap_dir;
  p.swap_device = o.swap_device;
  p.swap_device_wipe = o.swap_device_wipe;
  // Only a root run makes a swap area; checked read-only here so a bad place is exit 2 before any change.
  if (!m.root || for_list || !p.needs_swap_file()) return;
  // The default swap folder lies inside the state folder: when that is unsafe, its own refusal
  // (with its fix) is the one to give, not the swap folder's, which names an option never given.
  if (p.swap_device.empty() && o.swap_dir.empty()) {
    const StateDirReport sd = inspect_state_dir(kMachineStateDir);
    if (sd.exists && !sd.safe)
      throw SystemError(sd.path + " " + sd.problem + "; a root run keeps its lock, journal and swap file there and "
                        "will not use it (fix: " + sd.fix + ")");
  }
  if (!p.swap_device.empty()) {
    if (auto why = swap_device_problem(p.swap_device, p.swap_bytes, p.swap_device_wipe))
      throw BadInput("--swap-device " + *why);
  } else if (auto why = swap_dir_problem(p.swap_dir, p.swap_bytes)) {
    throw BadInput("--swap-dir " + *why);
  }
}

}  // namespace

Plan make_plan(const RunOptions& o, const MachineFacts& m, bool for_list) {
  Plan p;
  try {
    p.suite = &find_suite(o.suite);
  } catch (const std::invalid_argument& e) {
    throw BadInput(e.what());
  }
  const SuiteDef& s = *p.suite;
  p.root = m.root;
  p.command_line = o.command_line;
  p.test_corrupt_page = o.test_corrupt_page;
  p.test_stale_page = o.test_stale_page;
  refuse_options_the_suite_ignores(o, s);
  p.cpu = parse_cpu(o, m);
  p.repetitions = o.repetitions.empty() ? s.repetitions : static_cast<int>(parse_whole("--repetitions", o.repetitions, 1, 100000));
  resolve_out(o, m, for_list, p);
  if (s.model) return p;
  parse_selection(o, p);
  parse_shaping(o, p);
  size_the_run(o, m, p);
  p.threads = parse_threads(o, s, p.pages);
  check_swap_place(o, m, for_list, p);
  if (!m.root && !for_list) refuse_what_needs_root(o, p);
  return p;
}

}  // namespace swapbench
