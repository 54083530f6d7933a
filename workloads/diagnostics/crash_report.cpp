#include "workloads/diagnostics/crash_report.h"

#include <elf.h>
#include <execinfo.h>
#include <link.h>
#include <pthread.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

#include <cstdint>
#include <cstring>
#include <thread>

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define SWAPBENCH_CRASH_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define SWAPBENCH_CRASH_SANITIZED 1
#endif
#endif

namespace swapbench {

namespace {

// Found once by prepare_crash_report(), read by the handler: plain static data, no allocation.
uintptr_t g_base = 0, g_lo = 0, g_hi = 0;  // load bias and mapped extent of the binary
char g_build_id[41] = "";
char g_exe[256] = "";
bool g_prepared = false;

// One line at a time in a fixed buffer, written with one write(2): lines of two threads crashing at
// once may interleave, but never inside a line.
class Out {
 public:
  Out& s(const char* t) {
    while (t && *t && n_ < sizeof b_ - 1) b_[n_++] = *t++;
    return *this;
  }
  Out& hex(uintptr_t v) {
    char t[19];
    int i = sizeof t;
    do {
      t[--i] = "0123456789abcdef"[v & 15];
      v >>= 4;
    } while (v && i > 2);
    t[--i] = 'x';
    t[--i] = '0';
    for (; i < static_cast<int>(sizeof t); ++i) put(t[i]);
    return *this;
  }
  Out& dec(long v) {
    if (v < 0) {
      put('-');
      v = -v;
    }
    char t[20];
    int i = sizeof t;
    do {
      t[--i] = static_cast<char>('0' + v % 10);
      v /= 10;
    } while (v && i > 0);
    for (; i < static_cast<int>(sizeof t); ++i) put(t[i]);
    return *this;
  }
  // Without the newline: backtrace_symbols_fd() finishes a line of a frame outside the binary.
  void flush() {
    const char* p = b_;
    while (n_ > 0) {
      ssize_t w = ::write(2, p, n_);
      if (w <= 0) break;
      p += w;
      n_ -= static_cast<size_t>(w);
    }
    n_ = 0;
  }
  void line() {
    put('\n');
    flush();
  }

