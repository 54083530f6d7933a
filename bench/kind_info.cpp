#include "bench/kind_info.h"

namespace swapbench {

std::vector<KindInfo> kind_infos() {
  std::vector<KindInfo> out;
  for (const SetKind* k : kinds()) out.push_back(k->info);
  return out;
}

namespace {
template <class Pred>
std::vector<std::string> names_where(Pred pred) {
  std::vector<std::string> out;
  for (const SetKind* k : kinds())
    if (pred(k->info)) out.push_back(k->info.name);
  return out;
}
}  // namespace

std::vector<std::string> fault_kind_names() {
  return names_where([](const KindInfo& i) { return i.fault && !i.model; });
}

std::vector<std::string> model_kind_names() {
  return names_where([](const KindInfo& i) { return i.model; });
}

}  // namespace swapbench
