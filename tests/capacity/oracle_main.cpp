// Compares, on constructed pages and the pages of files given as arguments:
// - the lzo/lzo-rle port (bench/capacity/kernel_lzo.cpp) with the kernel's own
//   lib/lzo/lzo1x_compress.c compiled in user space, byte for byte;
// - the deflate lengths capacity takes from user-space zlib (page_codec.cpp) with the kernel's
//   lib/zlib_deflate driven as crypto/deflate.c does.
// Exit 0 when every stream and length is identical.
#include <cstdio>
#include <cstring>
#include <fstream>
#include <random>
#include <vector>

#include "bench/capacity/kernel_lzo.h"
#include "bench/capacity/page_codec.h"

extern "C" int lzo1x_1_compress(const unsigned char*, size_t, unsigned char*, size_t*, void*);
extern "C" int lzorle1x_1_compress(const unsigned char*, size_t, unsigned char*, size_t*, void*);
extern "C" long kernel_deflate_len(const unsigned char*, unsigned char*, long);

using namespace swapbench::capacity;

int main(int argc, char** argv) {
  std::vector<std::vector<uint8_t>> pages;
  std::mt19937_64 rng(1);
  for (int k = 0; k < 2000; ++k) {
    std::vector<uint8_t> p(4096, 0);
    const int kind = k % 5;
    for (std::size_t i = 0; i < p.size(); ++i) {
      if (kind == 0) p[i] = static_cast<uint8_t>(rng());
      if (kind == 1 && rng() % 50 == 0) p[i] = static_cast<uint8_t>(rng());
      if (kind == 2) p[i] = static_cast<uint8_t>((rng() % 8 == 0) ? rng() : i % 7);
      if (kind == 3 && (i / 64) % 3 == 0) p[i] = static_cast<uint8_t>(rng() % 4);
      if (kind == 4) p[i] = (i % 8 < 2) ? static_cast<uint8_t>(rng() % 16) : 0;
    }
    pages.push_back(p);
  }
  for (int a = 1; a < argc; ++a) {
    std::ifstream f(argv[a], std::ios::binary);
    std::vector<uint8_t> p(4096);
    while (f.read(reinterpret_cast<char*>(p.data()), 4096)) pages.push_back(p);
  }
  std::vector<uint8_t> mine, theirs(8192), wrk(8192 * 2);
  long bad = 0;
  for (std::size_t i = 0; i < pages.size(); ++i) {
    for (int v = 0; v < 2; ++v) {
      std::size_t n = kernel_lzo1x_1_compress(pages[i].data(), 4096, mine, v ? LzoStream::v1_rle : LzoStream::v0_lzo);
      std::size_t tn = theirs.size();
      (v ? lzorle1x_1_compress : lzo1x_1_compress)(pages[i].data(), 4096, theirs.data(), &tn, wrk.data());
      if (n != tn || std::memcmp(mine.data(), theirs.data(), n) != 0) {
        if (bad++ < 5) std::printf("page %zu %s: port %zu bytes, kernel %zu bytes\n", i, v ? "lzo-rle" : "lzo", n, tn);
      }
    }
  }
  std::printf("lzo: %zu pages x 2 bitstreams: %ld differ\n", pages.size(), bad);
  auto deflate = make_compressor("deflate");
  long dbad = 0;
  for (std::size_t i = 0; i < pages.size(); ++i) {
    long k = kernel_deflate_len(pages[i].data(), theirs.data(), static_cast<long>(theirs.size()));
    long u = static_cast<long>(deflate->compress(pages[i].data()));
    if (k != u && dbad++ < 5) std::printf("page %zu deflate: user zlib %ld bytes, kernel %ld bytes\n", i, u, k);
  }
  std::printf("deflate: %zu pages: %ld lengths differ\n", pages.size(), dbad);
  return bad || dbad ? 1 : 0;
}
