#include "workloads/pages/page_profile.h"

#include <fcntl.h>
#include <lz4.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <fstream>
#include <iterator>
#include <sstream>
#include <stdexcept>

#include "workloads/pages/stamp.h"

namespace swapbench {

namespace {

struct SplitMix {
  uint64_t s;
  uint64_t next() {
    uint64_t z = (s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
};

SplitMix rng_for(uint64_t index, uint64_t generation, uint64_t salt) {
  return SplitMix{index * 0x100000001b3ull ^ (generation << 40) ^ salt};
}

void fill_random(uint8_t* p, size_t n, SplitMix& r) {
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t w = r.next();
    std::memcpy(p + i, &w, 8);
  }
  for (; i < n; ++i) p[i] = static_cast<uint8_t>(r.next());
}

// A vocabulary of kernel-log-like words: text pages compress the way logs and source do.
const char* const kWords[] = {
    "the", "page", "swap", "entry", "folio", "memory", "cgroup", "reclaim", "writeback", "zswap", "pool",
    "compress", "kernel", "fault", "mapping", "anon", "slot", "offset", "cache", "lock", "tree", "node",
    "error", "warning", "info", "debug", "pid", "task", "cpu", "time", "read", "write", "block", "device",
    "request", "queue", "inode", "file", "buffer", "return", "struct", "unsigned", "long", "int", "void",
    "static", "if", "else", "for", "while", "and", "of", "to", "in", "is", "on", "at", "with", "from"};

void fill_text(uint8_t* p, size_t n, SplitMix& r) {
  size_t i = 0;
  const size_t nwords = sizeof kWords / sizeof kWords[0];
  while (i < n) {
    uint64_t x = r.next();
    const char* w = kWords[x % nwords];
    size_t len = std::strlen(w);
    for (size_t k = 0; k < len && i < n; ++k) p[i++] = static_cast<uint8_t>(w[k]);
    if (i < n) p[i++] = (x >> 32) % 13 == 0 ? '\n' : ((x >> 40) % 7 == 0 ? ',' : ' ');
    if ((x >> 48) % 17 == 0 && i + 6 < n) {  // numbers, as in logs
      int len2 = std::snprintf(reinterpret_cast<char*>(p + i), 7, "%u ", static_cast<unsigned>((x >> 8) % 100000));
      i += static_cast<size_t>(len2);
    }
  }
}

// Ratio pages: K random bytes, then a 64-byte row repeated. The row varies per page so pages are
// not same-filled; its repetition costs the compressor almost nothing, so the compressed size is
// about K plus the stamp.
void fill_ratio(uint8_t* p, size_t n, size_t random_bytes, SplitMix& r) {
  size_t k = std::min(random_bytes, n);
  fill_random(p, k, r);
  uint8_t row[64];
  fill_text(row, sizeof row, r);
  for (size_t i = k; i < n; ++i) p[i] = row[(i - k) % sizeof row];
}

}  // namespace

uint64_t same_word(uint64_t index, uint64_t generation) {
  // Low byte fixed (0xa5) so a write fault can store a known byte; the rest names page and generation.
  return 0xa5ull | (0x5aull << 8) | ((index & 0xffffffffull) << 16) | ((generation & 0xffffull) << 48);
}

std::string ProfileSpec::name() const {
  switch (kind) {
    case ProfileKind::Random: return "random";
    case ProfileKind::Text: return "text";
    case ProfileKind::Zero: return "zero";
    case ProfileKind::Same: return "same";
    case ProfileKind::File: return "file:" + path;
    case ProfileKind::Ratio: {
      std::ostringstream o;
      o << "ratio" << ratio;
      return o.str();
    }
  }
  return "?";
}

std::string profile_forms() { return "random, text, ratio2, ratio3, ratio4 (any ratioN with 1 < N <= 16), zero, same, file:PATH"; }

ProfileSpec parse_profile(const std::string& t) {
  ProfileSpec s;
  if (t == "random") s.kind = ProfileKind::Random;
  else if (t == "text") s.kind = ProfileKind::Text;
  else if (t == "zero") s.kind = ProfileKind::Zero;
  else if (t == "same") s.kind = ProfileKind::Same;
  else if (t.rfind("file:", 0) == 0 && t.size() > 5) {
    s.kind = ProfileKind::File;
    s.path = t.substr(5);
  } else if (t.rfind("ratio", 0) == 0) {
    s.kind = ProfileKind::Ratio;
    try {
      size_t used = 0;
      s.ratio = std::stod(t.substr(5), &used);
      if (used != t.size() - 5) throw std::invalid_argument("trailing");
    } catch (const std::exception&) {
      throw std::invalid_argument("profile '" + t + "': not a number after 'ratio'; accepted: " + profile_forms());
    }
    if (!(s.ratio > 1.0 && s.ratio <= 16.0))
      throw std::invalid_argument("profile '" + t + "': ratio must be in (1, 16]; accepted: " + profile_forms());
  } else {
    throw std::invalid_argument("unknown profile '" + t + "'; accepted: " + profile_forms());
  }
  return s;
}

double lz4_ratio_of_page(const uint8_t* page) {
  char out[LZ4_COMPRESSBOUND(kPageSize)];
  int n = LZ4_compress_default(reinterpret_cast<const char*>(page), out, kPageSize, sizeof out);
  return n > 0 ? double(kPageSize) / n : 1.0;
}

MeasuredRatio measure_ratio(const uint8_t* pages, size_t count, size_t max_pages) {
  MeasuredRatio m;
  size_t step = count > max_pages ? count / max_pages : 1;
  size_t in = 0, out_lz4 = 0, out_zstd = 0;
  std::vector<char> buf(ZSTD_compressBound(kPageSize) + LZ4_COMPRESSBOUND(kPageSize));
  for (size_t i = 0; i < count; i += step) {
    const char* p = reinterpret_cast<const char*>(pages + i * kPageSize);
    int n4 = LZ4_compress_default(p, buf.data(), kPageSize, static_cast<int>(buf.size()));
    // zstd level 1: the level the kernel's zswap uses by default for zstd.
    size_t nz = ZSTD_compress(buf.data(), buf.size(), p, kPageSize, 1);
    out_lz4 += n4 > 0 ? static_cast<size_t>(n4) : kPageSize;
    out_zstd += ZSTD_isError(nz) ? kPageSize : nz;
    in += kPageSize;
    ++m.pages;
  }
  m.lz4 = out_lz4 ? double(in) / out_lz4 : 0;
  m.zstd = out_zstd ? double(in) / out_zstd : 0;
  return m;
}

PageProfile::PageProfile(const ProfileSpec& spec) : spec_(spec) {
  if (spec_.kind == ProfileKind::File) {
    const std::string accepted = "; accepted: a regular, readable file of at least one page (4096 bytes)";
    // O_NONBLOCK: opening a FIFO must not wait for a writer; fstat on what was opened, not on the
    // name, so the file checked is the file read. /dev/zero or /dev/urandom would "read" as endless
    // pages of no file at all, a FIFO or a terminal would wait for ever.
    const int fd = ::open(spec_.path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
    if (fd < 0)
      throw std::invalid_argument("profile file '" + spec_.path + "' cannot be read: " + std::strerror(errno) + accepted);
    struct stat st {};
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
      const std::string what = S_ISDIR(st.st_mode) ? "a folder" : S_ISCHR(st.st_mode) ? "a character device"
                             : S_ISBLK(st.st_mode) ? "a block device" : S_ISFIFO(st.st_mode) ? "a FIFO" : "not a regular file";
      ::close(fd);
      throw std::invalid_argument("profile file '" + spec_.path + "' is " + what + accepted);
    }
    // At most 64 MiB is kept: pages beyond it repeat the file from the start.
    file_.resize(std::min<size_t>(64u << 20, static_cast<size_t>(st.st_size)));
    size_t got = 0;
    while (got < file_.size()) {
      const ssize_t n = ::read(fd, file_.data() + got, file_.size() - got);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      got += static_cast<size_t>(n);
    }
    ::close(fd);
    file_.resize(got);
    if (file_.size() < kPageSize)
      throw std::invalid_argument("profile file '" + spec_.path + "' is shorter than one page" +
                                  (st.st_size == 0 ? " (empty)" : "") + accepted);
    file_.resize(file_.size() / kPageSize * kPageSize);
  }
  if (spec_.kind == ProfileKind::Ratio) {
    // Calibrate the incompressible share against lz4 on sample pages (bisection): a fixed share
    // would miss the target by the compressor's framing overhead, which matters at 4:1.
    size_t lo = 0, hi = kPageSize;
    std::vector<uint8_t> page(kPageSize);
    for (int it = 0; it < 14 && lo + 1 < hi; ++it) {
      random_bytes_ = (lo + hi) / 2;
      double sum = 0;
      for (uint64_t i = 0; i < 8; ++i) {
        fill(page.data(), i, 1);
        sum += lz4_ratio_of_page(page.data());
      }
      if (sum / 8 > spec_.ratio) lo = random_bytes_;
      else hi = random_bytes_;
    }
    random_bytes_ = lo;
  }
}

void PageProfile::fill(uint8_t* page, uint64_t index, uint64_t generation) const {
  SplitMix r = rng_for(index, generation, static_cast<uint64_t>(spec_.kind) + 1);
  uint8_t* body = page + kStampBytes;
  const size_t n = kPageSize - kStampBytes;
  switch (spec_.kind) {
    case ProfileKind::Random: fill_random(body, n, r); break;
    case ProfileKind::Text: fill_text(body, n, r); break;
    case ProfileKind::Ratio: fill_ratio(body, n, random_bytes_ > kStampBytes ? random_bytes_ - kStampBytes : 0, r); break;
    case ProfileKind::File: {
      size_t off = (index * kPageSize) % file_.size();
      std::memcpy(body, file_.data() + off + kStampBytes, n);
      break;
    }
    case ProfileKind::Zero: std::memset(page, 0, kPageSize); return;
    case ProfileKind::Same: {
      uint64_t w = same_word(index, generation);
      for (size_t i = 0; i < kPageSize; i += 8) std::memcpy(page + i, &w, 8);
      return;
    }
  }
  write_stamp(page, index, generation);
}

std::string PageProfile::verify(const uint8_t* page, uint64_t index, uint64_t generation) const {
  if (stamped()) {
    auto m = verify_stamp(page, index, generation);
    return m ? m->describe() : std::string();
  }
  uint64_t want = spec_.kind == ProfileKind::Zero ? 0 : same_word(index, generation);
  for (size_t i = 0; i < kPageSize; i += 8) {
    uint64_t w;
    std::memcpy(&w, page + i, 8);
    if (w != want) {
      std::ostringstream o;
      o << "page " << index << " at 0x" << std::hex << reinterpret_cast<uintptr_t>(page) << ": "
        << spec_.name() << " page differs at byte " << std::dec << i << "; expected word 0x" << std::hex << want
        << ", found 0x" << w;
      return o.str();
    }
  }
  return {};
}

uint8_t PageProfile::first_byte() const {
  if (spec_.kind == ProfileKind::Zero) return 0;
  if (spec_.kind == ProfileKind::Same) return 0xa5;
  return static_cast<uint8_t>(kStampMagic & 0xff);
}

}  // namespace swapbench
