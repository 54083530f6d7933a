// Which build this is: `swapbench --version` prints it and every result's context records it
// (context.swapbench.version and .commit, results/SCHEMA.md).
#pragma once

namespace swapbench {

const char* version();  // the CMake project's VERSION
const char* commit();   // `git describe --always --dirty` when cmake configured the tree; "unknown" outside git

}  // namespace swapbench
