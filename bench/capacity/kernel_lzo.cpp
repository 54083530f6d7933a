#include "bench/capacity/kernel_lzo.h"

#include <algorithm>
#include <cstring>

namespace swapbench::capacity {
namespace {

// lib/lzo/lzodefs.h
constexpr std::size_t M2_MAX_LEN = 8, M3_MAX_LEN = 33, M4_MAX_LEN = 9;
constexpr std::size_t M2_MAX_OFFSET = 0x0800, M3_MAX_OFFSET = 0x4000;
constexpr std::size_t M4_MAX_OFFSET_V0 = 0xbfff, M4_MAX_OFFSET_V1 = 0xbffe;
constexpr uint8_t M3_MARKER = 32, M4_MARKER = 16;
constexpr uint32_t MIN_ZERO_RUN_LENGTH = 4, MAX_ZERO_RUN_LENGTH = 2047 + MIN_ZERO_RUN_LENGTH;
constexpr unsigned D_BITS = 13;
constexpr uint32_t D_SIZE = 1u << D_BITS, D_MASK = D_SIZE - 1;

inline uint32_t le32(const uint8_t* p) { uint32_t v; std::memcpy(&v, p, 4); return v; }  // x86-64/arm64: little endian
inline uint64_t le64(const uint8_t* p) { uint64_t v; std::memcpy(&v, p, 8); return v; }
inline void put_le32(uint8_t* p, uint32_t v) { std::memcpy(p, &v, 4); }

// The literals ii..ii+t before a match or zero run. Short runs are copied 4 or 16 bytes at a time,
// past their end, as the kernel does: the next instruction overwrites the excess.
void emit_literals(uint8_t*& op, const uint8_t* ii, std::size_t t, signed char state_offset) {
  if (t <= 3) {
    op[state_offset] |= static_cast<uint8_t>(t);
    std::memcpy(op, ii, 4);
    op += t;
  } else if (t <= 16) {
    *op++ = static_cast<uint8_t>(t - 3);
    std::memcpy(op, ii, 16);
    op += t;
  } else {
    if (t <= 18) {
      *op++ = static_cast<uint8_t>(t - 3);
    } else {
      std::size_t tt = t - 18;
      *op++ = 0;
      while (tt > 255) { tt -= 255; *op++ = 0; }
      *op++ = static_cast<uint8_t>(tt);
    }
    std::memcpy(op, ii, t);
    op += t;
  }
}

// The length of the zero run at ip (its first 4 bytes known zero), capped at the longest one
// instruction holds. The kernel scans in 32- then 8-byte steps; the result is the length of the
// zero run from ip, capped at limit, which is what this byte loop computes.
uint32_t zero_run_length(const uint8_t* ip, const uint8_t* ip_end) {
  const uint8_t* ir = ip + 4;
  const uint8_t* limit = std::min(ip_end, ip + MAX_ZERO_RUN_LENGTH + 1);
  while (ir < limit && *ir == 0) ir++;
  return std::min(static_cast<uint32_t>(ir - ip), MAX_ZERO_RUN_LENGTH);
}

// How far the match at m_pos runs on from ip (4 bytes known equal), 8 bytes at a time: a match that
// runs into the block's last 20 bytes stops at the step that reached them.
std::size_t match_length(const uint8_t* ip, const uint8_t* m_pos, const uint8_t* ip_end) {
  std::size_t m_len = 4;
  uint64_t v = le64(ip + m_len) ^ le64(m_pos + m_len);
  if (v == 0) {
    do {
      m_len += 8;
      v = le64(ip + m_len) ^ le64(m_pos + m_len);
      if (ip + m_len >= ip_end) return m_len;
    } while (v == 0);
  }
  return m_len + static_cast<unsigned>(__builtin_ctzll(v)) / 8;
}

// A match of m_len bytes m_off back, in the shortest instruction that holds it (M2, M3, M4). ip
// is past the match; lzo-rle may shorten the match, and moves ip back with it.
void emit_match(uint8_t*& op, const uint8_t*& ip, std::size_t m_len, std::size_t m_off, uint8_t version) {
  if (m_len <= M2_MAX_LEN && m_off <= M2_MAX_OFFSET) {
    m_off -= 1;
    *op++ = static_cast<uint8_t>(((m_len - 1) << 5) | ((m_off & 7) << 2));
    *op++ = static_cast<uint8_t>(m_off >> 3);
    return;
  }
  if (m_off <= M3_MAX_OFFSET) {
    m_off -= 1;
    if (m_len <= M3_MAX_LEN) {
      *op++ = static_cast<uint8_t>(M3_MARKER | (m_len - 2));
    } else {
      m_len -= M3_MAX_LEN;
      *op++ = M3_MARKER | 0;
      while (m_len > 255) { m_len -= 255; *op++ = 0; }
      *op++ = static_cast<uint8_t>(m_len);
    }
  } else {
    m_off -= 0x4000;
    if (m_len <= M4_MAX_LEN) {
      *op++ = static_cast<uint8_t>(M4_MARKER | ((m_off >> 11) & 8) | (m_len - 2));
    } else {
      if ((m_off & 0x403f) == 0x403f && m_len >= 261 && m_len <= 264 && version) {
        // lzo-rle: these lengths at this distance would read back as a zero run.
        ip -= m_len - 260;
        m_len = 260;
      }
      m_len -= M4_MAX_LEN;
      *op++ = static_cast<uint8_t>(M4_MARKER | ((m_off >> 11) & 8));
      while (m_len > 255) { m_len -= 255; *op++ = 0; }
      *op++ = static_cast<uint8_t>(m_len);
    }
  }
  *op++ = static_cast<uint8_t>(m_off << 2);
  *op++ = static_cast<uint8_t>(m_off >> 6);
}

// lzo1x_1_do_compress for one block of at most m4_max_offset + 1 bytes, as built for x86-64 and
// arm64 (LZO_USE_CTZ64, LZO_FAST_64BIT_MEMORY_ACCESS): the match-length loop's 8-byte steps decide
// where a match that runs into the block's last 20 bytes stops, so the build variant matters.
void do_compress(const uint8_t* in, std::size_t in_len, uint8_t*& op, std::size_t& tp, uint16_t* dict,
                 signed char& state_offset, uint8_t version) {
  const uint8_t* const ip_end = in + in_len - 20;
  const uint8_t* ip = in;
  const uint8_t* ii = ip;
  std::size_t ti = tp;
  ip += ti < 4 ? 4 - ti : 0;

  for (;;) {
    const uint8_t* m_pos = nullptr;
    uint32_t run_length = 0;
  literal:
    ip += 1 + ((ip - ii) >> 5);
  next:
    if (ip >= ip_end) break;
    const uint32_t dv = le32(ip);
    if (dv == 0 && version) {
      run_length = zero_run_length(ip, ip_end);
    } else {
      const std::size_t h = ((dv * 0x1824429du) >> (32 - D_BITS)) & D_MASK;
      m_pos = in + dict[h];
      dict[h] = static_cast<uint16_t>(ip - in);
      if (dv != le32(m_pos)) goto literal;
    }

    ii -= ti;
    ti = 0;
    if (const std::size_t t = ip - ii; t != 0) emit_literals(op, ii, t, state_offset);

    if (run_length) {
      ip += run_length;
      run_length -= MIN_ZERO_RUN_LENGTH;
      put_le32(op, (run_length << 21) | 0xfffc18 | (run_length & 0x7));
      op += 4;
      run_length = 0;  // the loop reuses it: a stale value would emit a second, bogus run
      state_offset = -3;
      ii = ip;
      goto next;
    }

    const std::size_t m_len = match_length(ip, m_pos, ip_end);
    const std::size_t m_off = ip - m_pos;
    ip += m_len;
    emit_match(op, ip, m_len, m_off, version);
    state_offset = -2;
    ii = ip;
    goto next;
  }
  tp = (in + in_len) - (ii - ti);
}

}  // namespace

std::size_t kernel_lzo1x_1_compress(const uint8_t* in, std::size_t in_len, std::vector<uint8_t>& out,
                                    LzoStream stream) {
  // Worst case from include/linux/lzo.h (lzo1x_worst_compress) plus the 16-byte over-copies.
  out.resize(in_len + in_len / 16 + 64 + 3 + 2 + 32);
  const uint8_t version = static_cast<uint8_t>(stream);
  uint8_t* const out0 = out.data();
  uint8_t* op = out0;
  const uint8_t* ip = in;
  std::size_t l = in_len, t = 0;
  signed char state_offset = -2;
  std::size_t m4_max_offset;
  static thread_local uint16_t dict[D_SIZE];

  if (version > 0) {
    // Version 0 never starts with 17 except for empty input: the kernel marks the stream with it.
    *op++ = 17;
    *op++ = version;
    m4_max_offset = M4_MAX_OFFSET_V1;
  } else {
    m4_max_offset = M4_MAX_OFFSET_V0;
  }
  uint8_t* const data_start = op;

  while (l > 20) {
    std::size_t ll = std::min(l, m4_max_offset + 1);
    std::memset(dict, 0, sizeof dict);
    do_compress(ip, ll, op, t, dict, state_offset, version);
    ip += ll;
    l -= ll;
  }
  t += l;

  if (t > 0) {
    const uint8_t* ii = in + in_len - t;
    if (op == data_start && t <= 238) {
      *op++ = static_cast<uint8_t>(17 + t);
    } else if (t <= 3) {
      op[state_offset] |= static_cast<uint8_t>(t);
    } else if (t <= 18) {
      *op++ = static_cast<uint8_t>(t - 3);
    } else {
      std::size_t tt = t - 18;
      *op++ = 0;
      while (tt > 255) { tt -= 255; *op++ = 0; }
      *op++ = static_cast<uint8_t>(tt);
    }
    std::memcpy(op, ii, t);
    op += t;
  }
  *op++ = M4_MARKER | 1;
  *op++ = 0;
  *op++ = 0;
  return static_cast<std::size_t>(op - out0);
}

namespace {

constexpr int LZO_E_OK = 0, LZO_E_ERROR = -1, LZO_E_INPUT_OVERRUN = -4, LZO_E_OUTPUT_OVERRUN = -5,
              LZO_E_LOOKBEHIND_OVERRUN = -6, LZO_E_INPUT_NOT_CONSUMED = -8;
// What comes after an instruction (the LZO_E_* codes, all negative, stop the stream): the next
// instruction, the 0-3 literals its low bits announced, or the end of the stream.
constexpr int kNextInstruction = 1, kTrailingLiterals = 2, kEndOfStream = 3;

// Follows lib/lzo/lzo1x_decompress_safe.c without its unaligned fast paths (which only change
// speed, never the output) so every read and write is bounds-checked. The kernel's function is one
// loop of gotos; here each of its instructions is a function, and the loop in run() is its spine.
class Decoder {
 public:
  Decoder(const uint8_t* in, std::size_t in_len, uint8_t* out, std::size_t out_len)
      : ip_(in), ip_end_(in + in_len), out_(out), op_(out), op_end_(out + out_len), in_len_(in_len) {}
  std::size_t written() const { return static_cast<std::size_t>(op_ - out_); }

