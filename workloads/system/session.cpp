#include "workloads/system/session.h"

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <iostream>

#include "workloads/diagnostics/crash_report.h"

// Sanitizer builds end a process from inside the sanitizer (report, then exit): its death callback
// is the one place left to have the machine restored.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define SWAPBENCH_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) || __has_feature(undefined_behavior_sanitizer)
#define SWAPBENCH_SANITIZED 1
#endif
#endif
#if defined(SWAPBENCH_SANITIZED) && defined(__has_include)
#if __has_include(<sanitizer/common_interface_defs.h>)
#include <sanitizer/common_interface_defs.h>
#define SWAPBENCH_DEATH_CALLBACK 1
#endif
#endif

namespace swapbench {

namespace {

std::atomic<bool> g_exit_requested{false};

const char* const kNeedsRoot =
    "restore needs root: it undoes swapon, zswap parameters, sysctls and cgroups; run it as root "
    "(as root: ./swapbench restore)";

bool real_machine(const SysOps& ops) { return ops.root().empty() || ops.root() == "/"; }

std::string without_trailing_slash(std::string d) {
  while (d.size() > 1 && d.back() == '/') d.pop_back();
  return d;
}

// Refused, not ignored: global kernel state has one lock and one journal per machine. A second
// state folder let a second run start during a first, and each then restored the other's values.
void require_machine_state_dir(const std::string& dir, const std::string& why) {
  if (without_trailing_slash(dir) == kMachineStateDir) return;
  throw SystemError(why + " keeps its lock and journal in " + kMachineStateDir + ", not " + dir +
                    ": global kernel state (swap areas, zswap, sysctls, cgroups) has one lock and one journal per "
                    "machine, whatever the environment says (unset SWAPBENCH_STATE_DIR)");
}

// Under the lock: a start killed before linking journal.new left a header and nothing recorded;
// one killed between the link and the unlink left the journal itself under a second name (which
// the journal's one-name check would refuse). Either way the temporary goes first.
std::unique_ptr<Journal> open_journal(const std::shared_ptr<StateDir>& dir, SysOps& ops) {
  dir->remove("journal.new");
  return std::make_unique<Journal>(dir, ops);
}

RestoreResult recover(Journal& j, std::vector<std::string>* log) {
  const int pid = j.writer_pid();
  RestoreResult r = j.restore_all_result();
  if (r.empty()) return r;
  log->push_back("restoring what an earlier run (PID " + (pid ? std::to_string(pid) : std::string("unknown")) +
                 ") left changed:");
  for (const auto& l : r.lines()) log->push_back("  " + l);
  return r;
}

// Every signal whose default action ends the process, except the synchronous crashes (handled
// below) and SIGPIPE (ignored: a closed output is a write error the writer reports).
sigset_t terminating_signals() {
  sigset_t s;
  sigemptyset(&s);
  for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGALRM, SIGVTALRM, SIGPROF, SIGXCPU,
                  SIGXFSZ, SIGIO, SIGSYS})
    sigaddset(&s, sig);
#ifdef SIGPWR
  sigaddset(&s, SIGPWR);
#endif
#ifdef SIGSTKFLT
  sigaddset(&s, SIGSTKFLT);
#endif
  for (int sig = SIGRTMIN; sig <= SIGRTMAX; ++sig) sigaddset(&s, sig);
  return s;
}

// ---- Crashes. A SIGSEGV (or a sanitizer's report) cannot wait for a thread: the process is
// broken. Its handler forks a child that waits for the process to be gone (its lock released, its
// threads stopped changing anything) and then execs `swapbench restore`. Only async-signal-safe
// calls on static data; the process still dies of its own signal (status and core as without us).
constexpr int kCrashSignals[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT};
struct sigaction g_old_crash[sizeof kCrashSignals / sizeof kCrashSignals[0]];
std::atomic<bool> g_crash_armed{false};
std::atomic<int> g_lock_fd{-1};
alignas(16) char g_alt_stack[64 * 1024];  // a stack overflow's SIGSEGV needs a stack to run on
bool g_own_alt_stack = false;

