// A region of anonymous pages driven out to swap and faulted back in, page by page, under a clock.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "workloads/arch/marker.h"
#include "workloads/measure/timer.h"
#include "workloads/pages/page_profile.h"
#include "workloads/pages/stamp.h"

namespace swapbench {

enum class Pattern { Sequential, Random, Strided };
std::string to_string(Pattern p);
Pattern parse_pattern(const std::string& s);  // throws std::invalid_argument naming the accepted forms

// Visit order of the pages. Strided visits every page: 0, s, 2s, ... then 1, 1+s, ...; the stride
// (16 pages = 64 KiB) skips past any readahead window of page-cluster <= 4.
std::vector<uint32_t> make_order(Pattern p, size_t pages, uint64_t seed, size_t stride = 16);

class Region {
 public:
  // THP off unless asked: a huge page would be split or swapped whole, and either way the
  // per-4KiB-fault figure would no longer mean what it says.
  Region(size_t pages, bool thp = false);
  ~Region();
  Region(const Region&) = delete;
  Region& operator=(const Region&) = delete;

  uint8_t* page(size_t i) const { return base_ + i * kPageSize; }
  size_t pages() const { return pages_; }

  void fill(const PageProfile& p, uint64_t generation);
  // Pages mincore reports resident: mapped, or in the swap cache.
  size_t resident() const;
  // MADV_PAGEOUT of the whole region in one call; returns errno or 0.
  int pageout_all();
  // One timed fault on page i (inline: this is the timed loop's body), timed with
  // sample_open/sample_close (workloads/measure/timer.h: the TSC or arm64 counter where usable). write: a store of
  // `write_byte` at offset 0, the byte already there, so the page stays as it was; a read fault
  // maps the page without dirtying it. inject_ns: a busy-wait added inside the sample
  // (calibration). It waits on the clock from the read that ends an ordinary sample, so it adds
  // inject_ns plus at most one clock read whatever speed the CPU runs at. (A counted loop was
  // tried: on a 2-vCPU cloud VM its speed changed 1.8x from one run to the next, a busy
  // hyperthread sibling's doing, so the delay it added could not be known.)
  // Marks::On: the access sits between START and STOP markers (workloads/arch/marker.h), inside
  // the clock reads, so a counted guest counts the fault and not the clock or the busy-wait; on
  // hardware they are two NOPs in the timed window. Marks::Off for accesses that are not a set's
  // operations (the harness-overhead loop, a writeback set's swap-in afterwards): every START/STOP
  // pair executed is an operation of the current set's report.
  enum class Marks { On, Off };
  // `known`: the calibrate-exact suite's known work (marker.h known_work), run inside the window.
  uint64_t timed_fault(size_t i, bool write, uint8_t write_byte, uint64_t inject_ns = 0,
                       Marks marks = Marks::On, KnownWork known = nullptr) const {
    volatile uint8_t* p = page(i);
    uint64_t t0 = sample_open();
    if (marks == Marks::On) marker_start();
    if (write) *p = write_byte;
    else (void)*p;
    if (known) known();
    if (marks == Marks::On) marker_stop();
    uint64_t t1 = sample_close();
    if (inject_ns) {
      const uint64_t end = t1 + ns_to_ticks(inject_ns);
      do t1 = sample_close();
      while (t1 < end);
    }
    // In ticks until here: one conversion per sample, outside the window.
    return ticks_to_ns(t1 - t0);
  }
  // One page pushed out by MADV_PAGEOUT, timed with the syscall, which alone sits between START and
  // STOP markers (a set's operation: a swap-out, or a writeback trigger); returns errno or 0.
  int timed_pageout(size_t i, uint64_t& ns) const;
  // Checks every page; returns the first `max_reported` failures, counts all in `bad`.
  std::vector<std::string> verify(const PageProfile& p, uint64_t generation, size_t max_reported, size_t& bad) const;

 private:
  uint8_t* base_ = nullptr;
  size_t pages_ = 0;
};

}  // namespace swapbench
