#include "bench/backend.h"

#include <algorithm>
#include <map>
#include <stdexcept>

#include "bench/borrow.h"

namespace swapbench {

namespace {
struct Registry {
  std::map<std::string, std::unique_ptr<SwapBackend>> by_name;
  std::vector<const SwapBackend*> ranked;
};
Registry& registry() {
  static Registry r;
  return r;
}
}  // namespace

BackendRegistrar::BackendRegistrar(std::unique_ptr<SwapBackend> b) {
  Registry& r = registry();
  const std::string name = b->name();
  if (!r.by_name.emplace(name, std::move(b)).second) throw std::logic_error("backend '" + name + "' registered twice");
  r.ranked.clear();
  for (const auto& [n, be] : r.by_name) r.ranked.push_back(be.get());
  std::stable_sort(r.ranked.begin(), r.ranked.end(),
                   [](const SwapBackend* x, const SwapBackend* y) { return x->info.rank < y->info.rank; });
}

const std::vector<const SwapBackend*>& backends() { return registry().ranked; }

const SwapBackend* backend_or_null(const std::string& name) {
  auto it = registry().by_name.find(name);
  return it == registry().by_name.end() ? nullptr : it->second.get();
}

const SwapBackend& backend_of(Backend id) {
  for (const SwapBackend* b : backends())
    if (b->info.id == id) return *b;
  throw std::logic_error("backend '" + to_string(id) + "' is not registered");
}

std::string backend_names() {
  std::string out;
  for (const SwapBackend* b : backends()) out += (out.empty() ? "" : ", ") + b->name();
  return out;
}

const SwapBackend* switch_to(Borrowed& b, Backend target, const std::string& compressor, nlohmann::json& sb) {
  const SwapBackend* mine = target == Backend::None ? nullptr : &backend_of(target);
  for (const SwapBackend* other : backends())
    if (other != mine) other->release(b);
  if (b.swap) {
    // The swap file is on for its backends' sets and for those that swap nowhere of their own.
    if (mine && !mine->info.swap_file) b.swap->pause();
    else b.swap->resume();
  }
  if (mine) mine->activate(b, compressor, sb);
  return mine;
}

}  // namespace swapbench
