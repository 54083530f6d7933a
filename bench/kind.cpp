#include "bench/kind.h"

#include <stdexcept>

#include "bench/registry.h"
#include "bench/set_runner.h"
#include "workloads/arch/arm64/mte.h"

namespace swapbench {

namespace {
Registry<SetKind>& registry() {
  static Registry<SetKind> r("set kind");
  return r;
}
}  // namespace

KindRegistrar::KindRegistrar(std::unique_ptr<SetKind> k) {
  const std::string name = k->info.name;
  registry().add(name, std::move(k));
}

const std::vector<const SetKind*>& kinds() { return registry().listed(); }

const SetKind* kind_or_null(const std::string& name) { return registry().find(name); }

const SetKind& find_kind(const std::string& name) {
  if (const SetKind* k = kind_or_null(name)) return *k;
  std::string names;
  for (const SetKind* k : kinds()) names += (names.empty() ? "" : ", ") + k->info.name;
  throw std::invalid_argument("set kind '" + name + "': unknown; registered: " + names);
}

bool SetRun::ok() const { return rec.error.empty(); }

Expander::Expander(const Plan& p, const Capabilities& c, Expansion& out) : plan(p), caps(c), out_(out) {
  mte_ = p.suite->mte_pairs && (c.listing || mte_available(&no_mte_));
}

Scenario Expander::set(const std::string& kind, const SetSite& at, Pattern pattern) const {
  Scenario s;
  s.kind = kind;
  s.backend = at.backend;
  s.compressor = at.compressor;
  s.profile = at.profile;
  s.pattern = pattern;
  return s;
}

void Expander::skip(std::string benchmark, std::string reason, std::string fix) {
  out_.skipped.push_back({std::move(benchmark), std::move(reason), std::move(fix)});
}

void Expander::add_plain(Scenario sc) {
  const KindInfo& k = find_kind(sc.kind).info;
  sc.pages = plan.pages;
  sc.write_faults = plan.write_faults && k.fault_option;
  sc.threads = k.threads ? plan.threads : 1;
  if (sc.privileged() && !caps.root && !caps.listing)
    skip(sc.name(), "needs root (swap areas, zswap parameters, cgroups)", "run as root: ./swapbench run");
  else out_.sets.push_back(sc);
}

void Expander::add(Scenario sc) {
  if (!plan.suite->mte_pairs) return add_plain(sc);
  sc.tagging = Tagging::Untagged;
  add_plain(sc);
  sc.tagging = Tagging::Tagged;
  if (mte_) return add_plain(sc);
  skip(sc.name(), no_mte_, "run it on an arm64 CPU with MTE, or in a guest: ./swapbench matrix --kernels debian-6.12-arm64 --suite mte");
}

void Expander::add_arms(Scenario sc) {
  const SuiteDef& suite = *plan.suite;
  if (suite.interleave_arms) {
    sc.arm = {"interleaved", 0};
    sc.interleaved = suite.arms;
    return add(sc);
  }
  for (const auto& a : suite.arms) {
    sc.arm = a;
    add(sc);
  }
}

}  // namespace swapbench
