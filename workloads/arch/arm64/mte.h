// arm64 Memory Tagging Extension: the only architecture-specific code, fenced here and behind a
// runtime capability check (a kernel and CPU may be arm64 without MTE).
#pragma once
#include <string>

namespace swapbench {

// true when this process may map PROT_MTE memory; else *why says what is missing and how to fix.
bool mte_available(std::string* why);

}  // namespace swapbench
