#include "workloads/pages/stamp.h"

#include <cstring>
#include <sstream>

namespace swapbench {

namespace {
uint64_t mix(uint64_t h, uint64_t v) {
  h ^= v + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
  return h * 0xff51afd7ed558ccdull;
}
std::string show(const Stamp& s) {
  std::ostringstream o;
  o << "{index " << s.index << ", generation " << s.generation << ", checksum 0x" << std::hex << s.checksum
    << (s.magic == kStampMagic ? "" : ", no magic") << "}";
  return o.str();
}
}  // namespace

uint64_t body_checksum(const uint8_t* page, uint64_t index, uint64_t generation) {
  uint64_t h = mix(mix(0x243f6a8885a308d3ull, index), generation);
  for (size_t off = kStampBytes; off < kPageSize; off += 8) {
    uint64_t w;
    std::memcpy(&w, page + off, 8);
    h = mix(h, w);
  }
  return h;
}

void write_stamp(uint8_t* page, uint64_t index, uint64_t generation) {
  Stamp s{kStampMagic, index, generation, body_checksum(page, index, generation)};
  std::memcpy(page, &s, sizeof s);
}

std::optional<StampMismatch> verify_stamp(const uint8_t* page, uint64_t index, uint64_t generation) {
  Stamp found;
  std::memcpy(&found, page, sizeof found);
  uint64_t want_sum = body_checksum(page, index, generation);
  const char* what = nullptr;
  StampFault fault = StampFault::NotAStamp;
  if (found.magic != kStampMagic) what = "not a stamp (page content replaced)";
  else if (found.index != index) fault = StampFault::WrongIndex, what = "wrong index (another page's data)";
  else if (found.generation < generation) fault = StampFault::StaleGeneration, what = "stale generation (older data)";
  else if (found.generation != generation) fault = StampFault::UnexpectedGeneration, what = "unexpected generation";
  else if (found.checksum != want_sum) fault = StampFault::BodyCorrupted, what = "body corrupted (checksum differs)";
  if (!what) return std::nullopt;
  Stamp want{kStampMagic, index, generation, want_sum};
  return StampMismatch{fault, index, reinterpret_cast<uintptr_t>(page), show(want), show(found), what};
}

std::string StampMismatch::describe() const {
  std::ostringstream o;
  o << "page " << index << " at 0x" << std::hex << address << std::dec << ": " << what << "; expected " << expected
    << ", found " << found;
  return o.str();
}

}  // namespace swapbench