void say(const char* s) {
  if (::write(2, s, std::strlen(s)) < 0) {
  }
}

void restore_after_death() noexcept {
  if (!g_crash_armed.exchange(false)) return;  // once, and never after the session ended
  const pid_t parent = getpid();
  const int lock_fd = g_lock_fd.exchange(-1);
  // The raw system call: glibc's fork() runs atfork handlers, which are not safe in a crash.
  long child = syscall(SYS_clone, SIGCHLD, 0, 0, 0, 0);
  if (child == 0) {
    if (lock_fd >= 0) ::close(lock_fd);  // a copy of the lock would keep it held past the parent
    while (getppid() == parent) {
      struct timespec ts = {0, 10 * 1000 * 1000};
      nanosleep(&ts, nullptr);
    }
    static char a0[] = "swapbench", a1[] = "restore", e0[] = "PATH=/usr/sbin:/usr/bin:/sbin:/bin";
    char* argv[] = {a0, a1, nullptr};
    char* envp[] = {e0, nullptr};
    execve("/proc/self/exe", argv, envp);
    say("swapbench: could not start `swapbench restore` after the crash: run it by hand\n");
    _exit(127);
  }
  say(child > 0 ? "\nswapbench: crashed: `swapbench restore` runs as soon as this process has ended\n"
                : "\nswapbench: crashed and could not start a restore: run ./swapbench restore as root\n");
}

void on_crash(int sig, siginfo_t* info, void* ucontext) {
  g_exit_requested = true;
  // The restore first: the report walks a stack that may be what the crash broke, and a fault
  // inside it ends the process at once (SA_RESETHAND). The restore waits for the process to be
  // gone, so the report still describes the state the crash left.
  restore_after_death();
  write_crash_report(sig, info, ucontext);
  // SA_RESETHAND has put the default action back; raised again (blocked until this handler
  // returns), it ends the process even for a SIGSEGV sent by kill, which would not fault again.
  raise(sig);
}

#ifdef SWAPBENCH_DEATH_CALLBACK
void on_sanitizer_death() {
  g_exit_requested = true;
  restore_after_death();
}
#endif

void arm_crash_restore(int lock_fd) {
  stack_t old{};
  if (sigaltstack(nullptr, &old) == 0 && (old.ss_flags & SS_DISABLE)) {
    stack_t st{};
    st.ss_sp = g_alt_stack;
    st.ss_size = sizeof g_alt_stack;
    g_own_alt_stack = sigaltstack(&st, nullptr) == 0;
  }
  g_lock_fd = lock_fd;
  prepare_crash_report();
  struct sigaction sa {};
  sa.sa_sigaction = on_crash;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_SIGINFO | SA_RESETHAND | SA_ONSTACK;
  for (size_t i = 0; i < sizeof kCrashSignals / sizeof kCrashSignals[0]; ++i)
    sigaction(kCrashSignals[i], &sa, &g_old_crash[i]);
#ifdef SWAPBENCH_DEATH_CALLBACK
  __sanitizer_set_death_callback(on_sanitizer_death);
#endif
  g_crash_armed = true;
}

void disarm_crash_restore() {
  g_crash_armed = false;
#ifdef SWAPBENCH_DEATH_CALLBACK
  __sanitizer_set_death_callback(nullptr);
#endif
  for (size_t i = 0; i < sizeof kCrashSignals / sizeof kCrashSignals[0]; ++i)
    sigaction(kCrashSignals[i], &g_old_crash[i], nullptr);
  g_lock_fd = -1;
  if (g_own_alt_stack) {
    stack_t off{};
    off.ss_flags = SS_DISABLE;
    sigaltstack(&off, nullptr);
    g_own_alt_stack = false;
  }
}

