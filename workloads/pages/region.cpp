#include "workloads/pages/region.h"

#include <sys/mman.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <numeric>
#include <random>
#include <stdexcept>

#include "workloads/arch/marker.h"
#include "workloads/measure/timer.h"

#ifndef MADV_PAGEOUT
#define MADV_PAGEOUT 21
#endif

namespace swapbench {

std::string to_string(Pattern p) {
  switch (p) {
    case Pattern::Sequential: return "seq";
    case Pattern::Random: return "random";
    case Pattern::Strided: return "strided";
  }
  return "?";
}

Pattern parse_pattern(const std::string& s) {
  if (s == "seq" || s == "sequential") return Pattern::Sequential;
  if (s == "random" || s == "rand") return Pattern::Random;
  if (s == "strided" || s == "stride") return Pattern::Strided;
  throw std::invalid_argument("unknown pattern '" + s + "'; accepted: seq, random, strided");
}

std::vector<uint32_t> make_order(Pattern p, size_t pages, uint64_t seed, size_t stride) {
  std::vector<uint32_t> o;
  o.reserve(pages);
  if (p == Pattern::Strided) {
    stride = std::max<size_t>(1, std::min(stride, pages));
    for (size_t start = 0; start < stride; ++start)
      for (size_t i = start; i < pages; i += stride) o.push_back(static_cast<uint32_t>(i));
    return o;
  }
  o.resize(pages);
  std::iota(o.begin(), o.end(), 0u);
  if (p == Pattern::Random) std::shuffle(o.begin(), o.end(), std::mt19937_64(seed));
  return o;
}

Region::Region(size_t pages, bool thp) : pages_(pages) {
  if (pages == 0) throw std::invalid_argument("a region needs at least one page");
  void* p = mmap(nullptr, pages * kPageSize, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) throw std::runtime_error(std::string("mmap of the region failed: ") + std::strerror(errno));
  base_ = static_cast<uint8_t*>(p);
  madvise(base_, pages * kPageSize, thp ? MADV_HUGEPAGE : MADV_NOHUGEPAGE);
}

Region::~Region() {
  if (base_) munmap(base_, pages_ * kPageSize);
}

void Region::fill(const PageProfile& prof, uint64_t generation) {
  for (size_t i = 0; i < pages_; ++i) prof.fill(page(i), i, generation);
}

size_t Region::resident() const {
  std::vector<unsigned char> v(pages_);
  if (mincore(base_, pages_ * kPageSize, v.data()) != 0) return pages_;
  size_t n = 0;
  for (unsigned char c : v) n += c & 1;
  return n;
}

int Region::pageout_all() { return madvise(base_, pages_ * kPageSize, MADV_PAGEOUT) == 0 ? 0 : errno; }

int Region::timed_pageout(size_t i, uint64_t& ns) const {
  uint64_t t0 = sample_open();
  marker_start();
  int rc = madvise(page(i), kPageSize, MADV_PAGEOUT);
  marker_stop();
  ns = ticks_to_ns(sample_close() - t0);
  return rc == 0 ? 0 : errno;
}

std::vector<std::string> Region::verify(const PageProfile& prof, uint64_t generation, size_t max_reported,
                                        size_t& bad) const {
  std::vector<std::string> out;
  bad = 0;
  for (size_t i = 0; i < pages_; ++i) {
    std::string m = prof.verify(page(i), i, generation);
    if (m.empty()) continue;
    ++bad;
    if (out.size() < max_reported) out.push_back(m);
  }
  return out;
}

}  // namespace swapbench
