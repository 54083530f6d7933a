#include "bench/check.h"

#include <grp.h>
#include <pwd.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <string>

#include "bench/plan.h"
#include "bench/results.h"
#include "workloads/arch/arm64/mte.h"
#include "workloads/reclaimers.h"
#include "workloads/pmu.h"
#include "workloads/system/memcg.h"
#include "workloads/system/session.h"
#include "workloads/system/state_dir.h"
#include "workloads/system/swap_area.h"
#include "workloads/system/zram.h"
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

}  // namespace

int check_command(const std::vector<std::string>& events, const std::string& swap_dir) {
  SysOps ops;
  utsname u;
  uname(&u);
  std::printf("swapbench check: kernel %s (%s), accelerator %s\n\nprerequisites:\n", u.release, u.machine,
              detect_accelerator().c_str());
  const bool root = geteuid() == 0;
  Probe p_root{root, root ? "running as root" : "not root (fix: run it as root)"};
  row("root", p_root);
  // Looked at before anything below makes a session (which creates or tightens the folder).
  const Probe p_state = state_folder_probe();

  // The same check a run makes before borrowing anything, for the quick suite's swap file.
  const auto dir_problem = swap_dir_problem(swap_dir, swap_bytes_for(find_suite("quick").pages));
  // No mkswap needed: the suite writes its swap headers itself (workloads/system/swap_area.h).
  Probe p_swap{!dir_problem && ops.exists("/proc/swaps"), ""};
  if (dir_problem) p_swap.detail = *dir_problem;
  else p_swap.detail = "a swap file is created under " + swap_dir + " for each run and removed after";
  row("swap area", p_swap);

  bool zs = zswap_present(ops);
  auto params = read_zswap_params(ops);
  std::string pdesc;
  for (const auto& [k, v] : params) pdesc += k + "=" + v + " ";
  Probe p_zswap{zs, zs ? pdesc : "no /sys/module/zswap (fix: a kernel with CONFIG_ZSWAP=y)"};
  row("zswap", p_zswap);

  Probe p_comp{false, ""};
  if (zs && root) {
    try {
      Session s(ops);
      ZswapGuard z(s.journal(), ops);
      auto pr = z.probe_compressors(kKnownCompressors);
      p_comp.ok = !pr.accepted.empty();
      p_comp.detail = "accepted:";
      for (auto& c : pr.accepted) p_comp.detail += " " + c;
      p_comp.detail += "; refused:";
      for (auto& [c, why] : pr.refused) p_comp.detail += " " + c;
      if (!pr.refused.empty()) p_comp.detail += " (fix: modprobe NAME, or CONFIG_CRYPTO_NAME)";
    } catch (const std::exception& e) {
      p_comp.detail = std::string("could not probe: ") + e.what();
    }
  } else {
    p_comp.detail = zs ? "found by trying each name, which needs root (fix: run ./swapbench check as root)" : "no zswap";
  }
  row("zswap compressors", p_comp);

  // zram: what a device offers is read from one the suite makes (and removes at once), never from
  // a device it did not create, so only as root.
  const auto zram_no = zram_problem(ops);
  Probe p_zram{!zram_no, ""};
  if (zram_no) p_zram.detail = *zram_no;
  else if (!root) p_zram.detail = "zram-control present; the compressors it offers are read from a device the suite makes, which needs root (fix: run ./swapbench check as root)";
  else {
    try {
      Session s(ops);
      ZramGuard z(s.journal(), ops);
      auto a = z.algorithms();
      p_zram.ok = !a.offered.empty();
      p_zram.detail = "a device per compressor is made for each run and removed after; offered:";
      for (const auto& c : a.offered) p_zram.detail += " " + c;
    } catch (const std::exception& e) {
      p_zram.ok = false;
      p_zram.detail = std::string("could not make a zram device: ") + e.what();
    }
  }
  row("zram", p_zram);

  MemcgInfo mi = detect_memcg(ops);
  Probe p_memcg{mi.version != MemcgVersion::None,
                mi.version == MemcgVersion::None ? mi.reason : "cgroup " + mi.name() + " at " + mi.mount};
  row("memory cgroup", p_memcg);

  CounterGroup g(events);
  Probe p_pmu{g.any(), ""};
  // Events failing for the same reason are listed once with that reason (a VM without a PMU
  // refuses every hardware event alike).
  std::vector<std::pair<std::string, std::string>> by_reason;  // reason -> names, in first-seen order
  for (const auto& s : g.statuses()) {
    std::string why = s.ok ? "ok" : s.reason;
    auto it = std::find_if(by_reason.begin(), by_reason.end(), [&](auto& p) { return p.first == why; });
    if (it == by_reason.end()) by_reason.push_back({why, s.name});
    else it->second += ", " + s.name;
  }
  for (const auto& [why, names] : by_reason) p_pmu.detail += names + ": " + why + "; ";
  row("perf counters (libpfm4)", p_pmu);

  bool tracefs = ops.exists("/sys/kernel/tracing/available_tracers") ||
                 ops.exists("/sys/kernel/debug/tracing/available_tracers");
  std::string tracers;
  if (tracefs) {
    std::ifstream f(ops.exists("/sys/kernel/tracing/available_tracers") ? "/sys/kernel/tracing/available_tracers"
                                                                          : "/sys/kernel/debug/tracing/available_tracers");
    std::getline(f, tracers);
  }
  bool fg = tracers.find("function_graph") != std::string::npos;
  row("ftrace function_graph", {fg, fg ? "available" : tracefs ? "tracers here: " + tracers + " (per-call kernel durations: ./swapbench matrix traces them in its guests)"
                                                               : "tracefs not mounted (fix: mount -t tracefs nodev /sys/kernel/tracing)"});
  std::string why;
  bool mte = mte_available(&why);
  row("arm64 MTE", {mte, mte ? "HWCAP2_MTE set" : why});

  const auto others = find_reclaimers("/");
  row("no other reclaimer paging out", {others.empty(), others.empty()
                                                      ? "none found (DAMON pageout schemes)"
                                                      : reclaimers_hint(others) +
                                                            ": a set whose counts it disturbs is marked invalid and "
                                                            "says so (fix, if the scheme is yours: stop it during runs)"});

  print_protections(p_state);

  auto need = [&](std::initializer_list<const Probe*> ps) {
    for (auto* p : ps)
      if (!p->ok) return *p;
    return Probe{true, "can run"};
  };
  std::printf("\nbenchmarks:\n");
  row("swapin/zswap, swapout/zswap", need({&p_root, &p_state, &p_swap, &p_zswap, &p_comp}));
  row("swapin/disk", need({&p_root, &p_state, &p_swap, &p_memcg}));
  row("swapout/disk, floor_swapcache", need({&p_root, &p_state, &p_swap}));
  row("swapin/zram, swapout/zram", need({&p_root, &p_state, &p_zram}));
  row("floor_firsttouch", {true, "can run (needs nothing)"});
  row("per-fault counters", p_pmu);
  return 0;
}

}  // namespace swapbench
