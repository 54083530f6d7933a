// What the manifest and the metric table say about each kind of set. The one place that reads the
// kinds for them: Kind and its to_string for the timed kinds, plus the user-space model's kind.
#pragma once
#include <string>
#include <vector>

namespace swapbench {

struct KindInfo {
  std::string name;         // as results carry it: benchmarks[].swapbench.kind
  std::string short_name;   // a row label in compare's tables ("in zswap-lzo")
  std::string description;
  bool privileged = true;   // needs root (it swaps)
  bool fault = false;       // its latency is a per-page fault timing
  bool model = false;       // a user-space model: borrows nothing, times no kernel path
  bool threads = false;     // may run with several threads
};

const std::vector<KindInfo>& kind_infos();
// The names of the kinds whose latency is a per-page fault timing, in kind_infos() order.
std::vector<std::string> fault_kind_names();
// The names of the model kinds.
std::vector<std::string> model_kind_names();

}  // namespace swapbench
