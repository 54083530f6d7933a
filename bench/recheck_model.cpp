#include "bench/recheck_model.h"

#include <benchmark/benchmark.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <mutex>
#include <optional>
#include <nlohmann/json.hpp>
#include <random>

#include "bench/results.h"
#include "bench/result_doc.h"
#include "bench/plan.h"
#include "workloads/cpu/pinning.h"

namespace swapbench {

using json = nlohmann::json;

const std::vector<std::string> kRecheckForms = {"rbtree", "xa_lock", "xa_rcu"};

namespace {

inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield");
#endif
}

// Test-and-test-and-set, as a kernel spinlock is in spirit: waiters spin on a read.
class SpinLock {
 public:
  void lock() const {
    while (f_.exchange(true, std::memory_order_acquire))
      while (f_.load(std::memory_order_relaxed)) cpu_relax();
  }
  void unlock() const { f_.store(false, std::memory_order_release); }

 private:
  mutable std::atomic<bool> f_{false};
};

class RbTreeIndex : public RecheckIndex {
 public:
  void insert(uint64_t off, const ModelEntry* e) override { tree_[off] = e; }
  bool still_current(uint64_t off, const ModelEntry* e) const override {
    lock_.lock();
    auto it = tree_.find(off);
    bool same = it != tree_.end() && it->second == e;
    lock_.unlock();
    return same;
  }

 private:
  std::map<uint64_t, const ModelEntry*> tree_;
  SpinLock lock_;
};

// 64 slots per node, as the xarray has; the height grows with the largest offset stored.
class RadixIndex : public RecheckIndex {
 public:
  explicit RadixIndex(bool locked) : locked_(locked) {}
  ~RadixIndex() override { free_node(root_, height_); }
  void insert(uint64_t off, const ModelEntry* e) override {
    while (off >= capacity()) grow();
    Node* n = root_;
    for (int level = height_ - 1; level > 0; --level) {
      auto& slot = n->slot[(off >> (6 * level)) & 63];
      void* child = slot.load(std::memory_order_relaxed);
      if (!child) {
        child = new Node();
        slot.store(child, std::memory_order_release);
      }
      n = static_cast<Node*>(child);
    }
    n->slot[off & 63].store(const_cast<ModelEntry*>(e), std::memory_order_release);
  }
  bool still_current(uint64_t off, const ModelEntry* e) const override {
    if (locked_) lock_.lock();
    bool same = lookup(off) == e;
    if (locked_) lock_.unlock();
    return same;
  }