void print_failures(const RestoreResult& r) {
  for (const auto& l : r.lines())
    if (l.rfind("FAILED", 0) == 0 || l.rfind("warning", 0) == 0) std::cerr << "swapbench: " << l << "\n";
  if (!r.success())
    std::cerr << "swapbench: the next run and ./swapbench restore (as root) try the failed ones again\n";
}

}  // namespace

std::string state_dir() {
  const char* e = std::getenv("SWAPBENCH_STATE_DIR");
  const std::string env = e && *e ? e : "";
  if (geteuid() != 0) return env.empty() ? kMachineStateDir : env;
  if (!env.empty()) require_machine_state_dir(env, "a run as root (SWAPBENCH_STATE_DIR=" + env + ")");
  return kMachineStateDir;
}

bool exit_requested() { return g_exit_requested.load(); }

Session::Session(SysOps& ops, const std::string& dir) : ops_(ops), real_machine_(real_machine(ops)) {
  if (real_machine_) {
    if (geteuid() != 0)
      throw SystemError("changing swap areas, zswap parameters, sysctls and cgroups needs root (as root: ./swapbench run)");
    require_machine_state_dir(dir, "a run");
  }
  dir_ = StateDir::open(dir, true);
  lock_ = std::make_unique<RunLock>(*dir_);
  journal_ = open_journal(dir_, ops_);
  RestoreResult r = recover(*journal_, &recovered_);
  if (r.journal_refused)
    throw SystemError(r.failed.front() + "\nno run starts until it is dealt with: a journal swapbench wrote is a "
                                         "regular file of root's, mode 0600, in " + dir_->path());
  if (!r.success()) {
    std::string msg = "an earlier run's changes could not all be undone:";
    for (const auto& f : r.failed) msg += "\n  FAILED: " + f;
    throw SystemError(msg +
                      "\nno run starts on top of them (it would take the changed values as the originals to give "
                      "back). Undo them by hand (the commands above), then run ./swapbench restore as root: it "
                      "tries again, shows what still fails one last time and retires it. Then start the run again.");
  }
  // SIGPIPE ignored: `run | head` must not end the process with the machine changed; the write
  // fails with EPIPE instead, which the writer reports.
  signal(SIGPIPE, SIG_IGN);
  // Signals are read by one thread through a signalfd, so the restore runs in ordinary code (not
  // in an async-signal handler) while the main thread may be anywhere. Blocked here, before any
  // other thread exists, so every later thread inherits the mask. An eventfd, not a signal, ends
  // the thread: every signal is the user's to send.
  sigset_t s = terminating_signals();
  pthread_sigmask(SIG_BLOCK, &s, &old_mask_);
  signal_fd_ = signalfd(-1, &s, SFD_CLOEXEC);
  stop_fd_ = eventfd(0, EFD_CLOEXEC);
  if (signal_fd_ < 0 || stop_fd_ < 0) {
    int err = errno;
    if (signal_fd_ >= 0) ::close(signal_fd_);
    if (stop_fd_ >= 0) ::close(stop_fd_);
    pthread_sigmask(SIG_SETMASK, &old_mask_, nullptr);
    throw SystemError(std::string("cannot watch for signals (signalfd/eventfd): ") + std::strerror(err));
  }
  signals_ = std::thread([this] { watch_signals(); });
  // Only on the real machine: the restore a crash starts is `swapbench restore` of this machine.
  if (real_machine_) arm_crash_restore(lock_->fd());
}

