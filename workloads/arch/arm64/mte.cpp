#include "workloads/arch/arm64/mte.h"

#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ostream>

#ifndef HWCAP2_MTE
#define HWCAP2_MTE (1 << 18)
#endif
#ifndef PROT_MTE
#define PROT_MTE 0x20
#endif
#ifndef PR_SET_TAGGED_ADDR_CTRL
#define PR_SET_TAGGED_ADDR_CTRL 55
#define PR_TAGGED_ADDR_ENABLE (1UL << 0)
#endif
#ifndef PR_MTE_TCF_NONE
#define PR_MTE_TCF_NONE 0UL
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

namespace {
uint64_t splitmix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}
}  // namespace

uint8_t mte_expected_tag(uint64_t seed, size_t page, size_t granule) {
  const uint64_t h = splitmix64(splitmix64(seed ^ 0x4d5445ULL) ^ (static_cast<uint64_t>(page) << 12) ^ granule);
  return static_cast<uint8_t>(1 + h % 15);
}

TagCheck check_tags(const uint8_t* found, size_t pages, size_t page_size, uint64_t seed, size_t max_reported) {
  TagCheck c;
  const size_t per_page = page_size / kMteGranule;
  for (size_t p = 0; p < pages; ++p) {
    bool page_bad = false;
    for (size_t g = 0; g < per_page; ++g) {
      const unsigned want = mte_expected_tag(seed, p, g), got = found[p * per_page + g];
      ++c.checked;
      if (want == got) continue;
      ++c.wrong;
      page_bad = true;
      if (c.first.size() < max_reported) c.first.push_back({p, g, want, got});
    }
    c.pages_wrong += page_bad;
  }
  return c;
}

std::string describe(const TagMismatch& m, size_t page_size) {
  char b[160];
  std::snprintf(b, sizeof b, "page %zu granule %zu (offset 0x%zx): expected tag 0x%x, found 0x%x", m.page, m.granule,
                m.page * page_size + m.granule * kMteGranule, m.expected, m.found);
  return b;
}

#if defined(__aarch64__)
// STG and LDG as their encodings with x0 fixed: no -march=armv8.5-a+memtag for the build (which
// would let the compiler use v8.5 instructions anywhere in the file, on CPUs that may lack them),
// and they run only after mte_available().
namespace {
inline void stg(uintptr_t tagged) {
  register uintptr_t x0 asm("x0") = tagged;
  asm volatile(".inst 0xd9200800  // stg x0, [x0]" ::"r"(x0) : "memory");
}
inline unsigned ldg(uintptr_t addr) {
  register uintptr_t x0 asm("x0") = addr;
  asm volatile(".inst 0xd9600000  // ldg x0, [x0]" : "+r"(x0)::"memory");
  return static_cast<unsigned>((x0 >> 56) & 0xf);
}
}  // namespace

namespace {
// Checks off: explicit, because a libc tunable (glibc.mem.tagging) can switch them on.
bool checks_off(std::string* why) {
  if (prctl(PR_SET_TAGGED_ADDR_CTRL, PR_TAGGED_ADDR_ENABLE | PR_MTE_TCF_NONE, 0, 0, 0) == 0) return true;
  if (why) *why = std::string("prctl(PR_SET_TAGGED_ADDR_CTRL): ") + std::strerror(errno);
  return false;
}
}  // namespace

void* mte_map(size_t bytes, std::string* why) {
  if (!mte_available(why) || !checks_off(why)) return nullptr;
  void* p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE | PROT_MTE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) {
    if (why) *why = std::string("mmap(PROT_MTE): ") + std::strerror(errno);
    return nullptr;
  }
  return p;
}

bool mte_protect(void* base, size_t bytes, std::string* why) {
  if (!mte_available(why) || !checks_off(why)) return false;
  if (mprotect(base, bytes, PROT_READ | PROT_WRITE | PROT_MTE) == 0) return true;
  if (why) *why = std::string("mprotect(PROT_MTE): ") + std::strerror(errno);
  return false;
}

void mte_write_tags(void* region, size_t pages, size_t page_size, uint64_t seed) {
  const auto base = reinterpret_cast<uintptr_t>(region);
  const size_t per_page = page_size / kMteGranule;
  for (size_t p = 0; p < pages; ++p)
    for (size_t g = 0; g < per_page; ++g)
      stg((base + p * page_size + g * kMteGranule) | (static_cast<uintptr_t>(mte_expected_tag(seed, p, g)) << 56));
}

void mte_set_tag(void* granule, unsigned tag) {
  stg(reinterpret_cast<uintptr_t>(granule) | (static_cast<uintptr_t>(tag & 0xf) << 56));
}

void mte_read_tags(const void* region, size_t pages, size_t page_size, uint8_t* out) {
  const auto base = reinterpret_cast<uintptr_t>(region);
  const size_t n = pages * (page_size / kMteGranule);
  for (size_t i = 0; i < n; ++i) out[i] = static_cast<uint8_t>(ldg(base + i * kMteGranule));
}
#else
void* mte_map(size_t, std::string* why) {
  mte_available(why);
  return nullptr;
}
bool mte_protect(void*, size_t, std::string* why) { return mte_available(why); }
// Unreachable without a mapping from mte_map(); they do nothing rather than pretend.
void mte_write_tags(void*, size_t, size_t, uint64_t) {}
void mte_set_tag(void*, unsigned) {}
void mte_read_tags(const void*, size_t, size_t, uint8_t*) {}
#endif

TagCheck mte_check_region(const void* region, size_t pages, size_t page_size, uint64_t seed, size_t max_reported) {
  std::vector<uint8_t> found(pages * (page_size / kMteGranule));
  mte_read_tags(region, pages, page_size, found.data());
  return check_tags(found.data(), pages, page_size, seed, max_reported);
}

MteSelftest mte_selftest(size_t pages, uint64_t seed) {
  MteSelftest r;
  r.pages = pages;
  const size_t page_size = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  if (!mte_available(&r.why)) return r;
  // From here MTE is there: a mapping that fails is a failed gate (nothing checked), not a skip.
  r.ran = true;
  void* m = mte_map(pages * page_size, &r.why);
  if (!m) return r;
  mte_write_tags(m, pages, page_size, seed);
  r.check = mte_check_region(m, pages, page_size, seed);
  munmap(m, pages * page_size);
  return r;
}

int mte_gate_command(size_t pages, std::ostream& out) {
  const uint64_t seed = 0x4d54452d67617465ULL;  // fixed: the same tags in every boot, for comparable reports
  const MteSelftest t = mte_selftest(pages, seed);
  if (!t.ran) {
    out << "mte-selftest: skip: " << t.why << "\n";
    return 77;
  }
  const size_t page_size = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  if (t.passed()) {
    out << "mte-selftest: pass: " << t.check.checked << " granules of " << pages
        << " PROT_MTE pages read back the random tags written (STG, then LDG), before any swap\n";
    return 0;
  }
  if (t.check.checked == 0) {
    out << "mte-selftest: FAIL: MTE is advertised but unusable: " << t.why << "\n";
    return 1;
  }
  out << "mte-selftest: FAIL: " << t.check.wrong << " of " << t.check.checked << " granules (" << t.check.pages_wrong
      << " of " << pages << " pages) read back a wrong tag before any swap: this CPU or emulator does not keep "
      << "MTE tags, so no tagged result from it means anything\n";
  for (const auto& m : t.check.first) out << "  " << describe(m, page_size) << "\n";
  return 1;
}

}  // namespace swapbench
