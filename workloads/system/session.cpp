#include "workloads/system/session.h"

#include <pthread.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <iostream>

namespace swapbench {

std::string state_dir() {
  const char* e = std::getenv("SWAPBENCH_STATE_DIR");
  return e && *e ? e : "/var/lib/swapbench";
}

namespace {

void ensure_dir(const std::string& d) {
  if (mkdir(d.c_str(), 0755) != 0 && errno != EEXIST)
    throw SystemError("cannot create the state folder " + d + ": " + std::strerror(errno) +
                      " (set SWAPBENCH_STATE_DIR to a writable folder)");
}

std::vector<std::string> recover(Journal& j) {
  if (j.pending().empty()) return {};
  std::vector<std::string> log = {"restoring what an earlier run (PID " + std::to_string(j.writer_pid()) +
                                  ") left changed:"};
  for (auto& l : j.restore_all()) log.push_back("  " + l);
  return log;
}

sigset_t handled_signals(bool with_quit) {
  sigset_t s;
  sigemptyset(&s);
  sigaddset(&s, SIGINT);
  sigaddset(&s, SIGTERM);
  sigaddset(&s, SIGHUP);
  if (with_quit) sigaddset(&s, SIGUSR2);
  return s;
}

}  // namespace

Session::Session(SysOps& ops, const std::string& dir) : ops_(ops) {
  ensure_dir(dir);
  lock_ = std::make_unique<RunLock>(dir + "/lock");
  journal_ = std::make_unique<Journal>(dir + "/journal", ops_);
  recovered_ = recover(*journal_);
  // Signals are taken by one thread with sigwait, so the restore runs in ordinary code (not in an
  // async-signal handler) while the main thread may be anywhere. Blocked here, before any other
  // thread exists, so every later thread inherits the mask.
  sigset_t s = handled_signals(true);
  pthread_sigmask(SIG_BLOCK, &s, nullptr);
  Journal* j = journal_.get();
  signals_ = std::thread([j] {
    sigset_t w = handled_signals(true);
    int sig = 0;
    sigwait(&w, &sig);
    if (sig == SIGUSR2) return;  // the session ended normally
    std::cerr << "\nswapbench: " << strsignal(sig) << ": restoring the machine before exiting\n";
    j->seal_for_exit();
    for (auto& l : j->restore_all()) std::cerr << "  " << l << "\n";
    _exit(128 + sig);
  });
}

Session::~Session() {
  pthread_kill(signals_.native_handle(), SIGUSR2);
  signals_.join();
  for (auto& l : journal_->restore_all())
    if (l.rfind("FAILED", 0) == 0) std::cerr << "swapbench: " << l << "\n";
  sigset_t s = handled_signals(true);
  pthread_sigmask(SIG_UNBLOCK, &s, nullptr);
}

std::vector<std::string> restore_leftovers(SysOps& ops, const std::string& dir) {
  ensure_dir(dir);
  RunLock lock(dir + "/lock");
  Journal j(dir + "/journal", ops);
  auto log = recover(j);
  if (log.empty()) log.push_back("nothing to restore: no run left changes behind");
  return log;
}

}  // namespace swapbench
