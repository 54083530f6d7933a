// What the kernel would store for one 4 KiB page: its class (zero, same-filled by 8-byte word, or
// to be compressed) and its compressed length under each compressor, with the settings the
// kernel's crypto API (zswap) and zram use. Lengths are raw compressor output; what a kernel
// version does with a length (store, store raw, reject) is the allocator model's business
// (analysis/capacity/model.py), because it changes between versions and the sizes do not.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace swapbench::capacity {

constexpr std::size_t kPage = 4096;

enum class PageClass : uint8_t { zero = 0, same = 1, data = 2 };
const char* page_class_name(PageClass c);

// zswap's zswap_is_page_same_filled (up to 6.11) and zram's page_same_filled: every unsigned long
// equal to the first. A zero page is the same-filled page whose word is 0.
PageClass classify_page(const uint8_t* page);

class PageCompressor {
 public:
  virtual ~PageCompressor() = default;
  virtual const char* name() const = 0;
  // The compressed length of page (kPage bytes); the output stays in an internal buffer until the
  // next call, for decompress_last. Throws std::runtime_error on a library error.
  virtual std::size_t compress(const uint8_t* page) = 0;
  // Decompresses what the last compress produced into out (kPage bytes); false if the round trip
  // did not give back the page's length (a broken build of a library, not the data's fault).
  virtual bool decompress_last(uint8_t* out) = 0;
  // Settings, for the result file: what a reader needs to reproduce the lengths.
  virtual std::string settings() const = 0;
};

// The compressors by kernel name: lzo, lzo-rle, lz4, zstd, deflate, and zstd-zram (zram's own zstd
// parameters from 6.12, which differ from the crypto API's). Throws std::invalid_argument for any
// other name.
std::unique_ptr<PageCompressor> make_compressor(const std::string& name);
const std::vector<std::string>& compressor_names();

}  // namespace swapbench::capacity
