#include "workloads/system/zswap.h"

#include <dirent.h>

namespace swapbench {

const char* const kZswapParams = "/sys/module/zswap/parameters";
// zpool exists on kernels before 6.18 only.
const std::vector<std::string> kGuardedZswapParams = {
    "enabled", "compressor", "max_pool_percent", "accept_threshold_percent", "shrinker_enabled", "zpool"};
const std::vector<std::string> kKnownCompressors = {"lzo", "lzo-rle", "lz4", "lz4hc", "zstd", "deflate", "842"};

bool zswap_present(const SysOps& ops) { return ops.exists(std::string(kZswapParams) + "/enabled"); }

std::map<std::string, std::string> read_zswap_params(const SysOps& ops) {
  std::map<std::string, std::string> m;
  DIR* d = opendir(ops.at(kZswapParams).c_str());
  if (!d) return m;
  while (dirent* e = readdir(d)) {
    if (e->d_name[0] == '.') continue;
    try {
      m[e->d_name] = ops.read(std::string(kZswapParams) + "/" + e->d_name);
    } catch (const SystemError&) {
    }
  }
  closedir(d);
  return m;
}

ZswapGuard::ZswapGuard(Journal& j, SysOps& ops) {
  found_ = read_zswap_params(ops);
  // Only what the suite sets is guarded.
  for (const auto& p : kGuardedZswapParams)
    if (found_.count(p)) guards_[p] = std::make_unique<ValueGuard>(j, ops, std::string(kZswapParams) + "/" + p);
}

std::string ZswapGuard::get(const std::string& p) const {
  auto it = guards_.find(p);
  if (it == guards_.end()) throw SystemError("zswap has no parameter '" + p + "' on this kernel");
  return it->second->current();
}

void ZswapGuard::set(const std::string& p, const std::string& v) {
  auto it = guards_.find(p);
  if (it == guards_.end()) throw SystemError("zswap has no parameter '" + p + "' on this kernel");
  it->second->set(v);
}

std::map<std::string, std::string> ZswapGuard::now() const {
  std::map<std::string, std::string> m;
  for (const auto& [k, g] : guards_) {
    try {
      m[k] = g->current();
    } catch (const SystemError&) {
    }
  }
  return m;
}

CompressorProbe ZswapGuard::probe_compressors(const std::vector<std::string>& candidates) {
  CompressorProbe r;
  auto& g = *guards_.at("compressor");
  std::string before = g.current();
  // While zswap is disabled the kernel stores any name unchecked (seen on 6.18: "zstd" taken on a
  // kernel without zstd); only an enabled zswap tries to create a pool and refuses what it lacks.
  auto& en = *guards_.at("enabled");
  std::string was_enabled = en.current();
  if (was_enabled != "Y") en.set("Y");
  for (const auto& c : candidates) {
    std::string why;
    if (g.try_set(c, &why) && g.current() == c) r.accepted.push_back(c);
    else r.refused[c] = why.empty() ? "kernel kept " + g.current() : why;
  }
  g.try_set(before);
  if (was_enabled != "Y") en.set(was_enabled);
  return r;
}

}  // namespace swapbench
