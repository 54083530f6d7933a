#include "bench/capacity/page_codec.h"

#include <cstring>
#include <stdexcept>

#define ZSTD_STATIC_LINKING_ONLY  // ZSTD_getParams: the kernel's zstd_get_params is this call
#include <lz4.h>
#include <zlib.h>
#include <zstd.h>

#include "bench/capacity/kernel_lzo.h"

namespace swapbench::capacity {

const char* page_class_name(PageClass c) {
  switch (c) {
    case PageClass::zero: return "zero";
    case PageClass::same: return "same";
    case PageClass::data: return "data";
  }
  return "?";
}

PageClass classify_page(const uint8_t* page) {
  uint64_t first;
  std::memcpy(&first, page, 8);
  for (std::size_t pos = 8; pos < kPage; pos += 8) {
    uint64_t w;
    std::memcpy(&w, page + pos, 8);
    if (w != first) return PageClass::data;
  }
  return first == 0 ? PageClass::zero : PageClass::same;
}

namespace {

class KernelLzo final : public PageCompressor {
 public:
  explicit KernelLzo(LzoStream s) : stream_(s) {}
  const char* name() const override { return stream_ == LzoStream::v1_rle ? "lzo-rle" : "lzo"; }
  std::size_t compress(const uint8_t* page) override {
    len_ = kernel_lzo1x_1_compress(page, kPage, buf_, stream_);
    return len_;
  }
  bool decompress_last(uint8_t* out) override {
    std::size_t n = kPage;
    return kernel_lzo1x_decompress_safe(buf_.data(), len_, out, &n) == 0 && n == kPage;
  }
  std::string settings() const override {
    return std::string("lib/lzo lzo1x_1 (x86-64/arm64 build), bitstream ") +
           (stream_ == LzoStream::v1_rle ? "1 (lzorle1x_1_compress)" : "0 (lzo1x_1_compress)");
  }

 private:
  LzoStream stream_;
  std::vector<uint8_t> buf_;
  std::size_t len_ = 0;
};

class Lz4 final : public PageCompressor {
 public:
  Lz4() : buf_(LZ4_compressBound(kPage)) {}
  const char* name() const override { return "lz4"; }
  std::size_t compress(const uint8_t* page) override {
    // crypto/lz4.c and zram's backend_lz4 (acceleration 1 = default): LZ4_compress_default.
    int n = LZ4_compress_default(reinterpret_cast<const char*>(page), buf_.data(), kPage, static_cast<int>(buf_.size()));
    if (n <= 0) throw std::runtime_error("LZ4_compress_default failed");
    len_ = static_cast<std::size_t>(n);
    return len_;
  }
  bool decompress_last(uint8_t* out) override {
    return LZ4_decompress_safe(buf_.data(), reinterpret_cast<char*>(out), static_cast<int>(len_), kPage) == kPage;
  }
  std::string settings() const override { return std::string("LZ4_compress_default, liblz4 ") + LZ4_versionString(); }

 private:
  std::vector<char> buf_;
  std::size_t len_ = 0;
};

class Zstd final : public PageCompressor {
 public:
  // size_hint 0: crypto/zstd.c (zswap, and zram up to 6.11, which used the crypto API);
  // PAGE_SIZE: zram's own backend from 6.12 (drivers/block/zram/backend_zstd.c:
  // zstd_get_params(level, PAGE_SIZE)), whose parameters suit small inputs.
  explicit Zstd(unsigned long long size_hint)
      : hint_(size_hint), buf_(ZSTD_compressBound(kPage)), cctx_(ZSTD_createCCtx()), dctx_(ZSTD_createDCtx()) {
    if (!cctx_ || !dctx_) throw std::runtime_error("zstd: cannot create a context");
  }
  ~Zstd() override { ZSTD_freeCCtx(cctx_); ZSTD_freeDCtx(dctx_); }
  const char* name() const override { return hint_ ? "zstd-zram" : "zstd"; }
  std::size_t compress(const uint8_t* page) override {
    // zstd_get_params(3, hint), then lib/zstd's zstd_cctx_init: reset, pledged size = the page,
    // each parameter set explicitly, compress2.
    const ZSTD_parameters p = ZSTD_getParams(3, hint_, 0);
    check(ZSTD_CCtx_reset(cctx_, ZSTD_reset_session_and_parameters));
    check(ZSTD_CCtx_setPledgedSrcSize(cctx_, kPage));
    check(ZSTD_CCtx_setParameter(cctx_, ZSTD_c_windowLog, p.cParams.windowLog));
    check(ZSTD_CCtx_setParameter(cctx_, ZSTD_c_hashLog, p.cParams.hashLog));
    check(ZSTD_CCtx_setParameter(cctx_, ZSTD_c_chainLog, p.cParams.chainLog));
    check(ZSTD_CCtx_setParameter(cctx_, ZSTD_c_searchLog, p.cParams.searchLog));
    check(ZSTD_CCtx_setParameter(cctx_, ZSTD_c_minMatch, p.cParams.minMatch));
    check(ZSTD_CCtx_setParameter(cctx_, ZSTD_c_targetLength, p.cParams.targetLength));
    check(ZSTD_CCtx_setParameter(cctx_, ZSTD_c_strategy, p.cParams.strategy));
    check(ZSTD_CCtx_setParameter(cctx_, ZSTD_c_contentSizeFlag, p.fParams.contentSizeFlag));
    check(ZSTD_CCtx_setParameter(cctx_, ZSTD_c_checksumFlag, p.fParams.checksumFlag));
    check(ZSTD_CCtx_setParameter(cctx_, ZSTD_c_dictIDFlag, !p.fParams.noDictIDFlag));
    len_ = check(ZSTD_compress2(cctx_, buf_.data(), buf_.size(), page, kPage));
    return len_;
  }
  bool decompress_last(uint8_t* out) override {
    std::size_t n = ZSTD_decompressDCtx(dctx_, out, kPage, buf_.data(), len_);
    return !ZSTD_isError(n) && n == kPage;
  }
  std::string settings() const override {
    return std::string("level 3, parameters of ZSTD_getParams(3, ") + std::to_string(hint_) +
           ", 0), pledged 4096 (" + (hint_ ? "zram backend_zstd.c, 6.12+" : "crypto/zstd.c") + "); libzstd " +
           ZSTD_versionString();
  }

