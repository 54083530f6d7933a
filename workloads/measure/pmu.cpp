#include "workloads/measure/pmu.h"

#include <linux/perf_event.h>
#include <perfmon/pfmlib_perf_event.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <mutex>

namespace swapbench {

double scale_count(uint64_t raw, uint64_t enabled, uint64_t running) {
  if (running == 0) return -1;
  if (running >= enabled) return static_cast<double>(raw);
  return static_cast<double>(raw) * (static_cast<double>(enabled) / static_cast<double>(running));
}

namespace {

std::string pfm_init_error() {
  static std::once_flag once;
  static int rc = PFM_SUCCESS;
  std::call_once(once, [] { rc = pfm_initialize(); });
  return rc == PFM_SUCCESS ? std::string() : std::string("libpfm4 initialisation failed: ") + pfm_strerror(rc);
}

bool encode(const std::string& name, perf_event_attr& attr, std::string& why) {
  if (auto e = pfm_init_error(); !e.empty()) {
    why = e;
    return false;
  }
  std::memset(&attr, 0, sizeof attr);
  pfm_perf_encode_arg_t arg;
  std::memset(&arg, 0, sizeof arg);
  arg.attr = &attr;
  arg.size = sizeof arg;
  // Without a :u/:k modifier an event counts both user and kernel: a fault's cost is mostly kernel.
  int rc = pfm_get_os_event_encoding(name.c_str(), PFM_PLM0 | PFM_PLM3, PFM_OS_PERF_EVENT_EXT, &arg);
  if (rc != PFM_SUCCESS) {
    why = std::string("libpfm4 does not accept '") + name + "': " + pfm_strerror(rc) +
          " (list the names with: showevtinfo from libpfm4's examples, or use perf list)";
    return false;
  }
  return true;
}

std::string open_hint(int err) {
  int paranoid = -9;
  std::ifstream("/proc/sys/kernel/perf_event_paranoid") >> paranoid;
  switch (err) {
    case EACCES:
    case EPERM:
      return std::string(std::strerror(err)) + ": perf_event_paranoid is " + std::to_string(paranoid) +
             " (hint: run as root, or sysctl kernel.perf_event_paranoid=1)";
    case ENOENT:
    case EOPNOTSUPP:
      return std::string(std::strerror(err)) +
             ": no such counter on this CPU/PMU; a VM or emulator often exposes no hardware PMU (software events still work)";
    case EINVAL:
      return std::string(std::strerror(err)) + ": the PMU rejected the encoding (modifier or group not supported)";
    case ENOSPC:
      return std::string(std::strerror(err)) + ": not enough hardware counters for the group; ask for fewer events";
    default:
      return std::strerror(err);
  }
}

}  // namespace

EventStatus resolve_event(const std::string& name) {
  perf_event_attr attr;
  EventStatus s{name, false, {}};
  s.ok = encode(name, attr, s.reason);
  return s;
}

CounterGroup::CounterGroup(const std::vector<std::string>& events) {
  for (const auto& name : events) {
    EventStatus st{name, false, {}};
    perf_event_attr attr;
    if (!encode(name, attr, st.reason)) {
      statuses_.push_back(st);
      continue;
    }
    attr.size = sizeof attr;
    attr.disabled = fds_.empty() ? 1 : 0;  // the leader gates the group
    attr.read_format = PERF_FORMAT_GROUP | PERF_FORMAT_TOTAL_TIME_ENABLED | PERF_FORMAT_TOTAL_TIME_RUNNING;
    int leader = fds_.empty() ? -1 : fds_.front();
    long fd = syscall(SYS_perf_event_open, &attr, 0, -1, leader, 0);
    if (fd < 0) {
      st.reason = "perf_event_open: " + open_hint(errno);
    } else {
      st.ok = true;
      fds_.push_back(static_cast<int>(fd));
      names_.push_back(name);
    }
    statuses_.push_back(st);
  }
}

CounterGroup::~CounterGroup() {
  for (int fd : fds_) close(fd);
}

void CounterGroup::start() {
  if (fds_.empty()) return;
  ioctl(fds_.front(), PERF_EVENT_IOC_RESET, PERF_IOC_FLAG_GROUP);
  ioctl(fds_.front(), PERF_EVENT_IOC_ENABLE, PERF_IOC_FLAG_GROUP);
}

void CounterGroup::resume() {
  if (!fds_.empty()) ioctl(fds_.front(), PERF_EVENT_IOC_ENABLE, PERF_IOC_FLAG_GROUP);
}

void CounterGroup::stop() {
  if (!fds_.empty()) ioctl(fds_.front(), PERF_EVENT_IOC_DISABLE, PERF_IOC_FLAG_GROUP);
}

std::vector<CounterReading> CounterGroup::read() const {
  std::vector<CounterReading> out;
  if (fds_.empty()) return out;
  std::vector<uint64_t> buf(3 + fds_.size());
  ssize_t n = ::read(fds_.front(), buf.data(), buf.size() * sizeof(uint64_t));
  if (n < static_cast<ssize_t>(3 * sizeof(uint64_t))) return out;
  uint64_t nr = buf[0], enabled = buf[1], running = buf[2];
  for (size_t i = 0; i < nr && i < names_.size(); ++i) {
    CounterReading r;
    r.name = names_[i];
    r.raw = buf[3 + i];
    r.scaled = scale_count(r.raw, enabled, running);
    r.running_share = enabled ? static_cast<double>(running) / static_cast<double>(enabled) : 0;
    out.push_back(r);
  }
  return out;
}

}  // namespace swapbench
