#include "workloads/standard/workers.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <ctime>

namespace swapbench {

namespace {

// What a worker sends its parent, in one write: under PIPE_BUF, so reports never interleave.
struct Report {
  uint32_t index;
  int32_t error;  // errno of a failed mmap, else 0
  double end_s;   // CLOCK_MONOTONIC at the end of its loops: the same clock in every process
  double elapsed_s, user_s, sys_s;
  uint64_t bytes_written, pages_checked, pages_bad;
  char first_failure[256];
};
static_assert(sizeof(Report) < PIPE_BUF);

double mono_s() {
  timespec t{};
  clock_gettime(CLOCK_MONOTONIC, &t);
  return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) * 1e-9;
}

double tv_s(const timeval& t) { return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) * 1e-6; }

bool write_all(int fd, const void* p, size_t n) {
  return ::write(fd, p, n) == static_cast<ssize_t>(n);
}

// One worker, in the child: loops, then the check, then the report; holds its pages until the
// parent closes the release pipe.
[[noreturn]] void worker(const WorkersSpec& spec, uint32_t index, int report_fd, int release_fd) {
  Report r{};
  r.index = index;
  const size_t pages = spec.worker_bytes / kPageSize;
  // THP off, as for the suite's regions: a huge page is swapped or split whole, and the
  // per-4 KiB figures would not mean what they say.
  void* m = mmap(nullptr, pages * kPageSize, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (m == MAP_FAILED) {
    r.error = errno;
    write_all(report_fd, &r, sizeof r);
    _exit(1);
  }
  madvise(m, pages * kPageSize, MADV_NOHUGEPAGE);
  auto* base = static_cast<uint8_t*>(m);
  const std::vector<uint32_t> order = make_order(spec.pattern, pages, spec.generation * 131 + index);
  rusage ru0{}, ru1{};
  getrusage(RUSAGE_SELF, &ru0);
  const double t0 = mono_s();
  for (unsigned l = 0; l < spec.loops; ++l)
    for (uint32_t i : order) spec.profile->fill(base + static_cast<size_t>(i) * kPageSize, i, spec.generation + l);
  r.end_s = mono_s();
  getrusage(RUSAGE_SELF, &ru1);
  r.elapsed_s = r.end_s - t0;
  r.user_s = tv_s(ru1.ru_utime) - tv_s(ru0.ru_utime);
  r.sys_s = tv_s(ru1.ru_stime) - tv_s(ru0.ru_stime);
  r.bytes_written = static_cast<uint64_t>(pages) * kPageSize * spec.loops;
  const uint64_t last = spec.generation + spec.loops - 1;
  for (size_t i = 0; i < pages; ++i) {
    ++r.pages_checked;
    std::string bad = spec.profile->verify(base + i * kPageSize, i, last);
    if (bad.empty()) continue;
    if (!r.pages_bad++)
      std::snprintf(r.first_failure, sizeof r.first_failure, "worker %u: %s", index, bad.c_str());
  }
  write_all(report_fd, &r, sizeof r);
  close(report_fd);  // the parent's read sees the end once every worker has reported or died
  char c;
  while (::read(release_fd, &c, 1) < 0 && errno == EINTR) {
  }
  _exit(0);
}

std::string describe_status(pid_t pid, int status) {
  if (WIFSIGNALED(status))
    return "worker pid " + std::to_string(pid) + " killed by signal " + std::to_string(WTERMSIG(status)) +
           (WTERMSIG(status) == SIGKILL ? " (the OOM killer: the cgroup's limit with no swap room?)" : "");
  if (WIFEXITED(status) && WEXITSTATUS(status))
    return "worker pid " + std::to_string(pid) + " exited with status " + std::to_string(WEXITSTATUS(status));
  return "";
}

void read_reports(int fd, unsigned n, double t0, WorkersRun& run) {
  run.workers.resize(n);
  double last_end = t0;
  for (unsigned got = 0; got < n; ++got) {
    Report r{};
    ssize_t k;
    while ((k = ::read(fd, &r, sizeof r)) < 0 && errno == EINTR) {
    }
    if (k != static_cast<ssize_t>(sizeof r)) {
      run.error = std::to_string(n - got) + " of " + std::to_string(n) + " workers ended without a report";
      return;
    }
    if (r.error) {
      run.error = "worker " + std::to_string(r.index) + ": mmap failed: " + std::strerror(r.error);
      continue;
    }
    WorkerResult& w = run.workers.at(r.index);
    w = {r.elapsed_s, r.user_s, r.sys_s, r.bytes_written, r.pages_checked, r.pages_bad, r.first_failure};
    if (r.end_s > last_end) last_end = r.end_s;
  }
  run.real_s = last_end - t0;
}

}  // namespace

namespace {
template <class T>
T sum_of(const std::vector<WorkerResult>& ws, T WorkerResult::*field) {
  T s = 0;
  for (const auto& w : ws) s += w.*field;
  return s;
}
}  // namespace

double WorkersRun::user_s() const { return sum_of(workers, &WorkerResult::user_s); }
double WorkersRun::sys_s() const { return sum_of(workers, &WorkerResult::sys_s); }
uint64_t WorkersRun::bytes_written() const { return sum_of(workers, &WorkerResult::bytes_written); }
uint64_t WorkersRun::pages_bad() const { return sum_of(workers, &WorkerResult::pages_bad); }

WorkersRun run_workers(const WorkersSpec& spec, const std::function<void()>& after_fork,
                       const std::function<void()>& at_peak) {
  WorkersRun run;
  int rep[2], rel[2];
  if (pipe2(rep, O_CLOEXEC) != 0 || pipe2(rel, O_CLOEXEC) != 0) {
    run.error = std::string("pipe: ") + std::strerror(errno);
    return run;
  }
  std::vector<pid_t> pids;
  const double t0 = mono_s();
  for (uint32_t i = 0; i < spec.workers; ++i) {
    pid_t pid = fork();
    if (pid == 0) {
      close(rep[0]);
      close(rel[1]);
      worker(spec, i, rep[1], rel[0]);
    }
    if (pid < 0) {
      run.error = std::string("fork: ") + std::strerror(errno);
      break;
    }
    pids.push_back(pid);
  }
  close(rep[1]);
  close(rel[0]);
  after_fork();
  if (run.error.empty()) read_reports(rep[0], spec.workers, t0, run);
  if (run.error.empty()) at_peak();
  close(rel[1]);  // every worker's read returns 0: they exit
  close(rep[0]);
  for (pid_t pid : pids) {
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (std::string why = describe_status(pid, status); !why.empty() && run.error.empty()) run.error = why;
  }
  return run;
}

}  // namespace swapbench
