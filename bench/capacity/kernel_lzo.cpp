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
    std::size_t t, m_len, m_off;
    uint32_t dv;
    uint32_t run_length = 0;
  literal:
    ip += 1 + ((ip - ii) >> 5);
  next:
    if (ip >= ip_end) break;
    dv = le32(ip);
    if (dv == 0 && version) {
      // The kernel scans in 32- then 8-byte steps; the result is the length of the zero run from
      // ip, capped at limit, which is what this byte loop computes.
      const uint8_t* ir = ip + 4;
      const uint8_t* limit = std::min(ip_end, ip + MAX_ZERO_RUN_LENGTH + 1);
      while (ir < limit && *ir == 0) ir++;
      run_length = static_cast<uint32_t>(ir - ip);
      if (run_length > MAX_ZERO_RUN_LENGTH) run_length = MAX_ZERO_RUN_LENGTH;
    } else {
      t = ((dv * 0x1824429du) >> (32 - D_BITS)) & D_MASK;
      m_pos = in + dict[t];
      dict[t] = static_cast<uint16_t>(ip - in);
      if (dv != le32(m_pos)) goto literal;
    }

    ii -= ti;
    ti = 0;
    t = ip - ii;
    if (t != 0) {
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
        ii += t;
      }
    }

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

    m_len = 4;
    {
      uint64_t v = le64(ip + m_len) ^ le64(m_pos + m_len);
      if (v == 0) {
        do {
          m_len += 8;
          v = le64(ip + m_len) ^ le64(m_pos + m_len);
          if (ip + m_len >= ip_end) goto m_len_done;
        } while (v == 0);
      }
      m_len += static_cast<unsigned>(__builtin_ctzll(v)) / 8;
    }
  m_len_done:
    m_off = ip - m_pos;
    ip += m_len;
    if (m_len <= M2_MAX_LEN && m_off <= M2_MAX_OFFSET) {
      m_off -= 1;
      *op++ = static_cast<uint8_t>(((m_len - 1) << 5) | ((m_off & 7) << 2));
      *op++ = static_cast<uint8_t>(m_off >> 3);
    } else if (m_off <= M3_MAX_OFFSET) {
      m_off -= 1;
      if (m_len <= M3_MAX_LEN) {
        *op++ = static_cast<uint8_t>(M3_MARKER | (m_len - 2));
      } else {
        m_len -= M3_MAX_LEN;
        *op++ = M3_MARKER | 0;
        while (m_len > 255) { m_len -= 255; *op++ = 0; }
        *op++ = static_cast<uint8_t>(m_len);
      }
      *op++ = static_cast<uint8_t>(m_off << 2);
      *op++ = static_cast<uint8_t>(m_off >> 6);
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
      *op++ = static_cast<uint8_t>(m_off << 2);
      *op++ = static_cast<uint8_t>(m_off >> 6);
    }
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
}