 private:
  void put(char c) {
    if (n_ < sizeof b_ - 1) b_[n_++] = c;
  }
  char b_[512];
  size_t n_ = 0;
};

int find_binary(dl_phdr_info* info, size_t, void*) {
  // The first object is the program itself.
  g_base = info->dlpi_addr;
  for (int i = 0; i < info->dlpi_phnum; ++i) {
    const ElfW(Phdr)& ph = info->dlpi_phdr[i];
    const uintptr_t a = info->dlpi_addr + ph.p_vaddr;
    if (ph.p_type == PT_LOAD) {
      if (!g_lo || a < g_lo) g_lo = a;
      if (a + ph.p_memsz > g_hi) g_hi = a + ph.p_memsz;
    } else if (ph.p_type == PT_NOTE) {
      // Notes: namesz, descsz, type, then name and desc, each padded to 4 bytes.
      const auto* p = reinterpret_cast<const unsigned char*>(a);
      const unsigned char* end = p + ph.p_memsz;
      while (p + sizeof(ElfW(Nhdr)) <= end) {
        const auto* nh = reinterpret_cast<const ElfW(Nhdr)*>(p);
        const unsigned char* name = p + sizeof *nh;
        const unsigned char* desc = name + ((nh->n_namesz + 3) & ~3u);
        if (nh->n_type == NT_GNU_BUILD_ID && nh->n_namesz == 4 && std::memcmp(name, "GNU", 4) == 0) {
          for (unsigned k = 0; k < nh->n_descsz && 2 * k + 2 < sizeof g_build_id; ++k) {
            g_build_id[2 * k] = "0123456789abcdef"[desc[k] >> 4];
            g_build_id[2 * k + 1] = "0123456789abcdef"[desc[k] & 15];
          }
        }
        p = desc + ((nh->n_descsz + 3) & ~3u);
      }
    }
  }
  return 1;
}

uintptr_t pc_of(const void* ucontext) {
  if (!ucontext) return 0;
  const auto* uc = static_cast<const ucontext_t*>(ucontext);
#if defined(__x86_64__)
  return static_cast<uintptr_t>(uc->uc_mcontext.gregs[REG_RIP]);
#elif defined(__aarch64__)
  return static_cast<uintptr_t>(uc->uc_mcontext.pc);
#else
  (void)uc;
  return 0;
#endif
}

// The kernel's reason for the signal: whether an address was unmapped or protected, or the signal
// came from another process (a kill, not a fault: then the address means nothing).
const char* code_name(int sig, int code) {
  if (code == SI_USER) return "SI_USER: sent by a process (kill), not a fault";
  if (code == SI_TKILL) return "SI_TKILL: sent by tgkill/raise, not a fault";
  if (code == SI_QUEUE) return "SI_QUEUE: sent by sigqueue, not a fault";
  if (sig == SIGSEGV && code == SEGV_MAPERR) return "SEGV_MAPERR: address not mapped";
  if (sig == SIGSEGV && code == SEGV_ACCERR) return "SEGV_ACCERR: no permission for the access";
  if (sig == SIGBUS && code == BUS_ADRERR) return "BUS_ADRERR: no such physical address (or a failed page read)";
  if (sig == SIGBUS && code == BUS_OBJERR) return "BUS_OBJERR: object-specific hardware error";
  if (sig == SIGBUS && code == BUS_ADRALN) return "BUS_ADRALN: misaligned address";
  return "";
}

void write_frame(Out& o, int k, void* const* frame) {
  const auto a = reinterpret_cast<uintptr_t>(*frame);
  o.s("swapbench:   #").dec(k).s(" ");
  if (a >= g_lo && a < g_hi) {
    o.s("swapbench+").hex(a - g_base).s(" [").hex(a).s("]").line();
  } else {
    o.flush();
    backtrace_symbols_fd(frame, 1, 2);  // no allocation, unlike backtrace_symbols()
  }
}

void on_crash_signal(int sig, siginfo_t* info, void* ucontext) {
  write_crash_report(sig, info, ucontext);
  // SA_RESETHAND put the default action back; raised again, it ends the process even for a
  // SIGSEGV sent by kill, which would not fault again on return.
  raise(sig);
}

}  // namespace

void prepare_crash_report() {
  if (g_prepared) return;
  void* warm[2];
  backtrace(warm, 2);
  dl_iterate_phdr(find_binary, nullptr);
  ssize_t n = readlink("/proc/self/exe", g_exe, sizeof g_exe - 1);
  g_exe[n > 0 ? n : 0] = '\0';
  g_prepared = true;
}

void write_crash_report(int sig, const siginfo_t* info, const void* ucontext) noexcept {
  const uintptr_t pc = pc_of(ucontext);
  Out o;
  o.s("\n").s(kCrashReportBegin).s(" SIG").s(sigabbrev_np(sig)).s(" (").s(sigdescr_np(sig)).s(")");
  if (info) {
    o.s(", code ").dec(info->si_code);
    if (*code_name(sig, info->si_code)) o.s(" (").s(code_name(sig, info->si_code)).s(")");
    if (info->si_code <= 0) o.s(" from PID ").dec(info->si_pid);
    else o.s(", fault address ").hex(reinterpret_cast<uintptr_t>(info->si_addr));
  }
  o.line();
  char name[17] = "";
  prctl(PR_GET_NAME, name, 0, 0, 0);
  o.s("swapbench: crash report: thread ").dec(syscall(SYS_gettid)).s(" (").s(name).s(") of process ").dec(getpid());
  if (pc) {
    o.s(", pc ").hex(pc);
    if (pc >= g_lo && pc < g_hi) o.s(" (swapbench+").hex(pc - g_base).s(")");
  }
  o.line();
  if (!g_prepared) {
    o.s("swapbench: crash report: no backtrace (the report was not prepared at start)").line();
  } else {
    o.s("swapbench: crash report: binary ").s(g_exe).s(" build ID ").s(*g_build_id ? g_build_id : "(none)");
    o.s("; name the swapbench+OFFSET frames with addr2line -C -f -e <this binary> OFFSET").line();
    void* frames[64];
    const int n = backtrace(frames, 64);
    // The handler's own frames come first: start at the faulting instruction when it is found.
    int first = 0;
    for (int i = 0; i < n; ++i)
      if (reinterpret_cast<uintptr_t>(frames[i]) == pc) {
        first = i;
        break;
      }
    for (int i = first; i < n; ++i) write_frame(o, i - first, &frames[i]);
  }
  o.s(kCrashReportEnd).line();
}

void install_crash_report() {
  prepare_crash_report();
#ifndef SWAPBENCH_CRASH_SANITIZED
  // The main thread's overflow of its stack faults with no stack left to report on: give the
  // handler one of its own (a Session then keeps this one instead of setting up another).
  alignas(16) static char alt[64 * 1024];
  stack_t st{};
  st.ss_sp = alt;
  st.ss_size = sizeof alt;
  sigaltstack(&st, nullptr);
  struct sigaction sa {};
  sa.sa_sigaction = on_crash_signal;
  sigemptyset(&sa.sa_mask);
  // SA_ONSTACK: the alternate stack above (a stack overflow's SIGSEGV).
  sa.sa_flags = SA_SIGINFO | SA_RESETHAND | SA_ONSTACK;
  for (int sig : {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT}) sigaction(sig, &sa, nullptr);
#endif
}

namespace {
__attribute__((noinline)) int read_unmapped() {
  // A low address no program maps (mmap_min_addr keeps page 0 unmapped), read through a volatile
  // so the compiler neither sees a constant null-page access nor drops the read.
  volatile uintptr_t where = 0x5b;
  return *reinterpret_cast<volatile int*>(where);
}

// Its own frame under the faulting one (the value used after the call: no tail call), so a test
// can check a caller is named from its return address too.
__attribute__((noinline)) void selftest_thread() {
  pthread_setname_np(pthread_self(), "sb-crash-test");
  const int v = read_unmapped();
  asm volatile("" ::"r"(v));
}
}  // namespace

void crash_on_purpose() {
  std::thread t(selftest_thread);
  t.join();
  _exit(1);  // not reached: the read above ends the process
}

}  // namespace swapbench
