#include "workloads/proof/reclaimers.h"

#include <filesystem>
#include <fstream>

namespace swapbench {

namespace {

std::string read_word(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::string s;
  in >> s;
  return s;
}

// The numbered subfolders of a DAMON sysfs folder ("0", "1", ...), in order.
std::vector<std::filesystem::path> numbered(const std::filesystem::path& dir) {
  std::vector<std::filesystem::path> out;
  std::error_code ec;
  for (int i = 0;; ++i) {
    auto p = dir / std::to_string(i);
    if (!std::filesystem::is_directory(p, ec)) break;
    out.push_back(p);
  }
  return out;
}

}  // namespace

std::vector<Reclaimer> find_reclaimers(const std::string& root) {
  std::vector<Reclaimer> out;
  const auto kdamonds = std::filesystem::path(root) / "sys/kernel/mm/damon/admin/kdamonds";
  for (const auto& kd : numbered(kdamonds)) {
    if (read_word(kd / "state") != "on") continue;
    for (const auto& ctx : numbered(kd / "contexts")) {
      const std::string ops = read_word(ctx / "operations");
      for (const auto& sch : numbered(ctx / "schemes")) {
        const std::string action = read_word(sch / "action");
        if (action != "pageout") continue;  // stat, lru_prio, migrate_*: nothing is swapped out
        Reclaimer r;
        r.what = "DAMON kdamond " + kd.filename().string() + " context " + ctx.filename().string() + " scheme " +
                 sch.filename().string();
        r.detail = (ops.empty() ? "?" : ops) + ", action pageout";
        const std::string age = read_word(sch / "access_pattern/age/min");
        if (!age.empty()) r.detail += ", min age " + age + " aggregations";
        const std::string bytes = read_word(sch / "quotas/bytes"), ms = read_word(sch / "quotas/ms");
        if (!bytes.empty()) r.detail += ", quota " + bytes + " bytes / " + ms + " ms";
        const std::string pid = read_word(kd / "pid");
        if (!pid.empty()) r.detail += ", pid " + pid;
        out.push_back(r);
      }
    }
  }
  return out;
}

nlohmann::json to_json(const std::vector<Reclaimer>& r) {
  nlohmann::json a = nlohmann::json::array();
  for (const auto& x : r) a.push_back({{"what", x.what}, {"detail", x.detail}});
  return a;
}

std::string reclaimers_hint(const std::vector<Reclaimer>& r) {
  if (r.empty()) return "";
  return "another reclaimer pages memory out on this machine (" + r.front().what + ": " + r.front().detail +
         (r.size() > 1 ? "; and " + std::to_string(r.size() - 1) + " more" : "") +
         "); its page-outs count in the same machine-wide counters";
}

}  // namespace swapbench
