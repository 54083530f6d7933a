// The kinds' names grouped as the manifest and the metric table need them, read from the kind
// registry (bench/kind.h): a kind registered in bench/kinds/ is listed with nothing else edited.
#pragma once
#include <string>
#include <vector>

#include "bench/kind.h"

namespace swapbench {

// Every registered kind's data, in the registry's order (by name).
std::vector<KindInfo> kind_infos();
// The names of the kinds whose latency is a per-page timing, in kind_infos() order.
std::vector<std::string> fault_kind_names();
// The names of the model kinds.
std::vector<std::string> model_kind_names();

}  // namespace swapbench
