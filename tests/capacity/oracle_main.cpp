// Compares the kernel port (workloads/capacity/kernel_lzo.cpp) with the kernel's own
// lib/lzo/lzo1x_compress.c compiled in user space, byte for byte, on constructed pages and on the
// pages of files given as arguments. Exit 0 when every stream is identical.
#include <cstdio>
#include <cstring>
#include <fstream>
#include <random>
#include <vector>

#include "workloads/capacity/kernel_lzo.h"

extern "C" int lzo1x_1_compress(const unsigned char*, size_t, unsigned char*, size_t*, void*);
extern "C" int lzorle1x_1_compress(const unsigned char*, size_t, unsigned char*, size_t*, void*);

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
  std::printf("%zu pages x 2 bitstreams: %ld differ\n", pages.size(), bad);
  return bad ? 1 : 0;
}
