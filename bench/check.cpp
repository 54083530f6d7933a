#include "bench/check.h"

#include <grp.h>
#include <pwd.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <string>

#include "bench/backends/zram.h"
#include "bench/plan.h"
#include "bench/results.h"
#include "workloads/arch/arm64/mte.h"
#include "workloads/proof/reclaimers.h"
#include "workloads/measure/pmu.h"
#include "workloads/system/memcg.h"
#include "workloads/system/session.h"
#include "workloads/system/state_dir.h"
#include "workloads/system/swap_area.h"
#include "workloads/system/zswap.h"

namespace swapbench {

namespace {

struct Probe {
  bool ok;
  std::string detail;  // what was found, or why not and the fix
};

void row(const char* what, const Probe& p) {
  std::printf("  %-34s %-4s %s\n", what, p.ok ? "ok" : "NO", p.detail.c_str());
}

std::string owner_of(uid_t uid, gid_t gid) {
  const passwd* p = getpwuid(uid);
  std::string o = p ? p->pw_name : std::to_string(uid);
  const group* g = getgrgid(gid);
  return o + ":" + (g ? g->gr_name : std::to_string(gid));
}

// The suite's own protections on this host: where its state lives and whether a root run would
// use it; read-only (the first root run creates or tightens the folder, check does not).
Probe state_folder_probe() {
  const StateDirReport s = inspect_state_dir(kMachineStateDir);
  char mode[8];
  std::snprintf(mode, sizeof mode, "%04o", s.mode);
  Probe p{s.safe, s.path};
  if (!s.safe) {
    if (s.exists) p.detail += " " + owner_of(s.uid, s.gid) + " " + mode;
    p.detail += " " + s.problem + ": root runs and restore refuse it (fix: " + s.fix + ")";
    return p;
  }
  if (!s.exists) {
    p.detail += " does not exist yet: the first root run creates it root:root 0700";
    return p;
  }
  p.detail += " " + owner_of(s.uid, s.gid) + " " + mode + (s.mode == 0700 ? "" : " (made 0700 by the next root run)") +
              ": root's alone";
  if (geteuid() != 0) p.detail += " (its files are root's to see: run check as root to list them)";
  for (const auto& f : s.files) {
    p.detail += "; " + f;
    if (f.find("refused") != std::string::npos) p.ok = false;
  }
  return p;
}

void print_protections(const Probe& state) {
  std::printf("\nprotections (what a root run trusts):\n");
  row("state folder", state);
  row("state files", {true, "lock, journal, boot-values.json, retired.log: opened relative to the folder without "
                            "following links, created 0600, refused unless root's, not writable by others, one name"});
  std::string params;
  for (const auto& p : kGuardedZswapParams) params += (params.empty() ? "" : ",") + p;
  row("journal replay", {true, "only a journal that passed those checks, and only swapbench's own changes: zswap "
                               "parameters (" + params + "), vm.page-cluster, vm.swappiness, its swapbench-*.swap "
                               "files, its zram devices, its swapbench-N cgroups, debugfs on /sys/kernel/debug; any "
                               "other line is refused by number, never echoed"});
}

// The same check a run makes before borrowing anything, for the quick suite's swap file.
Probe swap_area_probe(SysOps& ops, const std::string& swap_dir) {
  const auto dir_problem = swap_dir_problem(swap_dir, swap_bytes_for(find_suite("quick").pages));
  // No mkswap needed: the suite writes its swap headers itself (workloads/system/swap_area.h).
  Probe p{!dir_problem && ops.exists("/proc/swaps"), ""};
  if (dir_problem) p.detail = *dir_problem;
  else p.detail = "a swap file is created under " + swap_dir + " for each run and removed after";
  return p;
}

Probe zswap_probe(SysOps& ops) {
  const bool zs = zswap_present(ops);
  std::string pdesc;
  for (const auto& [k, v] : read_zswap_params(ops)) pdesc += k + "=" + v + " ";
  return {zs, zs ? pdesc : "no /sys/module/zswap (fix: a kernel with CONFIG_ZSWAP=y)"};
}

Probe zswap_compressors_probe(SysOps& ops, bool zswap, bool root) {
  if (!zswap || !root)
    return {false, zswap ? "found by trying each name, which needs root (fix: run ./swapbench check as root)" : "no zswap"};
  Probe p{false, ""};
  try {
    Session s(ops);
    ZswapGuard z(s.journal(), ops);
    auto pr = z.probe_compressors(kKnownCompressors);
    p.ok = !pr.accepted.empty();
    p.detail = "accepted:";
    for (auto& c : pr.accepted) p.detail += " " + c;
    p.detail += "; refused:";
    for (auto& [c, why] : pr.refused) p.detail += " " + c;
    if (!pr.refused.empty()) p.detail += " (fix: modprobe NAME, or CONFIG_CRYPTO_NAME)";
  } catch (const std::exception& e) {
    p.detail = std::string("could not probe: ") + e.what();
  }
  return p;
}

// What a device offers is read from one the suite makes (and removes at once), never from a
// device it did not create, so only as root: the zram backend's own probe, as a run makes it.
Probe zram_probe(SysOps& ops, bool root) {
  if (const auto no = zram_problem(ops)) return {false, *no};
  if (!root)
    return {true, "zram-control present; the compressors it offers are read from a device the suite makes, which "
                  "needs root (fix: run ./swapbench check as root)"};
  try {
    Session s(ops);
    const ZramOffer z = offer_of_zram(s.journal(), ops);
    if (!z.reason.empty()) return {false, z.reason};
    Probe p{!z.offered.empty(), "a device per compressor is made for each run and removed after; offered:"};
    for (const auto& c : z.offered) p.detail += " " + c;
    return p;
  } catch (const std::exception& e) {
    return {false, std::string("could not make a zram device: ") + e.what()};
  }
}

// Events failing for the same reason are listed once with that reason (a VM without a PMU
// refuses every hardware event alike).
Probe pmu_probe(const std::vector<std::string>& events) {
  CounterGroup g(events);
  Probe p{g.any(), ""};
  std::vector<std::pair<std::string, std::string>> by_reason;  // reason -> names, in first-seen order
  for (const auto& s : g.statuses()) {
    std::string why = s.ok ? "ok" : s.reason;
    auto it = std::find_if(by_reason.begin(), by_reason.end(), [&](auto& p) { return p.first == why; });
    if (it == by_reason.end()) by_reason.push_back({why, s.name});
    else it->second += ", " + s.name;
  }
  for (const auto& [why, names] : by_reason) p.detail += names + ": " + why + "; ";
  return p;
}

Probe ftrace_probe(SysOps& ops) {
  bool tracefs = ops.exists("/sys/kernel/tracing/available_tracers") ||
                 ops.exists("/sys/kernel/debug/tracing/available_tracers");
  std::string tracers;
  if (tracefs) {
    std::ifstream f(ops.exists("/sys/kernel/tracing/available_tracers") ? "/sys/kernel/tracing/available_tracers"
                                                                          : "/sys/kernel/debug/tracing/available_tracers");
    std::getline(f, tracers);
  }
  bool fg = tracers.find("function_graph") != std::string::npos;
  return {fg, fg ? "available" : tracefs ? "tracers here: " + tracers + " (per-call kernel durations: ./swapbench matrix traces them in its guests)"
                                         : "tracefs not mounted (fix: mount -t tracefs nodev /sys/kernel/tracing)"};
}

Probe reclaimers_probe() {
  const auto others = find_reclaimers("/");
  return {others.empty(), others.empty() ? "none found (DAMON pageout schemes)"
                                         : reclaimers_hint(others) +
                                               ": a set whose counts it disturbs is marked invalid and "
                                               "says so (fix, if the scheme is yours: stop it during runs)"};
}

// What each benchmark needs, from the rows above: the first that is missing, or "can run".
struct Prerequisites {
  Probe root, state, swap, zswap, comp, zram, memcg, pmu;
};

void print_benchmarks(const Prerequisites& p) {
  auto need = [&](std::initializer_list<const Probe*> ps) {
    for (auto* q : ps)
      if (!q->ok) return *q;
    return Probe{true, "can run"};
  };
  std::printf("\nbenchmarks:\n");
  row("swapin/zswap, swapout/zswap", need({&p.root, &p.state, &p.swap, &p.zswap, &p.comp}));
  row("swapin/disk", need({&p.root, &p.state, &p.swap, &p.memcg}));
  row("swapout/disk, floor_swapcache", need({&p.root, &p.state, &p.swap}));
  row("swapin/zram, swapout/zram", need({&p.root, &p.state, &p.zram}));
  row("floor_firsttouch", {true, "can run (needs nothing)"});
  row("per-fault counters", p.pmu);
}

}  // namespace

int check_command(const std::vector<std::string>& events, const std::string& swap_dir) {
  SysOps ops;
  utsname u;
  uname(&u);
  std::printf("swapbench check: kernel %s (%s), accelerator %s\n\nprerequisites:\n", u.release, u.machine,
              detect_accelerator().c_str());
  Prerequisites p;
  const bool root = geteuid() == 0;
  p.root = {root, root ? "running as root" : "not root (fix: run it as root)"};
  row("root", p.root);
  // Looked at before anything below makes a session (which creates or tightens the folder).
  p.state = state_folder_probe();
  row("swap area", p.swap = swap_area_probe(ops, swap_dir));
  row("zswap", p.zswap = zswap_probe(ops));
  row("zswap compressors", p.comp = zswap_compressors_probe(ops, p.zswap.ok, root));
  row("zram", p.zram = zram_probe(ops, root));
  MemcgInfo mi = detect_memcg(ops);
  p.memcg = {mi.version != MemcgVersion::None, mi.version == MemcgVersion::None ? mi.reason : "cgroup " + mi.name() + " at " + mi.mount};
  row("memory cgroup", p.memcg);
  row("perf counters (libpfm4)", p.pmu = pmu_probe(events));
  row("ftrace function_graph", ftrace_probe(ops));
  std::string why;
  bool mte = mte_available(&why);
  row("arm64 MTE", {mte, mte ? "HWCAP2_MTE set" : why});
  row("no other reclaimer paging out", reclaimers_probe());
  print_protections(p.state);
  print_benchmarks(p);
  return 0;
}

}  // namespace swapbench
