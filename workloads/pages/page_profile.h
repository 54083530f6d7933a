// Page-content profiles: what the pages hold decides what zswap's compressor does with them, so the
// content is an input of every benchmark, named in its result, with its compression ratio measured.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace swapbench {

enum class ProfileKind { Random, Text, Ratio, Zero, Same, File };

struct ProfileSpec {
  ProfileKind kind = ProfileKind::Ratio;
  double ratio = 2.0;    // for Ratio: target compressed:original as N:1
  std::string path;      // for File
  std::string name() const;  // "random", "text", "ratio2", "zero", "same", "file:/x"
};

// Parses "random", "text", "ratio2" / "ratio3" / "ratio4" / "ratio2.5", "zero", "same", "file:PATH".
// Throws std::invalid_argument naming the input and the accepted forms.
ProfileSpec parse_profile(const std::string& text);
std::string profile_forms();

// Fills and checks pages. Stamped profiles carry a stamp; zero and same-filled pages cannot carry
// one without ceasing to be zero/same-filled, so their whole content is the check instead (the
// same-filled word encodes index and generation, the zero page only that it is still zero).
class PageProfile {
 public:
  explicit PageProfile(const ProfileSpec& spec);
  const ProfileSpec& spec() const { return spec_; }
  bool stamped() const { return spec_.kind != ProfileKind::Zero && spec_.kind != ProfileKind::Same; }
  void fill(uint8_t* page, uint64_t index, uint64_t generation) const;
  // Empty string when intact, else the page, expected and found content.
  std::string verify(const uint8_t* page, uint64_t index, uint64_t generation) const;
  // The byte a write fault stores at offset 0: the value already there, so a write fault leaves
  // the page (and its stamp) as it was.
  uint8_t first_byte() const;
  size_t random_bytes() const { return random_bytes_; }

 private:
  ProfileSpec spec_;
  size_t random_bytes_ = 0;  // Ratio: incompressible bytes per page, found by calibration with lz4
  std::vector<uint8_t> file_;
};

uint64_t same_word(uint64_t index, uint64_t generation);

// User-space compression ratios of a set of pages (original bytes / compressed bytes).
struct MeasuredRatio {
  double lz4 = 0, zstd = 0;
  size_t pages = 0;
};
MeasuredRatio measure_ratio(const uint8_t* pages, size_t count, size_t max_pages = 256);
double lz4_ratio_of_page(const uint8_t* page);

}  // namespace swapbench
