// zswap's module parameters, borrowed through ValueGuards, and the compressors the kernel accepts
// (found by trying each name: /proc/crypto lists only loaded algorithms, and a module the kernel
// can load on demand is as good as built in).
#pragma once
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "workloads/system/guards.h"

namespace swapbench {

extern const char* const kZswapParams;  // "/sys/module/zswap/parameters"
// The parameters a ZswapGuard borrows (those the kernel has): the only ones a journal may restore.
extern const std::vector<std::string> kGuardedZswapParams;
// Compressor names zswap may know; anything else is a typo, refused before any change.
extern const std::vector<std::string> kKnownCompressors;

std::map<std::string, std::string> read_zswap_params(const SysOps& ops);
bool zswap_present(const SysOps& ops);

struct CompressorProbe {
  std::vector<std::string> accepted;
  std::map<std::string, std::string> refused;  // name -> the kernel's answer
};

class ZswapGuard {
 public:
  ZswapGuard(Journal& j, SysOps& ops);
  bool has(const std::string& param) const { return guards_.count(param) > 0; }
  std::string get(const std::string& param) const;
  void set(const std::string& param, const std::string& value);
  const std::map<std::string, std::string>& found() const { return found_; }  // values as found
  std::map<std::string, std::string> now() const;
  // Tries every candidate (the original compressor is put back afterwards).
  CompressorProbe probe_compressors(const std::vector<std::string>& candidates);

 private:
  std::map<std::string, std::unique_ptr<ValueGuard>> guards_;
  std::map<std::string, std::string> found_;
};

}  // namespace swapbench