 private:
  struct Node {
    std::atomic<void*> slot[64] = {};
  };
  uint64_t capacity() const { return height_ >= 11 ? UINT64_MAX : 1ull << (6 * height_); }
  void grow() {
    Node* n = new Node();
    n->slot[0].store(root_, std::memory_order_release);
    root_ = n;
    ++height_;
  }
  const void* lookup(uint64_t off) const {
    if (off >= capacity()) return nullptr;
    const Node* n = root_;
    for (int level = height_ - 1; level > 0; --level) {
      n = static_cast<const Node*>(n->slot[(off >> (6 * level)) & 63].load(std::memory_order_acquire));
      if (!n) return nullptr;
    }
    return n->slot[off & 63].load(std::memory_order_acquire);
  }
  void free_node(Node* n, int h) {
    if (!n) return;
    if (h > 1)
      for (auto& s : n->slot) free_node(static_cast<Node*>(s.load()), h - 1);
    delete n;
  }
  Node* root_ = new Node();
  int height_ = 1;
  bool locked_;
  SpinLock lock_;
};

// One index at a time lives in memory (1e7 entries in a std::map take about 0.7 GB); benchmarks
// are registered grouped by form and size, so each is built once.
struct Built {
  std::string form;
  size_t entries = 0;
  std::vector<ModelEntry> store;
  std::unique_ptr<RecheckIndex> index;
  std::vector<uint32_t> probes;  // positions in `store`, in random order
};
std::mutex g_mu;
std::shared_ptr<Built> g_built;

std::shared_ptr<Built> get_built(const std::string& form, size_t n) {
  std::lock_guard<std::mutex> l(g_mu);
  if (g_built && g_built->form == form && g_built->entries == n) return g_built;
  g_built.reset();
  auto b = std::make_shared<Built>();
  b->form = form;
  b->entries = n;
  b->index = make_index(form);
  // Swap offsets are dense with holes: n entries spread over 2n slots.
  std::mt19937_64 rng(n);
  b->store.resize(n);
  for (size_t i = 0; i < n; ++i) b->store[i].offset = 2 * i + (rng() & 1);
  for (const auto& e : b->store) b->index->insert(e.offset, &e);
  b->probes.resize(1u << 20);
  for (auto& p : b->probes) p = static_cast<uint32_t>(rng() % n);
  g_built = b;
  return b;
}

void BM_recheck(benchmark::State& st, std::string form, size_t n) {
  auto b = get_built(form, n);
  size_t i = static_cast<size_t>(st.thread_index()) * 7919;
  const size_t mask = b->probes.size() - 1;
  for (auto _ : st) {
    const ModelEntry& e = b->store[b->probes[i++ & mask]];
    benchmark::DoNotOptimize(b->index->still_current(e.offset, &e));
  }
  st.SetItemsProcessed(st.iterations());
}

// The newest valid writeback sets of this host and kernel: median ns per written-back page.
json writeback_reference(const std::string& host, const std::string& release) {
  json best = nullptr;
  std::string best_date;
  std::error_code ec;
  for (const auto& f : std::filesystem::directory_iterator(default_results_dir(), ec)) {
    if (f.path().extension() != ".json") continue;
    try {
      std::ifstream in(f.path());
      json d = json::parse(in);
      const auto& c = d.at("context");
      if (c.value("host_name", "") != host || c.at("swapbench").at("kernel").value("release", "") != release) continue;
      std::vector<double> v;
      std::string mech;
      for (const auto& b : d.at("benchmarks")) {
        const auto& s = b.value("swapbench", json::object());
        if (s.value("kind", "") == "writeback" && s.value("valid", false)) {
          v.push_back(s.at("writeback").at("ns_per_written_back_page").get<double>());
          mech = s.at("writeback").value("mechanism", "");
        }
      }
      if (v.empty() || c.value("date", "") <= best_date) continue;
      std::sort(v.begin(), v.end());
      best_date = c.value("date", "");
      best = {{"file", f.path().string()}, {"date", best_date}, {"mechanism", mech}, {"sets", v.size()},
              {"ns_per_written_back_page_median", v[v.size() / 2]}};
    } catch (const std::exception&) {
      continue;  // not a result, or not one with writeback sets
    }
  }
  return best;
}

}  // namespace

std::unique_ptr<RecheckIndex> make_index(const std::string& form) {
  if (form == "rbtree") return std::make_unique<RbTreeIndex>();
  if (form == "xa_lock") return std::make_unique<RadixIndex>(true);
  if (form == "xa_rcu") return std::make_unique<RadixIndex>(false);
  throw std::invalid_argument("unknown recheck form '" + form + "'; accepted: rbtree, xa_lock, xa_rcu");
}

