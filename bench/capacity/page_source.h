// Where capacity planning's pages come from, read without changing their owner:
// - a live process: its present anonymous pages (private, including copy-on-write pages of
//   private file mappings) and present shared-memory pages, found in /proc/PID/maps and
//   /proc/PID/pagemap, read with process_vm_readv. Swapped-out pages are counted but never read
//   (reading would fault them back in); reading a present page only sets its accessed bit;
// - a cgroup: every process listed in its cgroup.procs (only read);
// - a raw file, read page by page;
// - an ELF core dump: the file contents of its PT_LOAD segments.
// Each source is one stratum of the sample: pages are drawn at random within each source, in
// proportion to its size (stratified sampling, seeded), so a small process is not missed by
// chance and every estimate can be scaled back per source.
#pragma once
#include <cstdint>
#include <optional>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

namespace swapbench::capacity {

// Bad input (a pid that does not exist, a file that is not an ELF core, no permission): the
// message names the input and what is needed; the verb exits 2.
struct InputError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct PageRef {
  uint64_t where;  // address in the process, or offset in the file
};

struct Source {
  std::string kind;   // "pid", "file", "core"
  std::string label;  // "pid 1234 (postgres)", the path
  int pid = 0;
  std::string path;
  // pid: one entry per present page; file/core: (offset, bytes) extents, expanded on demand.
  std::vector<uint64_t> pages;
  std::vector<std::pair<uint64_t, uint64_t>> extents;
  uint64_t anon_pages = 0, shmem_pages = 0, swapped_pages = 0;  // pid only
  uint64_t population() const;
  uint64_t page_at(uint64_t i) const;  // the i-th page's address or offset
};

// Parsers, pure so the unit tests can feed them fixtures.
struct MapsEntry {
  uint64_t start, end;
  std::string perms, path;
  // From /proc/PID/smaps (absent when read from maps): the kB present and swapped out. They let a
  // mapping with nothing in it be skipped, and a scan stop once everything in it was seen: a
  // mapping can reserve terabytes (sanitizer shadows, JVM and Go heaps) and pagemap costs 8 bytes
  // per page of address space, present or not.
  std::optional<uint64_t> rss_kb, swap_kb;
  bool shared() const { return perms.size() > 3 && perms[3] == 's'; }
};
std::vector<MapsEntry> parse_maps(const std::string& text);
// Whether a mapping's present pages that pagemap marks "file or shared-anon" are shared memory
// (tmpfs/shm/memfd/shared anonymous): those are what swap would take; other file pages are not.
bool is_shmem_mapping(const MapsEntry& e);
// Mappings never read: the kernel's special ones ([vvar], [vdso], [vsyscall]).
bool is_special_mapping(const MapsEntry& e);
// The PT_LOAD segments with file contents of an ELF64 little-endian core: (offset, bytes).
// Throws InputError naming path if it is not one.
std::vector<std::pair<uint64_t, uint64_t>> elf_core_loads(const std::string& path);
// cgroup.procs of a cgroup folder (v1 or v2). Throws InputError if there is none.
std::vector<int> cgroup_pids(const std::string& dir);

Source open_pid(int pid);
Source open_file(const std::string& path);
Source open_core(const std::string& path);

// Reads the page (4096 bytes) of source at ref into out. Throws InputError if the process is gone
// or no longer lets us read; a page unmapped between pagemap and the read is returned as false.
class PageReader {
 public:
  bool read(const Source& s, uint64_t where, uint8_t* out);
  ~PageReader();

 private:
  int fd_ = -1;
  std::string fd_path_;
};

// Coldness as the kernel's reclaim sees it, read without changing anything: the page's frame
// from /proc/PID/pagemap (root sees frame numbers), then its flags in /proc/kpageflags (KPF_LRU,
// KPF_ACTIVE, KPF_REFERENCED, KPF_UNEVICTABLE). On the classic two-list LRU the inactive anon
// list is what reclaim swaps first. The alternatives all change state first (soft-dirty:
// clear_refs write-protects the process's pages; idle page tracking: sets idle bits machine-wide;
// DAMON: clears the accessed bits of the target's page tables), so they are not used on a process
// the suite does not own.
enum class LruState : uint8_t { unknown = 0, active = 1, inactive_referenced = 2, inactive = 3, off_lru = 4 };
// Pure: the state from a kpageflags word (Documentation/admin-guide/mm/pagemap.rst bit numbers).
LruState lru_state_of(uint64_t kpageflags);
// Pure: the frame number of a pagemap entry, or 0 (not present, or hidden from the reader).
uint64_t pfn_of(uint64_t pagemap_entry);

class LruProbe {
 public:
  LruProbe();  // opens /proc/kpageflags if readable; available() says whether it is
  ~LruProbe();
  LruProbe(const LruProbe&) = delete;
  LruProbe& operator=(const LruProbe&) = delete;
  bool available() const { return kpf_ >= 0; }
  const std::string& why_not() const { return why_; }
  // The state of the page at addr of pid now (unknown when it cannot be told).
  LruState state(int pid, uint64_t addr);

 private:
  int kpf_ = -1, pm_ = -1, pm_pid_ = 0;
  std::string why_;
};

struct Stratum {
  std::size_t source;
  uint64_t population, sampled;
};

// Proportional allocation of n over the sources' populations (largest remainders, at least one
// page from every non-empty source while n allows), then a simple random sample without
// replacement within each. n >= total (or n == 0 meaning all) takes every page.
std::vector<Stratum> allocate(const std::vector<uint64_t>& populations, uint64_t n);
std::vector<uint64_t> sample_indices(uint64_t population, uint64_t k, std::mt19937_64& rng);  // sorted

}  // namespace swapbench::capacity
