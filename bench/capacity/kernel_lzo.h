// The kernel's LZO1X-1 compressor (lib/lzo/lzo1x_compress.c) in both of its bitstreams: version 0
// ("lzo", the crypto API's lzo) and version 1 ("lzo-rle", which adds a run-length instruction for
// zero runs). Written from reading the 6.1 and 6.12 sources (identical there apart from an
// include), to get the byte-exact lengths zswap and zram store: liblzo2's lzo1x_1 hashes into a
// 16384-entry dictionary where the kernel uses 8192 and has a different match loop, so its
// lengths differ from the kernel's by a few bytes per page. liblzo2 is still used, as an
// independent decoder of the version-0 stream, in the unit tests.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

namespace swapbench::capacity {

enum class LzoStream { v0_lzo = 0, v1_rle = 1 };

// Compresses in[0..n) into out (grown as needed); returns the compressed length. Never fails: the
// kernel's worst case (n + n/16 + 64 + 3) is reserved.
std::size_t kernel_lzo1x_1_compress(const uint8_t* in, std::size_t n, std::vector<uint8_t>& out,
                                    LzoStream stream);

// The kernel's lzo1x_decompress_safe (lib/lzo/lzo1x_decompress_safe.c): both bitstreams, told apart
// by the leading 17, version byte. Returns 0 and sets *out_len on success, a negative LZO_E_* code
// (as the kernel's) on a malformed stream; never reads or writes outside the buffers.
int kernel_lzo1x_decompress_safe(const uint8_t* in, std::size_t in_len, uint8_t* out, std::size_t* out_len);

}  // namespace swapbench::capacity
