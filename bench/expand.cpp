// expand(): the plan's sets, as this kernel allows them (plan.h). Each kind adds its own sets
// (bench/kinds/); what is missing here becomes a skip with its reason and fix.
#include <algorithm>
#include <regex>

#include "bench/backend.h"
#include "bench/kind.h"
#include "bench/plan.h"

namespace swapbench {

const BackendCaps& Capabilities::of(Backend b) const {
  static const BackendCaps none;
  auto it = backends.find(b);
  return it == backends.end() ? none : it->second;
}

Capabilities Capabilities::for_listing(bool root) {
  Capabilities c;
  c.root = root;
  c.listing = true;
  return c;
}

namespace {

// Each compressing backend of the run that is here, with the compressors its sets run with.
using Compressors = std::vector<std::pair<const SwapBackend*, std::vector<std::string>>>;

// The compressing backends of the plan that are here (or not asked yet); one missing is a skip.
Compressors compressing_backends(const Plan& p, const Capabilities& c, Expander& x) {
  Compressors out;
  for (const SwapBackend* b : backends_in_set_order()) {
    if (!b->info.compresses || !p.has(b->info.id)) continue;
    if (x.resolved() && !c.of(b->info.id).available)
      x.skip("*/" + b->name() + "/*", c.of(b->info.id).reason, b->info.missing_fix);
    else out.push_back({b, {}});
  }
  return out;
}

// The compressors each compressing backend runs with.
Compressors resolve_compressors(const Plan& p, const Capabilities& c, Expander& x) {
  Compressors out = compressing_backends(p, c, x);
  for (auto& [b, list] : out) {
    if (!x.resolved()) list = p.compressors.empty() ? std::vector<std::string>{b->info.every_compressor} : p.compressors;
    else if (p.compressors.empty()) list = c.of(b->info.id).compressors;
  }
  if (!x.resolved() || p.compressors.empty() || out.empty()) return out;
  // A name runs on every compressing backend of the run that takes it; refused by one, that
  // backend's sets are skipped with why; refused by all, it is bad input naming what each takes.
  for (const auto& name : p.compressors) {
    std::vector<std::string> no;  // why each refuses it ("" where it takes it)
    for (const auto& [b, list] : out) {
      const BackendCaps& bc = c.of(b->info.id);
      no.push_back(std::count(bc.compressors.begin(), bc.compressors.end(), name) ? "" : b->refusal(bc, name));
    }
    if (std::count(no.begin(), no.end(), "") == 0) {
      std::string all = no.front();
      if (out.size() > 1) {
        all.clear();
        for (size_t i = 0; i < out.size(); ++i) all += (i ? "; " : "") + out[i].first->name() + ": " + no[i];
      }
      throw BadInput("--compressor " + name + ": " + all);
    }
    for (size_t i = 0; i < out.size(); ++i) {
      const SwapBackend& b = *out[i].first;
      if (no[i].empty()) out[i].second.push_back(name);
      else x.skip("*/" + b.name() + "/" + name + "/*", b.name() + ": " + no[i], b.refusal_fix(name));
    }
  }
  return out;
}

// Where one profile's sets go, as results list them: by backend set order, once per compressor.
std::vector<SetSite> sites_of(const Plan& p, const Compressors& comps, const ProfileSpec& prof) {
  std::vector<SetSite> sites;
  for (const SwapBackend* b : backends_in_set_order()) {
    if (!p.has(b->info.id)) continue;
    if (!b->info.compresses) sites.push_back({b->info.id, "none", prof, true});
    for (const auto& [cb, list] : comps)
      if (cb == b)
        for (const auto& comp : list) sites.push_back({b->info.id, comp, prof, comp == list.front()});
  }
  return sites;
}

}  // namespace

Expansion expand(const Plan& p, const Capabilities& c) {
  const SuiteDef& suite = *p.suite;
  Expansion out;
  Expander x(p, c, out);
  const Compressors comps = resolve_compressors(p, c, x);
  std::vector<const SetKind*> per_site, floors;
  for (const auto& name : suite.kinds) {
    const SetKind& k = find_kind(name);
    (k.info.floor ? floors : per_site).push_back(&k);
  }
  for (const auto& prof : p.profiles)
    for (const SetSite& at : sites_of(p, comps, prof))
      for (const SetKind* k : per_site)
        if (std::count(k->info.backends.begin(), k->info.backends.end(), at.backend)) k->expand(x, at);
  if (p.floors && !p.profiles.empty())
    for (const SetKind* k : floors) k->expand(x, SetSite{Backend::None, "none", p.profiles.front(), true});
  if (!p.filter.empty()) {
    // As Google Benchmark's --benchmark_filter: a set runs when the regular expression matches
    // anywhere in its name.
    const std::regex re(p.filter);
    const size_t before = out.sets.size();
    std::erase_if(out.sets, [&](const Scenario& sc) { return !std::regex_search(sc.name(), re); });
    if (out.sets.empty() && before > 0)
      throw BadInput("--filter '" + p.filter + "' matches none of the " + std::to_string(before) + " sets of suite " +
                     suite.name + " (./swapbench list --suite " + suite.name + " shows them)");
  }
  return out;
}

}  // namespace swapbench
