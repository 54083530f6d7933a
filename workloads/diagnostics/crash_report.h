// What a crash of this binary leaves in its log: the signal and its cause, the faulting address, the
// program counter, the thread, and a backtrace. Frames inside this binary are printed as
// "swapbench+0xOFFSET" (an offset into the ELF file), which `addr2line -C -f -e <the same binary>`
// turns into a function name without debug information; a guest's binary is a copy of the host's,
// so the host names them (kernels-config/kmatrix/crash.py). Written to stderr, which a guest's run
// sends to the console and its log, so a crash that happens once in a CI run can still be found.
#pragma once
#include <signal.h>

namespace swapbench {

// The first line of every report and its last: what a reader (or kmatrix) looks for.
constexpr const char* kCrashReportBegin = "swapbench: crash report:";
constexpr const char* kCrashReportEnd = "swapbench: end of crash report";

// Call once, early, in ordinary code: backtrace()'s first call loads the unwinder (it allocates,
// which a crash handler must not), and the binary's load address and build ID are found here.
void prepare_crash_report();

// Async-signal-safe (write(2), static buffers, backtrace() once prepared): call it first in a
// handler installed with SA_SIGINFO, with the handler's arguments.
void write_crash_report(int sig, const siginfo_t* info, const void* ucontext) noexcept;

// A handler for the crash signals (SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT) for the whole process:
// reports, then dies of the same signal (status and core as without it). A Session replaces it while
// it holds the machine with one that also starts a restore (workloads/system/session.cpp). Not in
// sanitizer builds: the sanitizer's own report of a SEGV names the frames already.
void install_crash_report();

// The hidden `crash-selftest` verb: a read of an unmapped address from a thread named like the race's
// writeback thread, so a test can check the report names the address, the thread and this function.
[[noreturn]] void crash_on_purpose();

}  // namespace swapbench
