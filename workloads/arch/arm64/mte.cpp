#include "workloads/arch/arm64/mte.h"

#include <sys/auxv.h>
#include <sys/utsname.h>

#ifndef HWCAP2_MTE
#define HWCAP2_MTE (1 << 18)
#endif

namespace swapbench {

bool mte_available(std::string* why) {
#if defined(__aarch64__)
  if (getauxval(AT_HWCAP2) & HWCAP2_MTE) return true;
  if (why) *why = "MTE unavailable: HWCAP2_MTE not set (needs an MTE CPU and CONFIG_ARM64_MTE; under QEMU >= 8.0: -M virt,mte=on -cpu max)";
  return false;
#else
  utsname u;
  uname(&u);
  if (why) *why = std::string("MTE unavailable: this is ") + u.machine + ", not arm64 (MTE runs natively on MTE hardware or in an arm64 QEMU guest)";
  return false;
#endif
}

}  // namespace swapbench
