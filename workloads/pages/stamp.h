// Page stamps: every page says which page it is, which generation wrote it, and a checksum of its
// body, so a page that comes back from swap stale (older generation), misplaced (other index) or
// damaged (checksum) is caught by name instead of being timed as if nothing happened.
#pragma once
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

namespace swapbench {

constexpr size_t kPageSize = 4096;
constexpr uint64_t kStampMagic = 0x5357415042454e43ull;  // "SWAPBENC"

struct Stamp {
  uint64_t magic;
  uint64_t index;
  uint64_t generation;
  uint64_t checksum;  // of the body (bytes after the stamp) mixed with index and generation
};
constexpr size_t kStampBytes = sizeof(Stamp);

uint64_t body_checksum(const uint8_t* page, uint64_t index, uint64_t generation);
void write_stamp(uint8_t* page, uint64_t index, uint64_t generation);

// What is wrong with a page, as a type: the race detector counts stale pages apart from damaged
// ones, and must not decide that by matching message text.
enum class StampFault { NotAStamp, WrongIndex, StaleGeneration, UnexpectedGeneration, BodyCorrupted };

struct StampMismatch {
  StampFault fault;
  uint64_t index;
  uintptr_t address;
  std::string expected;
  std::string found;
  std::string what;  // "stale generation", "wrong index", "body checksum", "not a stamp", ...
  std::string describe() const;
};

// Checks a stamped page; nullopt when it is intact.
std::optional<StampMismatch> verify_stamp(const uint8_t* page, uint64_t index, uint64_t generation);

}  // namespace swapbench
