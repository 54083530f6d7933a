#include "bench/capacity/page_source.h"

#include <fcntl.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <numeric>
#include <set>
#include <sstream>

#include "bench/capacity/page_codec.h"

namespace swapbench::capacity {
namespace {

// Documentation/admin-guide/mm/pagemap.rst
constexpr uint64_t kPresent = 1ull << 63, kSwapped = 1ull << 62, kFileOrSharedAnon = 1ull << 61;

std::string read_text(const std::string& path) {
  std::ifstream f(path);
  if (!f) throw InputError(path + ": " + std::strerror(errno));
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

std::string comm_of(int pid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/comm");
  std::string c;
  std::getline(f, c);
  return c;
}

// A capability set from /proc/PID/status ("CapEff:", "CapPrm:"), 0 when unreadable.
uint64_t caps_of(const std::string& pid, const std::string& field) {
  std::ifstream f("/proc/" + pid + "/status");
  std::string line;
  while (std::getline(f, line))
    if (line.rfind(field, 0) == 0) return std::stoull(line.substr(field.size()), nullptr, 16);
  return 0;
}

// include/uapi/linux/capability.h, by bit.
const char* const kCapNames[] = {
    "cap_chown", "cap_dac_override", "cap_dac_read_search", "cap_fowner", "cap_fsetid", "cap_kill", "cap_setgid",
    "cap_setuid", "cap_setpcap", "cap_linux_immutable", "cap_net_bind_service", "cap_net_broadcast",
    "cap_net_admin", "cap_net_raw", "cap_ipc_lock", "cap_ipc_owner", "cap_sys_module", "cap_sys_rawio",
    "cap_sys_chroot", "cap_sys_ptrace", "cap_sys_pacct", "cap_sys_admin", "cap_sys_boot", "cap_sys_nice",
    "cap_sys_resource", "cap_sys_time", "cap_sys_tty_config", "cap_mknod", "cap_lease", "cap_audit_write",
    "cap_audit_control", "cap_setfcap", "cap_mac_override", "cap_mac_admin", "cap_syslog", "cap_wake_alarm",
    "cap_block_suspend", "cap_audit_read", "cap_perfmon", "cap_bpf", "cap_checkpoint_restore"};

// Why this process may not read pid's memory, and what would let it. As an ordinary user that is
// ptrace access; as root with CAP_SYS_PTRACE the kernel refused anyway (seen: PID 1 of a cloud
// VM, which holds cap_sys_resource that the VM's root sessions lack), and "run as root" would be wrong:
// name what is known and that it cannot be read from here.
std::string ptrace_hint(int pid) {
  const std::string p = std::to_string(pid);
  constexpr uint64_t kSysPtrace = 1ull << 19;
  if (geteuid() != 0 || !(caps_of("self", "CapEff:") & kSysPtrace))
    return "pid " + p + ": reading its memory needs ptrace read access to it (run as root or with CAP_SYS_PTRACE, or "
           "as its owner with kernel.yama.ptrace_scope 0)";
  const uint64_t extra = caps_of(p, "CapPrm:") & ~caps_of("self", "CapEff:");
  std::string names;
  for (unsigned b = 0; b < 64; ++b)
    if (extra & (1ull << b))
      names += (names.empty() ? "" : ", ") +
               (b < sizeof kCapNames / sizeof *kCapNames ? std::string(kCapNames[b]) : "capability " + std::to_string(b));
  return "pid " + p + " (" + comm_of(pid) + "): the kernel refuses this process access to its memory although it runs "
         "as root with CAP_SYS_PTRACE: " +
         "the kernel's policy here protects it (a security module, or the process's own settings" +
         (names.empty() ? std::string("") : "; it holds capabilities this process lacks: " + names) +
         "); it cannot be sampled from here";
}

// /proc/PID/stat's state and flags (after the command name, which may hold spaces and parentheses).
bool stat_of(int pid, char* state, unsigned long* flags) {
  const std::string s = [&] {
    std::ifstream f("/proc/" + std::to_string(pid) + "/stat");
    std::string t;
    std::getline(f, t);
    return t;
  }();
  const auto close = s.rfind(')');
  if (close == std::string::npos) return false;
  std::istringstream in(s.substr(close + 1));
  std::string skip;
  in >> *state;
  for (int i = 0; i < 5; ++i) in >> skip;  // ppid pgrp session tty_nr tpgid
  return static_cast<bool>(in >> *flags);
}

}  // namespace

uint64_t Source::population() const {
  if (kind == "pid") return pages.size();
  uint64_t n = 0;
  for (auto& [off, len] : extents) n += (len + kPage - 1) / kPage;
  return n;
}

uint64_t Source::page_at(uint64_t i) const {
  if (kind == "pid") return pages.at(i);
  for (auto& [off, len] : extents) {
    uint64_t np = (len + kPage - 1) / kPage;
    if (i < np) return off + i * kPage;
    i -= np;
  }
  throw std::out_of_range("page index beyond the source");
}

std::vector<MapsEntry> parse_maps(const std::string& text) {
  std::vector<MapsEntry> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    MapsEntry e;
    std::istringstream ls(line);
    std::string range, offset, dev, inode;
    ls >> range;
    if (!range.empty() && range.back() == ':') {  // an smaps field of the mapping above
      uint64_t kb = 0;
      if (!out.empty() && (range == "Rss:" || range == "Swap:") && (ls >> kb))
        (range == "Rss:" ? out.back().rss_kb : out.back().swap_kb) = kb;
      continue;
    }
    ls >> e.perms >> offset >> dev >> inode;
    auto dash = range.find('-');
    if (dash == std::string::npos || e.perms.size() != 4) throw InputError("maps: malformed line: " + line);
    e.start = std::stoull(range.substr(0, dash), nullptr, 16);
    e.end = std::stoull(range.substr(dash + 1), nullptr, 16);
    std::getline(ls, e.path);
    auto p = e.path.find_first_not_of(' ');
    e.path = p == std::string::npos ? "" : e.path.substr(p);
    out.push_back(std::move(e));
  }
  return out;
}

bool is_special_mapping(const MapsEntry& e) {
  return e.path == "[vvar]" || e.path == "[vdso]" || e.path == "[vsyscall]" || e.path == "[vvar_vclock]";
}

bool is_shmem_mapping(const MapsEntry& e) {
  const std::string& p = e.path;
  if (p.rfind("/dev/zero", 0) == 0 || p.rfind("/SYSV", 0) == 0 || p.rfind("/memfd:", 0) == 0 ||
      p.rfind("/dev/shm/", 0) == 0 || p.rfind("[anon_shmem", 0) == 0)
    return true;
  if (p.empty() || p[0] != '/') return false;
  // Any other tmpfs file (a path with " (deleted)" cannot be asked).
  struct statfs fs;
  return statfs(p.c_str(), &fs) == 0 && static_cast<unsigned long>(fs.f_type) == TMPFS_MAGIC;
}

Source open_pid(int pid) {
  if (pid <= 0) throw InputError("--pid " + std::to_string(pid) + ": not a process id; accepted: positive integers");
  Source s;
  s.kind = "pid";
  s.pid = pid;
  const std::string dir = "/proc/" + std::to_string(pid);
  struct stat st;
  if (stat(dir.c_str(), &st) != 0) throw InputError("--pid " + std::to_string(pid) + ": no such process");
  s.label = "pid " + std::to_string(pid) + " (" + comm_of(pid) + ")";
  char state = 0;
  unsigned long flags = 0;
  constexpr unsigned long kPfKthread = 0x00200000;  // include/linux/sched.h PF_KTHREAD
  if (stat_of(pid, &state, &flags)) {
    if (flags & kPfKthread)
      throw InputError("--pid " + std::to_string(pid) + " is a kernel thread (" + comm_of(pid) +
                       "): it has no user pages; accepted: a user process");
    if (state == 'Z')
      throw InputError("--pid " + std::to_string(pid) + " (" + comm_of(pid) +
                       ") is a zombie: it has ended and its memory is gone; accepted: a running process");
  }
  std::string maps_text;
  try {
    maps_text = read_text(dir + "/smaps");  // maps plus each mapping's Rss and Swap (MapsEntry)
  } catch (const InputError&) {
    throw InputError(errno == ENOENT || errno == ESRCH ? "--pid " + std::to_string(pid) + ": the process ended"
                                                       : ptrace_hint(pid));
  }
  int fd = open((dir + "/pagemap").c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT || errno == ESRCH) throw InputError("--pid " + std::to_string(pid) + ": the process ended");
    throw InputError(ptrace_hint(pid));
  }
  std::vector<uint64_t> entries;
  for (const MapsEntry& e : parse_maps(maps_text)) {
    if (is_special_mapping(e) || e.perms[0] != 'r') continue;  // unreadable mappings hold nothing to read
    if (e.rss_kb == 0u && e.swap_kb == 0u) continue;  // nothing present, nothing swapped
    const bool shmem = e.shared() && is_shmem_mapping(e);
    const uint64_t npages = (e.end - e.start) / kPage;
    uint64_t present_kb = 0, swapped_kb = 0;
    // In chunks: a mapping can reserve terabytes (sanitizer shadows, JVM and Go heaps) of which
    // only a few pages are present.
    constexpr uint64_t kChunk = 1 << 16;
    entries.resize(std::min(npages, kChunk));
    for (uint64_t first = 0; first < npages; first += kChunk) {
      const uint64_t want = std::min(kChunk, npages - first);
      ssize_t got = pread(fd, entries.data(), want * 8, static_cast<off_t>((e.start / kPage + first) * 8));
      if (got < 0) {
        int err = errno;
        close(fd);
        if (err == ESRCH) throw InputError("--pid " + std::to_string(pid) + ": the process ended");
        throw InputError("pid " + std::to_string(pid) + ": pagemap: " + std::strerror(err) + "; " + ptrace_hint(pid));
      }
      for (uint64_t i = 0; i < static_cast<uint64_t>(got) / 8; ++i) {
        const uint64_t v = entries[i], addr = e.start + (first + i) * kPage;
        if (v & kPresent) {
          present_kb += kPage / 1024;
          if (!(v & kFileOrSharedAnon)) {
            s.pages.push_back(addr), ++s.anon_pages;
          } else if (shmem) {
            s.pages.push_back(addr), ++s.shmem_pages;
          }
        } else if (v & kSwapped) {
          ++s.swapped_pages;
          swapped_kb += kPage / 1024;
        }
      }
      if (static_cast<uint64_t>(got) < want * 8) break;  // the mapping went away meanwhile
      // Everything smaps counted has been seen: the rest of the range is empty (pages that
      // arrived since smaps was read may be missed, as they may be in any snapshot).
      if (e.rss_kb && e.swap_kb && present_kb >= *e.rss_kb && swapped_kb >= *e.swap_kb) break;
    }
  }
  close(fd);
  return s;
}