  int run() {
    if (in_len_ < 3) return LZO_E_INPUT_OVERRUN;
    if (in_len_ >= 5 && *ip_ == 17) {
      version_ = ip_[1];
      ip_ += 2;
    }
    int step = kNextInstruction;
    if (*ip_ > 17) {
      t_ = *ip_++ - 17;
      if (t_ < 4) {
        next_ = t_;
        step = kTrailingLiterals;
      } else {
        step = literal_run();
      }
    }
    for (;;) {
      if (step == kNextInstruction) step = instruction();
      if (step == kTrailingLiterals) step = trailing_literals();
      if (step == kEndOfStream) return end_of_stream();
      if (step < 0) return step;
    }
  }

 private:
  bool have_ip(std::size_t x) const { return static_cast<std::size_t>(ip_end_ - ip_) >= x; }
  bool have_op(std::size_t x) const { return static_cast<std::size_t>(op_end_ - op_) >= x; }

  // A long length: zero bytes each worth 255, then a byte, added to t with base. 0 on success,
  // else the error to return.
  int long_length(std::size_t base) {
    // Counting zero bytes of a long length: cap as the kernel does so the sum cannot overflow.
    const std::size_t max_255_count = (static_cast<std::size_t>(~0) / 255) - 2;
    const uint8_t* ip_last = ip_;
    if (!have_ip(1)) return LZO_E_INPUT_OVERRUN;
    while (*ip_ == 0) {
      ip_++;
      if (!have_ip(1)) return LZO_E_INPUT_OVERRUN;
    }
    std::size_t offset = ip_ - ip_last;
    if (offset > max_255_count) return LZO_E_ERROR;
    offset = (offset << 8) - offset;
    t_ += offset + base + *ip_++;
    return 0;
  }