 private:
  static std::size_t check(std::size_t r) {
    if (ZSTD_isError(r)) throw std::runtime_error(std::string("zstd: ") + ZSTD_getErrorName(r));
    return r;
  }
  unsigned long long hint_;
  std::vector<uint8_t> buf_;
  ZSTD_CCtx* cctx_;
  ZSTD_DCtx* dctx_;
  std::size_t len_ = 0;
};

class Deflate final : public PageCompressor {
 public:
  // crypto/deflate.c and zram's backend_deflate: level Z_DEFAULT_COMPRESSION, raw stream (negative
  // window bits) of 11 bits, memLevel MAX_MEM_LEVEL, which is 8 in the kernel's zlib
  // (include/linux/zconf.h) where user-space zlib's is 9.
  static constexpr int kWindowBits = 11, kMemLevel = 8;
  Deflate() : buf_(2 * kPage) {
    std::memset(&c_, 0, sizeof c_);
    std::memset(&d_, 0, sizeof d_);
    if (deflateInit2(&c_, Z_DEFAULT_COMPRESSION, Z_DEFLATED, -kWindowBits, kMemLevel, Z_DEFAULT_STRATEGY) != Z_OK ||
        inflateInit2(&d_, -kWindowBits) != Z_OK)
      throw std::runtime_error("zlib: cannot initialise deflate");
  }
  ~Deflate() override { deflateEnd(&c_); inflateEnd(&d_); }
  const char* name() const override { return "deflate"; }
  std::size_t compress(const uint8_t* page) override {
    // The kernel resets the stream per call (zlib_deflateReset) and finishes it (Z_FINISH).
    deflateReset(&c_);
    c_.next_in = const_cast<Bytef*>(page);
    c_.avail_in = kPage;
    c_.next_out = buf_.data();
    c_.avail_out = static_cast<uInt>(buf_.size());
    if (deflate(&c_, Z_FINISH) != Z_STREAM_END) throw std::runtime_error("zlib deflate did not finish");
    len_ = c_.total_out;
    return len_;
  }
  bool decompress_last(uint8_t* out) override {
    inflateReset(&d_);
    d_.next_in = buf_.data();
    d_.avail_in = static_cast<uInt>(len_);
    d_.next_out = out;
    d_.avail_out = kPage;
    return inflate(&d_, Z_FINISH) == Z_STREAM_END && d_.total_out == kPage;
  }
  std::string settings() const override {
    return std::string("raw deflate, level 6 (Z_DEFAULT_COMPRESSION), window bits 11, memLevel 8; zlib ") + zlibVersion();
  }

 private:
  std::vector<uint8_t> buf_;
  z_stream c_, d_;
  std::size_t len_ = 0;
};

}  // namespace

const std::vector<std::string>& compressor_names() {
  static const std::vector<std::string> names{"lzo", "lzo-rle", "lz4", "zstd", "deflate", "zstd-zram"};
  return names;
}

std::unique_ptr<PageCompressor> make_compressor(const std::string& name) {
  if (name == "lzo") return std::make_unique<KernelLzo>(LzoStream::v0_lzo);
  if (name == "lzo-rle") return std::make_unique<KernelLzo>(LzoStream::v1_rle);
  if (name == "lz4") return std::make_unique<Lz4>();
  if (name == "zstd") return std::make_unique<Zstd>(0);
  if (name == "zstd-zram") return std::make_unique<Zstd>(kPage);
  if (name == "deflate") return std::make_unique<Deflate>();
  throw std::invalid_argument(name + ": unknown compressor; accepted: lzo, lzo-rle, lz4, zstd, deflate, zstd-zram");
}

}  // namespace swapbench::capacity