namespace {

const std::vector<size_t> kModelSizes = {1000, 10000, 100000, 1000000, 10000000};

void register_models(const std::vector<int>& threads, int reps) {
  for (const auto& form : kRecheckForms)
    for (size_t n : kModelSizes)
      for (int t : threads)
        benchmark::RegisterBenchmark(("recheck_model/" + form + "/entries:" + std::to_string(n)).c_str(), BM_recheck,
                                     form, n)
            ->Threads(t)
            ->Repetitions(reps)
            ->MinTime(0.2)
            ->Unit(benchmark::kNanosecond);
}

// One result entry per repetition that ran without error.
json model_entries(const CaptureReporter& cap, int reps, const json& ref) {
  json benches = json::array();
  std::map<std::string, int> rep_index;
  for (const auto& r : cap.runs) {
    if (r.run_type != benchmark::BenchmarkReporter::Run::RT_Iteration || r.error_occurred) continue;
    // Google Benchmark's run name carries its own options (min_time, repeats); the set's name is
    // what it models: form, entries, lookers.
    const std::string gb = r.run_name.function_name;
    std::string form = gb.substr(std::string("recheck_model/").size());
    form = form.substr(0, form.find('/'));
    size_t n = std::stoull(gb.substr(gb.find("entries:") + 8));
    const std::string name = gb + "/threads:" + std::to_string(r.threads);
    double ns = r.GetAdjustedRealTime();
    json sb = {{"kind", kRecheckModelKind}, {"model", true}, {"form", form}, {"entries", n},
               {"lookers", r.threads}, {"valid", true}, {"invalid_reason", nullptr},
               {"ns_per_lookup", ns}, {"latency_ns", {{"mean", ns}}},
               {"note", "a user-space model of the recheck's lookup, not the kernel's code"}};
    if (!ref.is_null())
      sb["share_of_writeback"] = ns / ref["ns_per_written_back_page_median"].get<double>();
    benches.push_back({{"name", name}, {"run_name", name}, {"run_type", "iteration"}, {"repetitions", reps},
                       {"repetition_index", rep_index[name]++}, {"threads", r.threads},
                       {"iterations", r.iterations}, {"real_time", ns}, {"cpu_time", r.GetAdjustedCPUTime()},
                       {"time_unit", "ns"}, {"swapbench", sb}});
  }
  return benches;
}

// The median over repetitions of one form, size and thread count; nothing when none ran.
std::optional<double> median_ns(const json& benches, const std::string& form, size_t n, int t) {
  std::vector<double> v;
  for (const auto& b : benches)
    if (b["swapbench"]["form"] == form && b["swapbench"]["entries"] == n && b["threads"] == t)
      v.push_back(b["real_time"].get<double>());
  if (v.empty()) return std::nullopt;
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// The summary: median over repetitions, ns per lookup, per form and size.
void print_table(const json& benches, const std::vector<int>& threads) {
  std::printf("\nrecheck model (user space; labelled a model, not a kernel measurement), ns per lookup:\n");
  std::printf("%-10s %10s", "form", "entries");
  for (int t : threads) std::printf("  %9s", (std::to_string(t) + " thr").c_str());
  std::printf("\n");
  for (const auto& form : kRecheckForms)
    for (size_t n : kModelSizes) {
      std::printf("%-10s %10zu", form.c_str(), n);
      for (int t : threads) std::printf("  %9.1f", median_ns(benches, form, n, t).value_or(0.0));
      std::printf("\n");
    }
}

void print_share_of_writeback(const json& benches, const json& ref, const MachineFacts& m) {
  if (ref.is_null()) {
    std::printf("no writeback result of this host and kernel in %s: run ./swapbench run --suite writeback for the "
                "recheck's share of one writeback\n",
                m.results_dir.c_str());
    return;
  }
  const double wb = ref["ns_per_written_back_page_median"].get<double>();
  std::printf("one writeback here costs %.0f ns per page (%s, median of %zu sets in %s)\n", wb,
              ref["mechanism"].get<std::string>().c_str(), ref["sets"].get<size_t>(), ref["file"].get<std::string>().c_str());
  std::printf("the modelled recheck's share of one writeback (1 thread):\n");
  for (size_t n : {size_t(10000), size_t(1000000)})
    for (const auto& form : kRecheckForms)
      if (auto ns = median_ns(benches, form, n, 1))
        std::printf("  %-8s at %8zu entries: %8.1f ns = %.4f%%\n", form.c_str(), n, *ns, 100.0 * *ns / wb);
}

}  // namespace

int recheck_model_command(const Plan& p, const MachineFacts& m) {
  const Topology topo = read_topology();
  Binding bind = pin_current_thread(p.cpu ? *p.cpu : -1);
  const int reps = p.repetitions;
  std::vector<int> threads = {1};
  if (topo.pus > 1) threads.push_back(static_cast<int>(topo.pus));
  register_models(threads, reps);
  std::cerr << "swapbench: recheck model (user space, not the kernel): " << kRecheckForms.size() << " forms x "
            << kModelSizes.size() << " sizes x " << threads.size() << " thread counts x " << reps << " repetitions\n";
  CaptureReporter cap;
  auto t0 = std::time(nullptr);
  run_registered(cap, false);
  g_built.reset();

  json ref = writeback_reference(m.host, m.release);
  const json benches = model_entries(cap, reps, ref);
  json gctx = cap.context;
  gctx["num_cpus"] = topo.pus;
  json sbctx = {{"suite", "recheck-model"}, {"repetitions", reps}, {"cpu_model", topo.cpu_model},
                {"topology", topo.to_json()}, {"binding", bind.to_json()}, {"command_line", p.command_line},
                {"wall_seconds", std::difftime(std::time(nullptr), t0)}, {"writeback_reference", ref},
                {"model", "rbtree: std::map under a test-and-test-and-set spinlock (6.1); xa_lock: 64-way radix "
                          "tree under that spinlock (6.12's xa_cmpxchg); xa_rcu: the same tree read lock-free "
                          "with acquire loads (later kernels' xa_load). Offsets: n entries over 2n slots; lookups "
                          "at random stored offsets."}};
  const int status = write_result(p, m, result_document(gctx, sbctx, benches));
  print_table(benches, threads);
  print_share_of_writeback(benches, ref, m);
  return check_stdout(status);
}

}  // namespace swapbench