  int instruction() {
    if (!have_ip(1)) return LZO_E_INPUT_OVERRUN;
    t_ = *ip_++;
    if (t_ < 16) return low_instruction();
    if (t_ >= 64) return m2_match();
    if (t_ >= 32) return m3_match();
    return m4_match_or_zero_run();
  }

  // 0-15: a literal run at the start or after a match, else a short match whose meaning depends on
  // what came before (state: the literals copied after the last match).
  int low_instruction() {
    if (state_ == 0) {
      if (t_ == 0)
        if (int e = long_length(15)) return e;
      t_ += 3;
      return literal_run();
    }
    next_ = t_ & 3;
    if (!have_ip(1)) return LZO_E_INPUT_OVERRUN;
    if (state_ != 4) {  // a 2-byte match right after 1-3 trailing literals
      m_pos_ = op_ - 1;
      m_pos_ -= t_ >> 2;
      m_pos_ -= static_cast<std::size_t>(*ip_++) << 2;
      if (m_pos_ < out_) return LZO_E_LOOKBEHIND_OVERRUN;
      if (!have_op(2)) return LZO_E_OUTPUT_OVERRUN;
      op_[0] = m_pos_[0];
      op_[1] = m_pos_[1];
      op_ += 2;
      return kTrailingLiterals;
    }
    // a 3-byte match right after a literal run of 4 or more
    m_pos_ = op_ - (1 + M2_MAX_OFFSET);
    m_pos_ -= t_ >> 2;
    m_pos_ -= static_cast<std::size_t>(*ip_++) << 2;
    t_ = 3;
    return copy_match();
  }