Source open_file(const std::string& path) {
  struct stat st;
  if (stat(path.c_str(), &st) != 0)
    throw InputError("--file " + path + ": " + std::strerror(errno) + "; accepted: a readable regular file");
  if (!S_ISREG(st.st_mode)) throw InputError("--file " + path + ": not a regular file; accepted: a readable regular file");
  if (st.st_size == 0) throw InputError("--file " + path + " is empty: nothing to estimate; accepted: a file of at least one byte");
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw InputError("--file " + path + ": " + std::strerror(errno) + "; accepted: a readable regular file");
  close(fd);
  Source s;
  s.kind = "file";
  s.label = s.path = path;
  if (st.st_size > 0) s.extents.push_back({0, static_cast<uint64_t>(st.st_size)});
  return s;
}

std::vector<std::pair<uint64_t, uint64_t>> elf_core_loads(const std::string& path) {
  const std::string accepted = "; accepted: an ELF64 little-endian core dump (ET_CORE)";
  std::ifstream f(path, std::ios::binary);
  if (!f) throw InputError("--core " + path + ": " + std::strerror(errno) + accepted);
  unsigned char eh[64];
  if (!f.read(reinterpret_cast<char*>(eh), 64)) throw InputError("--core " + path + ": shorter than an ELF header" + accepted);
  if (std::memcmp(eh, "\x7f" "ELF", 4) != 0) throw InputError("--core " + path + ": not an ELF file" + accepted);
  if (eh[4] != 2 || eh[5] != 1) throw InputError("--core " + path + ": not ELF64 little-endian" + accepted);
  auto u16 = [&](int o) { uint16_t v; std::memcpy(&v, eh + o, 2); return v; };
  uint64_t phoff;
  std::memcpy(&phoff, eh + 32, 8);
  if (u16(16) != 4) throw InputError("--core " + path + ": an ELF file but not a core dump (e_type " + std::to_string(u16(16)) + ")" + accepted);
  const uint16_t phentsize = u16(54), phnum = u16(56);
  if (phentsize < 56) throw InputError("--core " + path + ": bad program header size" + accepted);
  f.seekg(0, std::ios::end);
  const uint64_t size = static_cast<uint64_t>(f.tellg());
  std::vector<std::pair<uint64_t, uint64_t>> loads;
  for (unsigned i = 0; i < phnum; ++i) {
    unsigned char ph[56];
    f.seekg(static_cast<std::streamoff>(phoff + uint64_t(i) * phentsize));
    if (!f.read(reinterpret_cast<char*>(ph), 56)) throw InputError("--core " + path + ": truncated program headers" + accepted);
    uint32_t type;
    uint64_t off, filesz;
    std::memcpy(&type, ph, 4);
    std::memcpy(&off, ph + 8, 8);
    std::memcpy(&filesz, ph + 32, 8);
    if (type != 1 || filesz == 0) continue;  // PT_LOAD with contents only: others are notes
    if (off + filesz > size) throw InputError("--core " + path + ": a PT_LOAD segment runs past the end (truncated core?)" + accepted);
    loads.push_back({off, filesz});
  }
  return loads;
}

