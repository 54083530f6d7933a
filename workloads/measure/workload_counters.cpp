#include "workloads/measure/workload_counters.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <sstream>

#include "workloads/system/swap_area.h"
#include "workloads/system/zswap.h"

namespace swapbench {

const std::vector<std::string> kWorkloadVmstatKeys = {"pswpin", "pswpout", "zswpin", "zswpout", "zswpwb"};

namespace {
constexpr const char* kThp = "/sys/kernel/mm/transparent_hugepage";

std::optional<int64_t> stat_of(const Stats& s, const std::string& k) {
  auto it = s.find(k);
  return it == s.end() ? std::nullopt : std::optional<int64_t>(it->second);
}

nlohmann::json or_null(const std::optional<int64_t>& v) { return v ? nlohmann::json(*v) : nlohmann::json(nullptr); }

nlohmann::json diff_or_null(const std::optional<int64_t>& a, const std::optional<int64_t>& b) {
  return a && b ? nlohmann::json(*b - *a) : nlohmann::json(nullptr);
}

std::vector<std::string> entries(const std::string& dir) {
  std::vector<std::string> out;
  DIR* d = opendir(dir.c_str());
  if (!d) return out;
  while (dirent* e = readdir(d))
    if (e->d_name[0] != '.') out.emplace_back(e->d_name);
  closedir(d);
  return out;
}

nlohmann::json text_or_null(const SysOps& ops, const std::string& abs) {
  try {
    return ops.read(abs);
  } catch (const SystemError&) {
    return nullptr;
  }
}

// "always [madvise] never" -> "madvise": the bracketed word is the one in force.
nlohmann::json selected_or_null(const SysOps& ops, const std::string& abs) {
  nlohmann::json t = text_or_null(ops, abs);
  if (!t.is_string()) return t;
  const std::string s = t.get<std::string>();
  auto a = s.find('['), b = s.find(']');
  return a != std::string::npos && b > a ? nlohmann::json(s.substr(a + 1, b - a - 1)) : t;
}

nlohmann::json psi_delta(const PsiReading& a, const PsiReading& b) {
  if (!a.available || !b.available)
    return {{"available", false}, {"reason", a.available ? b.reason : a.reason}};
  return {{"available", true}, {"some_us", diff_or_null(a.some_us, b.some_us)},
          {"full_us", diff_or_null(a.full_us, b.full_us)}};
}
}  // namespace

int read_text(const std::string& path, std::string& out) {
  out.clear();
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return errno;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(fd, buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
  int err = n < 0 ? errno : 0;
  ::close(fd);
  return err;
}

PsiReading parse_psi(std::istream& in) {
  PsiReading r;
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream l(line);
    std::string which, field;
    l >> which;
    while (l >> field)
      if (field.rfind("total=", 0) == 0) {
        const int64_t v = std::strtoll(field.c_str() + 6, nullptr, 10);
        if (which == "some") r.some_us = v;
        if (which == "full") r.full_us = v;
      }
  }
  r.available = r.some_us.has_value();
  if (!r.available) r.reason = "no 'some ... total=' line";
  return r;
}

PsiReading read_psi(const SysOps& ops, const std::string& abs) {
  std::string text;
  const int err = read_text(ops.at(abs), text);
  PsiReading r;
  if (err == ENOENT)
    r.reason = abs + " absent: the kernel has no PSI (CONFIG_PSI=n)";
  else if (err == EOPNOTSUPP)
    r.reason = abs + ": EOPNOTSUPP, PSI is off (booted with psi=0; hint: boot with psi=1)";
  else if (err)
    r.reason = abs + ": " + std::strerror(err);
  if (err) return r;
  std::istringstream in(text);
  r = parse_psi(in);
  if (!r.available) r.reason = abs + ": " + r.reason;
  return r;
}

Stats read_mthp_stats(const SysOps& ops) {
  Stats s;
  for (const auto& dir : entries(ops.at(kThp))) {
    if (dir.rfind("hugepages-", 0) != 0) continue;
    const std::string size = dir.substr(10), stats = ops.at(std::string(kThp) + "/" + dir + "/stats");
    for (const auto& f : entries(stats)) {
      std::string text;
      if (read_text(stats + "/" + f, text) == 0 && !text.empty()) s[size + "." + f] = std::strtoll(text.c_str(), nullptr, 10);
    }
  }
  return s;
}

std::string swap_usage_file(MemcgVersion v) {
  return v == MemcgVersion::V2 ? "memory.swap.current" : v == MemcgVersion::V1 ? "memory.memsw.usage_in_bytes" : "";
}

WorkloadSnapshot snapshot_workload(const SysOps& ops, const std::string& cgroup_abs, MemcgVersion v,
                                   const std::string& debugfs_abs) {
  WorkloadSnapshot s;
  s.vmstat = read_vmstat(ops.root());
  if (!debugfs_abs.empty()) s.zswap_debugfs = read_zswap_debugfs(ops.at(debugfs_abs));
  s.mthp = read_mthp_stats(ops);
  s.psi_system = read_psi(ops, "/proc/pressure/memory");
  if (cgroup_abs.empty()) {
    s.psi_cgroup.reason = "no workload cgroup";
    return s;
  }
  s.memcg_stat = read_memcg_stat(ops.at(cgroup_abs));
  std::string text;
  if (const std::string f = swap_usage_file(v); !f.empty() && read_text(ops.at(cgroup_abs + "/" + f), text) == 0)
    s.swap_bytes = std::strtoll(text.c_str(), nullptr, 10);
  if (v == MemcgVersion::V2) s.psi_cgroup = read_psi(ops, cgroup_abs + "/memory.pressure");
  else s.psi_cgroup.reason = "cgroup v1 has no per-cgroup memory.pressure";
  return s;
}

namespace {
nlohmann::json vmstat_block(const WorkloadSnapshot& a, const WorkloadSnapshot& b, nlohmann::json& absent) {
  nlohmann::json j = to_json(delta(a.vmstat, b.vmstat));
  absent = nlohmann::json::array();
  for (const auto& k : kWorkloadVmstatKeys)
    if (!j.contains(k)) {
      j[k] = nullptr;
      absent.push_back(k);
    }
  return j;
}

nlohmann::json memcg_block(const WorkloadSnapshot& a, const WorkloadSnapshot& b, MemcgVersion v) {
  nlohmann::json j = {{"version", to_string(v)}};
  for (const char* k : {"zswap", "zswapped"}) j[std::string(k) + "_bytes"] = or_null(stat_of(b.memcg_stat, k));
  if (v == MemcgVersion::V1)
    j["zswap_note"] = "cgroup v1 memory.stat has neither zswap nor zswapped (zswap is accounted per cgroup on v2 only)";
  else if (v == MemcgVersion::V2 && !b.memcg_stat.count("zswap"))
    j["zswap_note"] = "this kernel's memory.stat has no zswap line (CONFIG_ZSWAP=n or older than 5.19)";
  j["swap_bytes"] = or_null(b.swap_bytes);
  j["swap_bytes_delta"] = diff_or_null(a.swap_bytes, b.swap_bytes);
  const std::string f = swap_usage_file(v);
  j["swap_source"] = f.empty() ? nlohmann::json(nullptr) : nlohmann::json(f);
  if (v == MemcgVersion::V1) j["swap_note"] = "v1 reports memory + swap together; absent without swap accounting";
  return j;
}

nlohmann::json mthp_block(const WorkloadSnapshot& a, const WorkloadSnapshot& b) {
  nlohmann::json j = nlohmann::json::object();
  for (const auto& [k, v] : delta(a.mthp, b.mthp)) {
    const auto dot = k.find('.');
    j[k.substr(0, dot)][k.substr(dot + 1)] = v;
  }
  return j;
}
}  // namespace

nlohmann::json workload_counters(const WorkloadSnapshot& a, const WorkloadSnapshot& b, MemcgVersion v) {
  nlohmann::json absent;
  nlohmann::json j = {{"vmstat", vmstat_block(a, b, absent)}, {"vmstat_absent", absent}};
  j["zswap_debugfs"] = to_json(delta(a.zswap_debugfs, b.zswap_debugfs));
  j["zswap_stored_pages"] = or_null(stat_of(b.zswap_debugfs, "stored_pages"));
  j["memcg"] = memcg_block(a, b, v);
  j["psi"] = {{"system", psi_delta(a.psi_system, b.psi_system)}, {"cgroup", psi_delta(a.psi_cgroup, b.psi_cgroup)}};
  j["mthp"] = mthp_block(a, b);
  return j;
}

nlohmann::json config_header(const SysOps& ops) {
  nlohmann::json j;
  const auto params = read_zswap_params(ops);
  j["zswap"] = nlohmann::json::object();
  for (const char* p : {"enabled", "compressor", "zpool", "max_pool_percent"}) {
    auto it = params.find(p);
    j["zswap"][p] = it == params.end() ? nlohmann::json(nullptr) : nlohmann::json(it->second);
  }
  j["page_cluster"] = text_or_null(ops, "/proc/sys/vm/page-cluster");
  nlohmann::json swaps = nlohmann::json::array();
  try {
    for (const SwapAreaInfo& s : read_swaps(ops))
      swaps.push_back({{"name", s.path}, {"type", s.type}, {"size_kib", s.size_bytes / 1024},
                       {"used_kib", s.used_bytes / 1024}, {"priority", s.priority}});
  } catch (const SystemError&) {  // no /proc/swaps (a fake root): nothing to name
  }
  j["swap_devices"] = swaps;
  j["thp"] = {{"enabled", selected_or_null(ops, std::string(kThp) + "/enabled")},
              {"defrag", selected_or_null(ops, std::string(kThp) + "/defrag")}};
  nlohmann::json release = text_or_null(ops, "/proc/sys/kernel/osrelease");
  utsname u{};
  if (!release.is_string() && ops.root() == "/" && uname(&u) == 0) release = u.release;
  j["kernel_release"] = release;
  return j;
}

}  // namespace swapbench
