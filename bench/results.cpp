#include "bench/results.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

namespace swapbench {

void write_json_atomic(const std::string& path, const nlohmann::json& j) {
  auto slash = path.rfind('/');
  std::string dir = slash == std::string::npos ? "." : path.substr(0, slash);
  if (!dir.empty()) mkdir(dir.c_str(), 0755);
  std::string tmp = path + ".tmp." + std::to_string(getpid());
  std::string text = j.dump(2) + "\n";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) throw std::runtime_error("cannot write " + tmp + ": " + std::strerror(errno));
  ssize_t n = ::write(fd, text.data(), text.size());
  bool ok = n == static_cast<ssize_t>(text.size()) && fsync(fd) == 0;
  int err = errno;
  ::close(fd);
  if (!ok || rename(tmp.c_str(), path.c_str()) != 0) {
    ::unlink(tmp.c_str());
    throw std::runtime_error("cannot write " + path + ": " + std::strerror(ok ? errno : err));
  }
}

std::string default_results_dir() {
  const char* e = std::getenv("SWAPBENCH_RESULTS_DIR");
  return e && *e ? e : "results";
}

std::string detect_accelerator() {
  if (const char* e = std::getenv("SWAPBENCH_ACCELERATOR"); e && *e) return e;
#if defined(__x86_64__) || defined(__i386__)
  unsigned a, b, c, d;
  __cpuid(1, a, b, c, d);
  if (!(c & (1u << 31))) return "native";  // no hypervisor bit
  __cpuid(0x40000000, a, b, c, d);
  char sig[13] = {0};
  std::memcpy(sig, &b, 4);
  std::memcpy(sig + 4, &c, 4);
  std::memcpy(sig + 8, &d, 4);
  std::string s(sig);
  if (s.rfind("KVMKVMKVM", 0) == 0) return "kvm";
  if (s.rfind("TCGTCGTCG", 0) == 0) return "tcg";
  if (s == "Microsoft Hv") return "hyperv";
  if (s == "VMwareVMware") return "vmware";
  return "vm (hypervisor '" + s + "')";
#else
  return "unknown (set SWAPBENCH_ACCELERATOR)";
#endif
}

std::string kernel_config_hash(std::string* source) {
  utsname u;
  uname(&u);
  for (std::string p : {std::string("/proc/config.gz"), "/boot/config-" + std::string(u.release)}) {
    std::ifstream f(p, std::ios::binary);
    if (!f) continue;
    uint64_t h = 0xcbf29ce484222325ull;
    char c;
    while (f.get(c)) h = (h ^ static_cast<unsigned char>(c)) * 0x100000001b3ull;
    if (source) *source = p;
    std::ostringstream o;
    o << std::hex << h;
    return o.str();
  }
  if (source) *source = "not readable (no /proc/config.gz, no /boot/config-<release>)";
  return "";
}

nlohmann::json kernel_json() {
  utsname u;
  uname(&u);
  std::string src, cfg = kernel_config_hash(&src);
  return {{"release", u.release}, {"version", u.version}, {"machine", u.machine}, {"config_fnv1a64", cfg},
          {"config_source", src}};
}

}  // namespace swapbench