Source open_core(const std::string& path) {
  Source s;
  s.kind = "core";
  s.label = s.path = path;
  s.extents = elf_core_loads(path);
  if (s.extents.empty())
    throw InputError("--core " + path + " holds no memory (no PT_LOAD segment with contents): nothing to estimate");
  return s;
}

std::vector<int> cgroup_pids(const std::string& dir) {
  // A cgroup is a folder of a cgroup (v1) or cgroup2 file system: any other folder may hold a file
  // named cgroup.procs listing any processes.
  const std::string accepted = "; accepted: a cgroup folder (v1 or v2), e.g. /sys/fs/cgroup/system.slice/x.service";
  struct statfs fs;
  if (statfs(dir.c_str(), &fs) != 0) throw InputError("--cgroup " + dir + ": " + std::strerror(errno) + accepted);
  const auto magic = static_cast<unsigned long>(fs.f_type);
  if (magic != CGROUP2_SUPER_MAGIC && magic != CGROUP_SUPER_MAGIC)
    throw InputError("--cgroup " + dir + ": not a cgroup (its file system is not cgroup or cgroup2)" + accepted);
  std::ifstream f(dir + "/cgroup.procs");
  if (!f) throw InputError("--cgroup " + dir + ": no readable cgroup.procs; accepted: a cgroup folder (v1 or v2), e.g. /sys/fs/cgroup/system.slice/x.service");
  std::vector<int> pids;
  int p;
  while (f >> p) pids.push_back(p);
  return pids;
}

