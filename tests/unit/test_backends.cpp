// A backend is one file: this file alone registers a new one (with a kind that swaps to it), and
// the registry lists it, --backend takes its name, the plan expands its sets once per compressor
// it offers, and the proof of path applies its rule. Nothing else was edited for it.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "bench/backend.h"
#include "bench/kind.h"
#include "bench/plan.h"

using namespace swapbench;

namespace {

constexpr Backend kTestRam = static_cast<Backend>(10);

class TestRam : public SwapBackend {
 public:
  TestRam()
      : SwapBackend({.id = kTestRam,
                     .name = "test_ram",
                     .description = "a backend registered by its test",
                     .compresses = true,
                     .zpool = "none",
                     .rank = 99,
                     .set_rank = 99,
                     .every_compressor = "(every it takes)",
                     .missing_fix = "none"}) {}
  void expect_path(ProofRules& r, int64_t n, SwapDirection dir) const override {
    r.v.path = "test_ram";
    r.expect("zswp" + dir_name(dir), n);
  }
  std::string refusal(const BackendCaps&, const std::string&) const override { return "not taken"; }
};

const BackendRegistrar backend_registrar(std::make_unique<TestRam>());

class OnTestRam : public SetKind {
 public:
  OnTestRam()
      : SetKind({.name = "test_on_ram",
                 .short_name = "onram",
                 .description = "a kind that swaps to the test's backend",
                 .privileged = false,
                 .backends = {kTestRam}}) {}
  void expand(Expander& x, const SetSite& at) const override { x.add(x.set(info.name, at, Pattern::Sequential)); }
  std::unique_ptr<SetPhases> phases() const override { return nullptr; }
};

const KindRegistrar kind_registrar(std::make_unique<OnTestRam>());

Plan plan(std::vector<std::string> compressors = {}) {
  static const SuiteDef s = {.name = "test-ram", .description = "the test's kind on the test's backend",
                             .kinds = {"test_on_ram"}, .backends = {"test_ram"},
                             .profiles = {"ratio2"}, .patterns = {"random"}, .pages = 16, .repetitions = 1};
  Plan p;
  p.suite = &s;
  p.pages = 16;
  p.repetitions = 1;
  p.backends = {kTestRam};
  p.compressors = std::move(compressors);
  p.profiles = {parse_profile("ratio2")};
  p.patterns = {Pattern::Random};
  return p;
}

Capabilities kernel() {
  Capabilities c;
  c.root = true;
  c.backends[kTestRam] = {.available = true, .compressors = {"lz4", "lzo"}};
  return c;
}

std::vector<std::string> names(const Expansion& x) {
  std::vector<std::string> out;
  for (const auto& s : x.sets) out.push_back(s.name());
  return out;
}

}  // namespace

TEST(Backends, ANewBackendIsListedByName) {
  ASSERT_NE(backend_or_null("test_ram"), nullptr);
  EXPECT_EQ(backend_or_null("test_ram")->name(), "test_ram");
  EXPECT_EQ(&backend_of(kTestRam), backend_or_null("test_ram"));
  EXPECT_NE(backend_names().find("zswap, disk, zram, test_ram"), std::string::npos) << backend_names();
  EXPECT_THROW(BackendRegistrar(std::make_unique<TestRam>()), std::logic_error) << "a name is registered once";
}

TEST(Backends, ANewBackendIsPlannedOncePerCompressorItTakes) {
  const std::vector<std::string> want = {"test_on_ram/test_ram/lz4/ratio2/seq", "test_on_ram/test_ram/lzo/ratio2/seq"};
  EXPECT_EQ(names(expand(plan(), kernel())), want);
  EXPECT_EQ(names(expand(plan({"lzo"}), kernel())), std::vector<std::string>{"test_on_ram/test_ram/lzo/ratio2/seq"});
  EXPECT_THROW(expand(plan({"deflate"}), kernel()), BadInput) << "refused by every compressing backend of the run";
  Capabilities none = kernel();
  none.backends[kTestRam] = {.reason = "not here"};
  const Expansion y = expand(plan(), none);
  EXPECT_TRUE(y.sets.empty());
  ASSERT_EQ(y.skipped.size(), 1u);
  EXPECT_EQ(y.skipped[0].benchmark, "*/test_ram/*");
  EXPECT_EQ(y.skipped[0].reason, "not here");
}

TEST(Backends, TheProofAppliesANewBackendsRule) {
  const Verdict v = prove_swapin(backend_of(kTestRam), 8, 0, {{"zswpin", 8}}, false);
  EXPECT_TRUE(v.valid) << v.reason;
  EXPECT_EQ(v.path, "test_ram");
  EXPECT_FALSE(prove_swapin(backend_of(kTestRam), 8, 0, {{"zswpin", 7}}, false).valid);
}
