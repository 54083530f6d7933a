#include "bench/backend.h"

#include <algorithm>
#include <stdexcept>

#include "bench/borrow.h"
#include "bench/plan.h"
#include "bench/registry.h"

namespace swapbench {

namespace {
Registry<SwapBackend>& registry() {
  static Registry<SwapBackend> r("backend",
                                 [](const SwapBackend* x, const SwapBackend* y) { return x->info.rank < y->info.rank; });
  return r;
}
}  // namespace

BackendRegistrar::BackendRegistrar(std::unique_ptr<SwapBackend> b) {
  if (!b->info.name.empty()) {
    if (to_string(b->info.id) != "?")
      throw std::logic_error("backend '" + b->info.name + "': its id is " + to_string(b->info.id) + "'s");
    name_backend(b->info.id, b->info.name);
  }
  const std::string name = b->name();
  registry().add(name, std::move(b));
}

const std::vector<const SwapBackend*>& backends() { return registry().listed(); }

void SwapBackend::probe(const Borrowed&, BackendCaps& c) const { c.available = true; }

std::vector<const SwapBackend*> backends_in_set_order() {
  std::vector<const SwapBackend*> out = backends();
  std::stable_sort(out.begin(), out.end(),
                   [](const SwapBackend* x, const SwapBackend* y) { return x->info.set_rank < y->info.set_rank; });
  return out;
}

std::string comma_list(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : ", ") + s;
  return out;
}

const SwapBackend* backend_or_null(const std::string& name) { return registry().find(name); }

const SwapBackend& backend_of(Backend id) {
  for (const SwapBackend* b : backends())
    if (b->info.id == id) return *b;
  throw std::logic_error("backend '" + to_string(id) + "' is not registered");
}

std::string backend_names() {
  std::vector<std::string> names;
  for (const SwapBackend* b : backends()) names.push_back(b->name());
  return comma_list(names);
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