uint64_t pfn_of(uint64_t v) { return (v & kPresent) ? (v & ((1ull << 55) - 1)) : 0; }

LruState lru_state_of(uint64_t f) {
  // KPF_REFERENCED 2, KPF_LRU 5, KPF_ACTIVE 6, KPF_UNEVICTABLE 18
  const auto bit = [&](int b) { return (f >> b) & 1; };
  if (!bit(5) || bit(18)) return LruState::off_lru;
  if (bit(6)) return LruState::active;
  return bit(2) ? LruState::inactive_referenced : LruState::inactive;
}

LruProbe::LruProbe() {
  kpf_ = open("/proc/kpageflags", O_RDONLY | O_CLOEXEC);
  if (kpf_ < 0) why_ = std::string("/proc/kpageflags: ") + std::strerror(errno) + " (it needs root: CAP_SYS_ADMIN)";
}

LruProbe::~LruProbe() {
  if (kpf_ >= 0) close(kpf_);
  if (pm_ >= 0) close(pm_);
}

LruState LruProbe::state(int pid, uint64_t addr) {
  if (kpf_ < 0) return LruState::unknown;
  if (pm_pid_ != pid) {
    if (pm_ >= 0) close(pm_);
    pm_ = open(("/proc/" + std::to_string(pid) + "/pagemap").c_str(), O_RDONLY | O_CLOEXEC);
    pm_pid_ = pid;
  }
  uint64_t v = 0, f = 0;
  if (pm_ < 0 || pread(pm_, &v, 8, static_cast<off_t>(addr / kPage * 8)) != 8) return LruState::unknown;
  const uint64_t pfn = pfn_of(v);
  if (!pfn || pread(kpf_, &f, 8, static_cast<off_t>(pfn * 8)) != 8) return LruState::unknown;
  return lru_state_of(f);
}