  int literal_run() {
    if (!have_op(t_)) return LZO_E_OUTPUT_OVERRUN;
    if (!have_ip(t_ + 3)) return LZO_E_INPUT_OVERRUN;
    std::memcpy(op_, ip_, t_);
    op_ += t_;
    ip_ += t_;
    state_ = 4;
    return kNextInstruction;
  }

  int m2_match() {
    next_ = t_ & 3;
    if (!have_ip(1)) return LZO_E_INPUT_OVERRUN;
    m_pos_ = op_ - 1;
    m_pos_ -= (t_ >> 2) & 7;
    m_pos_ -= static_cast<std::size_t>(*ip_++) << 3;
    t_ = (t_ >> 5) - 1 + (3 - 1);
    return copy_match();
  }

  int m3_match() {
    t_ = (t_ & 31) + (3 - 1);
    if (t_ == 2)
      if (int e = long_length(31)) return e;
    if (!have_ip(2)) return LZO_E_INPUT_OVERRUN;
    m_pos_ = op_ - 1;
    next_ = ip_[0] | (ip_[1] << 8);
    ip_ += 2;
    m_pos_ -= next_ >> 2;
    next_ &= 3;
    return copy_match();
  }

  // 16-31: a far match, the end-of-stream marker, or (lzo-rle) a run of zeros.
  int m4_match_or_zero_run() {
    if (!have_ip(2)) return LZO_E_INPUT_OVERRUN;
    next_ = ip_[0] | (ip_[1] << 8);
    if ((next_ & 0xfffc) == 0xfffc && (t_ & 0xf8) == 0x18 && version_) return zero_run();
    m_pos_ = op_;
    m_pos_ -= (t_ & 8) << 11;
    t_ = (t_ & 7) + (3 - 1);
    if (t_ == 2) {
      if (int e = long_length(7)) return e;
      if (!have_ip(2)) return LZO_E_INPUT_OVERRUN;
      next_ = ip_[0] | (ip_[1] << 8);
    }
    ip_ += 2;
    m_pos_ -= next_ >> 2;
    next_ &= 3;
    if (m_pos_ == op_) return kEndOfStream;
    m_pos_ -= 0x4000;
    return copy_match();
  }

  int zero_run() {
    if (!have_ip(3)) return LZO_E_INPUT_OVERRUN;
    t_ &= 7;
    t_ |= static_cast<std::size_t>(ip_[2]) << 3;
    t_ += MIN_ZERO_RUN_LENGTH;
    if (!have_op(t_)) return LZO_E_OUTPUT_OVERRUN;
    std::memset(op_, 0, t_);
    op_ += t_;
    next_ &= 3;
    ip_ += 3;
    return kTrailingLiterals;
  }

  int copy_match() {
    if (m_pos_ < out_) return LZO_E_LOOKBEHIND_OVERRUN;
    uint8_t* oe = op_ + t_;
    if (!have_op(t_)) return LZO_E_OUTPUT_OVERRUN;
    // Byte by byte: overlapping copies (offset < length) repeat the pattern, as in the kernel.
    while (op_ < oe) *op_++ = *m_pos_++;
    return kTrailingLiterals;
  }

  // The 0-3 literals the last instruction's low bits announced.
  int trailing_literals() {
    state_ = next_;
    t_ = next_;
    if (!have_ip(t_ + 3)) return LZO_E_INPUT_OVERRUN;
    if (!have_op(t_)) return LZO_E_OUTPUT_OVERRUN;
    while (t_ > 0) { *op_++ = *ip_++; t_--; }
    return kNextInstruction;
  }

  int end_of_stream() const {
    return t_ != 3 ? LZO_E_ERROR : ip_ == ip_end_ ? LZO_E_OK : ip_ < ip_end_ ? LZO_E_INPUT_NOT_CONSUMED : LZO_E_INPUT_OVERRUN;
  }

  const uint8_t* ip_;
  const uint8_t* const ip_end_;
  uint8_t* const out_;
  uint8_t* op_;
  uint8_t* const op_end_;
  const std::size_t in_len_;
  const uint8_t* m_pos_ = nullptr;
  std::size_t t_ = 0, next_ = 0, state_ = 0;
  uint8_t version_ = 0;
};

}  // namespace

int kernel_lzo1x_decompress_safe(const uint8_t* in, std::size_t in_len, uint8_t* out, std::size_t* out_len) {
  Decoder d(in, in_len, out, *out_len);
  const int rc = d.run();
  *out_len = d.written();
  return rc;
}

}  // namespace swapbench::capacity
