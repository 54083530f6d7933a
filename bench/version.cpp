#include "bench/version.h"

// Both come from the top CMakeLists.txt, given to this file alone so that a new commit recompiles
// one file, not the suite.
#ifndef SWAPBENCH_VERSION
#error "SWAPBENCH_VERSION is set by CMakeLists.txt"
#endif

namespace swapbench {

const char* version() { return SWAPBENCH_VERSION; }
const char* commit() { return SWAPBENCH_COMMIT; }

}  // namespace swapbench