// Follows lib/lzo/lzo1x_decompress_safe.c without its unaligned fast paths (which only change
// speed, never the output) so every read and write is bounds-checked.
int kernel_lzo1x_decompress_safe(const uint8_t* in, std::size_t in_len, uint8_t* out, std::size_t* out_len) {
  const uint8_t* ip = in;
  const uint8_t* const ip_end = in + in_len;
  uint8_t* op = out;
  uint8_t* const op_end = out + *out_len;
  std::size_t t = 0, next = 0, state = 0;
  const uint8_t* m_pos;
  uint8_t version = 0;
  auto have_ip = [&](std::size_t x) { return static_cast<std::size_t>(ip_end - ip) >= x; };
  auto have_op = [&](std::size_t x) { return static_cast<std::size_t>(op_end - op) >= x; };
#define NEED_IP(x) do { if (!have_ip(x)) goto input_overrun; } while (0)
#define NEED_OP(x) do { if (!have_op(x)) goto output_overrun; } while (0)
#define TEST_LB(p) do { if ((p) < out) goto lookbehind_overrun; } while (0)
  // Counting zero bytes of a long length: cap as the kernel does so the sum cannot overflow.
  const std::size_t max_255_count = (static_cast<std::size_t>(~0) / 255) - 2;
  // A long length: zero bytes each worth 255, then a byte, added to t with base. 0 on success,
  // else the error to return.
  auto long_length = [&](std::size_t base) -> int {
    const uint8_t* ip_last = ip;
    if (!have_ip(1)) return LZO_E_INPUT_OVERRUN;
    while (*ip == 0) {
      ip++;
      if (!have_ip(1)) return LZO_E_INPUT_OVERRUN;
    }
    std::size_t offset = ip - ip_last;
    if (offset > max_255_count) return LZO_E_ERROR;
    offset = (offset << 8) - offset;
    t += offset + base + *ip++;
    return 0;
  };

  if (in_len < 3) goto input_overrun;
  if (in_len >= 5 && *ip == 17) {
    version = ip[1];
    ip += 2;
  }
  if (*ip > 17) {
    t = *ip++ - 17;
    if (t < 4) {
      next = t;
      goto match_next;
    }
    goto copy_literal_run;
  }

  for (;;) {
    NEED_IP(1);
    t = *ip++;
    if (t < 16) {
      if (state == 0) {
        if (t == 0) {
          if (int e = long_length(15)) { *out_len = op - out; return e; }
        }
        t += 3;
      copy_literal_run:
        NEED_OP(t);
        NEED_IP(t + 3);
        std::memcpy(op, ip, t);
        op += t;
        ip += t;
        state = 4;
        continue;
      } else if (state != 4) {
        next = t & 3;
        NEED_IP(1);
        m_pos = op - 1;
        m_pos -= t >> 2;
        m_pos -= static_cast<std::size_t>(*ip++) << 2;
        TEST_LB(m_pos);
        NEED_OP(2);
        op[0] = m_pos[0];
        op[1] = m_pos[1];
        op += 2;
        goto match_next;
      } else {
        next = t & 3;
        NEED_IP(1);
        m_pos = op - (1 + M2_MAX_OFFSET);
        m_pos -= t >> 2;
        m_pos -= static_cast<std::size_t>(*ip++) << 2;
        t = 3;
      }
    } else if (t >= 64) {
      next = t & 3;
      NEED_IP(1);
      m_pos = op - 1;
      m_pos -= (t >> 2) & 7;
      m_pos -= static_cast<std::size_t>(*ip++) << 3;
      t = (t >> 5) - 1 + (3 - 1);
    } else if (t >= 32) {
      t = (t & 31) + (3 - 1);
      if (t == 2) {
        if (int e = long_length(31)) { *out_len = op - out; return e; }
      }
      NEED_IP(2);
      m_pos = op - 1;
      next = ip[0] | (ip[1] << 8);
      ip += 2;
      m_pos -= next >> 2;
      next &= 3;
    } else {
      NEED_IP(2);
      next = ip[0] | (ip[1] << 8);
      if ((next & 0xfffc) == 0xfffc && (t & 0xf8) == 0x18 && version) {
        NEED_IP(3);
        t &= 7;
        t |= static_cast<std::size_t>(ip[2]) << 3;
        t += MIN_ZERO_RUN_LENGTH;
        NEED_OP(t);
        std::memset(op, 0, t);
        op += t;
        next &= 3;
        ip += 3;
        goto match_next;
      } else {
        m_pos = op;
        m_pos -= (t & 8) << 11;
        t = (t & 7) + (3 - 1);
        if (t == 2) {
          if (int e = long_length(7)) { *out_len = op - out; return e; }
          NEED_IP(2);
          next = ip[0] | (ip[1] << 8);
        }
        ip += 2;
        m_pos -= next >> 2;
        next &= 3;
        if (m_pos == op) goto eof_found;
        m_pos -= 0x4000;
      }
    }
    TEST_LB(m_pos);
    {
      uint8_t* oe = op + t;
      NEED_OP(t);
      // Byte by byte: overlapping copies (offset < length) repeat the pattern, as in the kernel.
      while (op < oe) *op++ = *m_pos++;
    }
  match_next:
    state = next;
    t = next;
    NEED_IP(t + 3);
    NEED_OP(t);
    while (t > 0) { *op++ = *ip++; t--; }
  }

eof_found:
  *out_len = op - out;
  return t != 3 ? LZO_E_ERROR : ip == ip_end ? LZO_E_OK : ip < ip_end ? LZO_E_INPUT_NOT_CONSUMED : LZO_E_INPUT_OVERRUN;
input_overrun:
  *out_len = op - out;
  return LZO_E_INPUT_OVERRUN;
output_overrun:
  *out_len = op - out;
  return LZO_E_OUTPUT_OVERRUN;
lookbehind_overrun:
  *out_len = op - out;
  return LZO_E_LOOKBEHIND_OVERRUN;
#undef NEED_IP
#undef NEED_OP
#undef TEST_LB
}

}  // namespace swapbench::capacity