PageReader::~PageReader() {
  if (fd_ >= 0) close(fd_);
}

bool PageReader::read(const Source& s, uint64_t where, uint8_t* out) {
  if (s.kind == "pid") {
    iovec local{out, kPage}, remote{reinterpret_cast<void*>(where), kPage};
    ssize_t n = process_vm_readv(s.pid, &local, 1, &remote, 1, 0);
    if (n == static_cast<ssize_t>(kPage)) return true;
    if (n >= 0 || errno == EFAULT) return false;  // unmapped since pagemap was read
    if (errno == ESRCH) throw InputError("--pid " + std::to_string(s.pid) + ": the process ended while it was read");
    if (errno == EPERM) throw InputError(ptrace_hint(s.pid));
    throw InputError("pid " + std::to_string(s.pid) + ": process_vm_readv: " + std::strerror(errno));
  }
  if (fd_path_ != s.path) {
    if (fd_ >= 0) close(fd_);
    fd_ = open(s.path.c_str(), O_RDONLY | O_CLOEXEC);
    fd_path_ = s.path;
    if (fd_ < 0) throw InputError(s.path + ": " + std::strerror(errno));
  }
  // The last page of a segment or file may be short: the rest reads as zeros, as in memory.
  uint64_t limit = 0;
  for (auto& [off, len] : s.extents)
    if (where >= off && where < off + len) limit = off + len;
  const std::size_t want = static_cast<std::size_t>(std::min<uint64_t>(kPage, limit - where));
  std::memset(out, 0, kPage);
  std::size_t got = 0;
  while (got < want) {
    ssize_t n = pread(fd_, out + got, want - got, static_cast<off_t>(where + got));
    if (n < 0) throw InputError(s.path + ": read: " + std::strerror(errno));
    if (n == 0) throw InputError(s.path + ": shrank while it was read");
    got += static_cast<std::size_t>(n);
  }
  return true;
}

std::vector<Stratum> allocate(const std::vector<uint64_t>& populations, uint64_t n) {
  const uint64_t total = std::accumulate(populations.begin(), populations.end(), uint64_t{0});
  std::vector<Stratum> out;
  for (std::size_t i = 0; i < populations.size(); ++i) out.push_back({i, populations[i], 0});
  if (n == 0 || n >= total) {
    for (auto& s : out) s.sampled = s.population;
    return out;
  }
  // Largest remainders: the shares sum to n exactly.
  std::vector<std::pair<double, std::size_t>> rem;
  uint64_t given = 0;
  for (auto& s : out) {
    const double exact = static_cast<double>(n) * static_cast<double>(s.population) / static_cast<double>(total);
    s.sampled = static_cast<uint64_t>(exact);
    given += s.sampled;
    rem.push_back({exact - static_cast<double>(s.sampled), s.source});
  }
  std::stable_sort(rem.begin(), rem.end(), [](auto& a, auto& b) { return a.first > b.first; });
  for (std::size_t i = 0; given < n && i < rem.size(); ++i, ++given) out[rem[i].second].sampled++;
  // A stratum with pages but no sample would have no estimate: take one from the largest.
  for (auto& s : out) {
    if (s.population > 0 && s.sampled == 0) {
      auto big = std::max_element(out.begin(), out.end(), [](auto& a, auto& b) { return a.sampled < b.sampled; });
      if (big->sampled > 1) big->sampled--, s.sampled = 1;
    }
  }
  return out;
}

std::vector<uint64_t> sample_indices(uint64_t population, uint64_t k, std::mt19937_64& rng) {
  // Floyd's algorithm: k distinct indices, uniform, in O(k) memory whatever the population.
  std::set<uint64_t> chosen;
  if (k >= population) {
    std::vector<uint64_t> all(population);
    std::iota(all.begin(), all.end(), uint64_t{0});
    return all;
  }
  for (uint64_t j = population - k; j < population; ++j) {
    std::uniform_int_distribution<uint64_t> d(0, j);
    uint64_t t = d(rng);
    if (!chosen.insert(t).second) chosen.insert(j);
  }
  return {chosen.begin(), chosen.end()};
}

}  // namespace swapbench::capacity