void Session::watch_signals() {
  pollfd p[2] = {{signal_fd_, POLLIN, 0}, {stop_fd_, POLLIN, 0}};
  int sig = 0;
  while (sig == 0) {
    if (poll(p, 2, -1) < 0) continue;  // EINTR (nothing here is unblocked, but a debugger may)
    if (p[1].revents) return;          // the session ended normally
    signalfd_siginfo si{};
    if ((p[0].revents & POLLIN) && ::read(signal_fd_, &si, sizeof si) == static_cast<ssize_t>(sizeof si))
      sig = static_cast<int>(si.ssi_signo);
  }
  g_exit_requested = true;
  std::cerr << "\nswapbench: " << strsignal(sig) << ": restoring the machine before exiting\n";
  journal_->seal_for_exit();
  RestoreResult r = journal_->restore_all_result();
  for (const auto& l : r.lines()) std::cerr << "  " << l << "\n";
  if (!r.success()) std::cerr << "swapbench: run ./swapbench restore as root to try the failed ones again\n";
  _exit(128 + sig);
}

Session::~Session() {
  // Restored while the signal thread still watches: a signal now waits for this restore (the
  // journal's lock), then finds nothing left and exits with its status.
  print_failures(journal_->restore_all_result());
  uint64_t one = 1;
  if (::write(stop_fd_, &one, sizeof one) != static_cast<ssize_t>(sizeof one)) {
  }
  signals_.join();
  if (real_machine_) disarm_crash_restore();
  ::close(signal_fd_);
  ::close(stop_fd_);
  pthread_sigmask(SIG_SETMASK, &old_mask_, nullptr);
}

RestoreResult restore_leftovers_result(SysOps& ops, const std::string& dir) {
  if (real_machine(ops)) {
    if (geteuid() != 0) throw SystemError(kNeedsRoot);
    require_machine_state_dir(dir, "restore");
  }
  RestoreResult r;
  const auto sd = StateDir::open(dir, false);  // refused (SystemError, with the fix) when unsafe
  if (!sd) {  // no run ever borrowed this machine
    r.ok.push_back("nothing to restore: no run left changes behind");
    return r;
  }
  RunLock lock(*sd);
  auto j = open_journal(sd, ops);
  std::vector<std::string> head;
  r = recover(*j, &head);
  if (!head.empty()) r.ok.insert(r.ok.begin(), head.front());
  if (r.journal_refused) {
    r.warnings.push_back("the journal was not retired: it is not one swapbench wrote (a swapbench journal is a "
                         "regular file of root's, mode 0600); remove it by hand once you know what it is");
  } else if (!r.success()) {
    // Retired: shown now with the commands that undo them by hand, kept in retired.log (0600, like
    // everything in the folder), never tried again (an impossible entry would otherwise fail every
    // later run and restore). The lines hold no text of the journal's that is not ours.
    const std::string log = sd->where("retired.log");
    std::time_t now = std::time(nullptr);
    char when[32];
    std::strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", std::localtime(&now));
    std::string text = std::string("# ") + when + ": swapbench restore could not undo these; they are not tried again\n";
    for (const auto& f : r.failed) text += "FAILED: " + f + "\n";
    std::string why;
    try {
      int fd = sd->open_file("retired.log", O_WRONLY | O_APPEND | O_CREAT);
      const bool ok = fd >= 0 && ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) &&
                      fsync(fd) == 0;
      if (!ok) why = std::strerror(errno);
      if (fd >= 0) ::close(fd);
      if (ok) sd->remove("journal");
    } catch (const SystemError& e) {
      why = e.what();
    }
    if (why.empty())
      r.warnings.push_back("what failed above is not tried again (undo it by hand); it is kept in " + log);
    else
      r.warnings.push_back("cannot retire " + j->file() + " into " + log + ": " + why +
                           "; the next run and restore try again");
  }
  if (r.empty()) r.ok.push_back("nothing to restore: no run left changes behind");
  return r;
}

std::vector<std::string> restore_leftovers(SysOps& ops, const std::string& dir) {
  RestoreResult r = restore_leftovers_result(ops, dir);
  if (r.success()) return r.lines();
  // Thrown, so a caller that only prints lines (and exits 1 on an exception) still fails.
  std::string all;
  for (const auto& l : r.lines()) all += "\n" + l;
  throw SystemError("not everything could be restored:" + all);
}

}  // namespace swapbench
