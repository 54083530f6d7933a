// arm64 Memory Tagging Extension: the only architecture-specific code, fenced here and behind a
// runtime capability check (a kernel and CPU may be arm64 without MTE).
//
// Two halves. Tags as data (which tag each granule should carry, and the comparison of what was
// read back) are portable and unit-tested on any host. The hardware half (PROT_MTE mappings, STG to
// set a granule's tag, LDG to read it) exists only on aarch64 and only does anything after
// mte_available(); elsewhere its functions fail with the reason.
#pragma once
#include <cstddef>
#include <cstdint>
#include <iosfwd>
#include <string>
#include <vector>

namespace swapbench {

// true when this process may map PROT_MTE memory; else *why says what is missing and how to fix.
bool mte_available(std::string* why);

// ---- tags as data ----------------------------------------------------------------------------
inline constexpr size_t kMteGranule = 16;  // bytes per allocation tag (the architecture's)

// The tag granule `granule` of page `page` carries in a region generated from `seed`: 1..15, never
// 0. A tag the kernel loses comes back as 0 (what a fresh or untagged granule reads), so it can
// never match by chance.
uint8_t mte_expected_tag(uint64_t seed, size_t page, size_t granule);

struct TagMismatch {
  size_t page = 0;
  size_t granule = 0;  // within its page
  unsigned expected = 0;
  unsigned found = 0;
};

struct TagCheck {
  size_t checked = 0;  // granules compared
  size_t wrong = 0;
  size_t pages_wrong = 0;
  std::vector<TagMismatch> first;  // the first mismatches, in address order (at most max_reported)
};

// found: one byte per granule (the tag read back), pages * page_size / kMteGranule of them, in
// address order.
TagCheck check_tags(const uint8_t* found, size_t pages, size_t page_size, uint64_t seed,
                    size_t max_reported = 16);
// "page 12 granule 34 (offset 0xc220): expected tag 0x5, found 0x0"
std::string describe(const TagMismatch& m, size_t page_size);

// ---- the hardware (aarch64 with HWCAP2_MTE) --------------------------------------------------
// Anonymous PROT_MTE memory, tag checks off for the process (PR_MTE_TCF_NONE): the suite reads tags
// with LDG and compares them, so a wrong tag is a named failure rather than a SIGSEGV mid-run, and
// the page data (stamps) stays readable through untagged pointers. nullptr with *why on failure.
void* mte_map(size_t bytes, std::string* why);
// Makes [base, base + bytes) of an existing anonymous mapping PROT_MTE (mprotect; checks off as in
// mte_map). Before the pages are first touched, so each is tagged from its first fault. false + why.
bool mte_protect(void* base, size_t bytes, std::string* why);
// Sets every granule's tag of [region, region + pages * page_size) to mte_expected_tag(seed, ...).
void mte_write_tags(void* region, size_t pages, size_t page_size, uint64_t seed);
// One granule's tag (tests: a wrong tag the check must name).
void mte_set_tag(void* granule, unsigned tag);
// Reads every granule's tag (LDG) into out (pages * page_size / kMteGranule bytes).
void mte_read_tags(const void* region, size_t pages, size_t page_size, uint8_t* out);

// The tags of [region, region + pages * page_size) read back and compared with seed's.
TagCheck mte_check_region(const void* region, size_t pages, size_t page_size, uint64_t seed, size_t max_reported = 16);

// The gate: before any swap, tags written to a fresh PROT_MTE region must read back unchanged.
// QEMU before 8.0 fails this in system mode (tags alias across a page's granules), and so would any
// emulator or CPU that does not store tags: then nothing measured with tags would mean anything.
struct MteSelftest {
  bool ran = false;   // false: MTE unavailable (why says so)
  std::string why;
  size_t pages = 0;
  TagCheck check;
  bool passed() const { return ran && check.wrong == 0 && check.checked > 0; }
};
MteSelftest mte_selftest(size_t pages, uint64_t seed);

// `swapbench mte-selftest`: the gate's verdict on out; exit 0 pass, 1 tags wrong (or MTE advertised
// but unusable), 77 MTE unavailable (skipped, with the reason and a fix).
int mte_gate_command(size_t pages, std::ostream& out);

}  // namespace swapbench
