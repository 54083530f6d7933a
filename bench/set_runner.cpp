#include "bench/set_runner.h"

#include "bench/interleave.h"
#include "bench/mte_memory.h"
#include "bench/outliers.h"

#include <sys/mman.h>

#include <algorithm>
#include <cstring>
#include <iostream>
#include <thread>

#include "workloads/arch/arm64/mte.h"
#include "workloads/arch/marker.h"
#include "workloads/host_ref.h"
#include "workloads/reclaimers.h"

namespace swapbench {

const PageProfile& Runner::profile(const ProfileSpec& s) {
  auto& p = profiles_[s.name()];
  if (!p) p = std::make_unique<PageProfile>(s);
  return *p;
}

StatSnapshot Runner::snapshot() const {
  StatSnapshot s;
  s.vmstat = read_vmstat("/");
  s.zswap = read_zswap_debugfs(kDebugfs);
  if (b_ && b_->memcg) s.memcg = b_->memcg->stat();
  if (zram_) s.zram = zram_->stats();
  return s;
}

// A page's content and the fault order follow from its set's generation, and the kernel's
// instructions follow the content (a compressor's work is data-dependent). So the generation is a
// function of the set and the repetition, not of the order Google Benchmark interleaved the sets
// in: the same set gets the same data in every boot and on every kernel, and instruction counts
// compare like with like. Still unique per set and repetition within a run, so a stale page from
// another set or repetition fails its stamp. calibrate-exact's arms share the data of one
// repetition: they must differ by their known work alone.
uint64_t Runner::generation(const SetRecord& rec) const {
  const uint64_t rep = static_cast<uint64_t>(rec.repetition) + 1;
  if (p_.suite->known_work) return rep;
  uint64_t h = 0xcbf29ce484222325ull;  // FNV-1a 64 of the set's name
  for (unsigned char c : rec.sc.name()) h = (h ^ c) * 0x100000001b3ull;
  return (h << 20) + rep;  // injective in rep: distinct repetitions never share a generation
}

void Runner::run_set(benchmark::State& st, const Scenario& sc) {
  switch (sc.kind) {
    case Kind::Writeback: return run_writeback_set(st, sc);
    case Kind::Race: return run_race_set(st, sc);
    default: return run_timed_set(st, sc);
  }
}

void Runner::configure(const Scenario& sc, json& sb) {
  zram_ = nullptr;
  if (!b_) return;
  if (b_->zswap) {
    ZswapGuard& z = *b_->zswap;
    if (sc.backend == Backend::Zswap) {
      if (z.get("compressor") != sc.compressor) z.set("compressor", sc.compressor);
      z.set("enabled", "Y");
    } else {
      z.set("enabled", "N");  // zram sets too: an enabled zswap would store their pages before zram
    }
    sb["zswap_params"] = z.now();
  }
  zram_ = use_swap_for(*b_, sc.backend, sc.compressor);
  if (zram_)
    sb["zram"] = {{"device", zram_->device()}, {"diskseq", zram_->diskseq()}, {"comp_algorithm", zram_->compressor()},
                  {"disksize_bytes", zram_->disksize()}};
}

// Disk pages stay in the swap cache after MADV_PAGEOUT (writeback is asynchronous); a fault on
// them would be a minor fault. Reclaiming the workload's cgroup drops them once written.
json Runner::evict_swapcache(Region& r) {
  auto t0 = std::chrono::steady_clock::now();
  int attempts = 0;
  std::string last;
  size_t resident = r.resident();
  while (resident > 0 && std::chrono::steady_clock::now() - t0 < std::chrono::seconds(20)) {
    ++attempts;
    last = b_->memcg->reclaim(r.pages() * kPageSize);
    resident = r.resident();
    if (resident) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return {{"method", b_->memcg->info().version == MemcgVersion::V1 ? "memory.force_empty" : "memory.reclaim"},
          {"attempts", attempts}, {"seconds", secs}, {"still_resident", resident}, {"last_refusal", last}};
}

json host_ref_json(std::vector<double> ns) {
  if (ns.empty()) return nullptr;
  std::sort(ns.begin(), ns.end());
  return {{"loop_ns_p50", quantile_linear(ns, 0.5)}, {"loop_ns_min", ns.front()}, {"samples", ns.size()},
          {"every_pages", kHostRefEvery}, {"iterations", kHostRefIterations},
          {"method", "a fixed chain of dependent multiply-adds timed between faults, outside the timed window"}};
}

void Runner::run_timed_set(benchmark::State& st, const Scenario& sc) {
  SetRecord rec = begin(sc);
  const PageProfile& prof = profile(sc.profile);
  const bool zero = sc.profile.kind == ProfileKind::Zero;
  const uint64_t gen = generation(rec);
  json& sb = rec.sb;
  const uint64_t inject = inject_ns(sc);
  const KnownWork known = p_.suite->known_work ? known_work(sc.arm.extra_instructions) : nullptr;
  std::vector<uint64_t> samples(sc.pages);
  // Locked so that reclaim cannot push the sample buffer itself out mid-loop.
  mlock(samples.data(), samples.size() * sizeof(uint64_t));
  auto order = make_order(sc.pattern, sc.pages, gen);
  // Page-interleaved arms: the k-th visit's arm and its delay, fixed before the loop so the loop
  // only reads an array. Salted so that the arms are not a function of the visit order's seed.
  const uint64_t arm_seed = gen ^ 0x5a17a1e4a6e5ull;
  const std::vector<uint8_t> arm_of =
      sc.interleaved.empty() ? std::vector<uint8_t>{} : assign_arms(sc.pages, sc.interleaved.size(), arm_seed);
  std::vector<uint64_t> inject_at(arm_of.size());
  std::vector<uint8_t> write_at(arm_of.size());
  for (size_t i = 0; i < arm_of.size(); ++i) {
    inject_at[i] = sc.interleaved[arm_of[i]].inject_ns + p_.inject_ns;
    write_at[i] = sc.interleaved[arm_of[i]].write_fault || sc.write_faults;
  }
  if (!inject_at.empty()) {
    mlock(inject_at.data(), inject_at.size() * sizeof(uint64_t));
    mlock(write_at.data(), write_at.size());
  }
  const bool interleaved = !inject_at.empty();
  std::unique_ptr<Region> r;
  Stats zram_pre;  // the device before the region is pushed out: what the region adds is its footprint
  if (rec.error.empty()) try {
    if (sc.kind == Kind::FloorFirsttouch) {
      r = std::make_unique<Region>(sc.pages, p_.thp);
    } else {
      // Only the region is charged to the cgroup: enter, fault it in, leave.
      if (b_->memcg) b_->memcg->enter();
      r = std::make_unique<Region>(sc.pages, p_.thp);
      if (sc.tagging == Tagging::Tagged) tag_region(*r, gen);
      r->fill(prof, gen);
      if (b_->memcg) b_->memcg->leave();
      auto m = measure_ratio(r->page(0), sc.pages, 64);
      sb["ratio_measured"] = {{"lz4", m.lz4}, {"zstd", m.zstd}, {"sampled_pages", m.pages}};
    }
  } catch (const std::exception& e) {
    rec.error = std::string("setting up the region failed: ") + e.what();
  }

  Verdict v;
  StatSnapshot before, after;
  CounterGroup pmu(events_);
  uint64_t resident_before = 0;
  size_t k = 0;
  std::vector<double> host_ref;
  host_ref.reserve(sc.pages / kHostRefEvery + 1);
  if (rec.error.empty()) {
    if (sc.kind == Kind::Swapin || sc.kind == Kind::FloorSwapcache) {
      if (zram_) zram_pre = zram_->stats();
      // The mte suite's sets (tagged and untagged alike): slab caches and vmstat around the push-out,
      // for the saved tags' memory per page and the THP case (bench/mte_memory.h).
      const PushoutReading pre = sc.tagging != Tagging::None ? read_pushout() : PushoutReading{};
      if (int e = r->pageout_all()) rec.error = std::string("MADV_PAGEOUT failed: ") + std::strerror(e);
      if (sc.tagging != Tagging::None) record_pushout(pre, read_pushout(), sb);
      if (sc.kind == Kind::Swapin && r->resident() > 0 && b_->memcg) sb["swapcache_eviction"] = evict_swapcache(*r);
      resident_before = r->resident();
    }
  }
  if (rec.error.empty()) {
    const bool write = sc.write_faults || sc.kind == Kind::FloorFirsttouch;
    const uint8_t byte = sc.kind == Kind::FloorFirsttouch ? 0 : prof.first_byte();
    // The host-drift probe is no part of the set: the counters pause around it (on a real PMU its
    // 1,024 multiply-adds every 128 pages would add about 8 user instructions per page).
    auto sample_host = [&] {
      pmu.stop();
      host_ref.push_back(static_cast<double>(host_reference_ns()));
      pmu.resume();
    };
    before = snapshot();
    pmu.start();
    if (sc.kind == Kind::Swapout) {
      for (auto _ : st) {
        uint64_t ns = 0;
        if (int e = r->timed_pageout(k, ns)) {
          rec.error = std::string("MADV_PAGEOUT failed: ") + std::strerror(e);
          break;
        }
        samples[k++] = ns;
        st.SetIterationTime(static_cast<double>(ns) * 1e-9);
        if (k % kHostRefEvery == 0) sample_host();
      }
    } else {
      for (auto _ : st) {
        uint64_t ns = interleaved ? r->timed_fault(order[k], write_at[k], byte, inject_at[k], Region::Marks::On, known)
                                  : r->timed_fault(order[k], write, byte, inject, Region::Marks::On, known);
        samples[k++] = ns;
        st.SetIterationTime(static_cast<double>(ns) * 1e-9);
        if (k % kHostRefEvery == 0) sample_host();
      }
    }
    sb["host_ref"] = host_ref_json(host_ref);
    pmu.stop();
    after = snapshot();
  }
  StatDelta d = delta(before, after);
  if (rec.error.empty()) {
    switch (sc.kind) {
      case Kind::Swapin: v = prove_swapin(sc.backend, sc.pages, resident_before, d.vmstat, zero, d.zram); break;
      case Kind::Swapout: v = prove_swapout(sc.backend, sc.pages, r->resident(), d.vmstat, zero, d.zram); break;
      case Kind::FloorSwapcache: v = prove_swapcache_floor(sc.pages, resident_before, d.vmstat); break;
      case Kind::FloorFirsttouch: v = prove_firsttouch_floor(sc.pages, d.vmstat); break;
      case Kind::Writeback:
      case Kind::Race: break;  // their own set functions prove them
    }
    if (zram_) {
      // The region's footprint in the device (mm_stat after - before the push-out; the swap-out
      // set's push-out is its timed loop), and the device as it stood with the region stored.
      const Stats& stored = sc.kind == Kind::Swapout ? after.zram : before.zram;
      json f = zram_footprint(sc.kind == Kind::Swapout ? before.zram : zram_pre, stored);
      for (auto& [k, val] : f.items()) sb["zram"][k] = val;
      json dev = json::object();
      for (const auto& [k, val] : stored)
        if (k.rfind("mm_stat.", 0) == 0) dev[k.substr(8)] = val;
      sb["zram"]["mm_stat_stored"] = dev;
    }
    if (sc.kind == Kind::Swapin && p_.test_corrupt_page >= 0 && static_cast<size_t>(p_.test_corrupt_page) < sc.pages) {
      // --test-corrupt-page: tests the checks below. A tagged set gets one wrong tag (granule 6 of
      // that page) instead of wrong data, so the tag check alone must catch it.
      uint8_t* bad = r->page(static_cast<size_t>(p_.test_corrupt_page));
      if (sc.tagging == Tagging::Tagged) mte_set_tag(bad + 6 * kMteGranule, 0);
      else bad[100] ^= 0x40;
    }
    if (sc.kind != Kind::FloorFirsttouch) {
      check_stamps(*r, prof, gen, rec);  // for swap-out sets this faults the pages back in, untimed
      if (sc.tagging == Tagging::Tagged) check_tags(*r, gen, rec);
    } else {
      sb["stamps"] = {{"checked", 0}, {"failed", 0}, {"note", "fresh pages carry no stamp"}};
    }
  }
  if (interleaved) {
    // The set's own figures become the base arm's; every arm's, and the paired ratios, go in
    // `interleaved`. PMU counts stay per fault of the whole loop (finish() divides by k).
    samples.resize(k);
    InterleavedFigures f = interleaved_figures(sc.interleaved, samples, arm_of);
    sb["interleaved"] = f.to_json(arm_seed, p_.inject_ns);
    samples = std::move(f.base_samples);
  }
  finish(st, rec, v, samples, k, d, pmu, resident_before);
}

// What every set starts with: what it is, when it began, and the zswap state it runs under.
SetRecord Runner::begin(const Scenario& sc) {
  SetRecord rec;
  rec.sc = sc;
  rec.repetition = reps_done_[sc.name()]++;
  json& sb = rec.sb;
  sb = {{"kind", to_string(sc.kind)}, {"backend", to_string(sc.backend)}, {"compressor", sc.compressor},
        {"profile", sc.profile.name()}, {"pattern", to_string(sc.pattern)}, {"pages", sc.pages},
        {"fault", sc.write_faults ? "write" : "read"}, {"inject_ns", inject_ns(sc)}, {"extra_instructions", sc.arm.extra_instructions},
        {"variant", sc.mechanism                    ? to_string(*sc.mechanism)
                    : sc.tagging != Tagging::None ? to_string(sc.tagging)
                                                  : sc.arm.label},
        // When this repetition began, in s since the run started: lets analysis see drift over time.
        {"started_s", std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count()}};
  if (sc.privileged()) {
    try {
      configure(sc, sb);
    } catch (const std::exception& e) {
      rec.error = std::string("setting up the set's swap path failed: ") + e.what();
    }
  }
  sb["zpool"] = sb.contains("zswap_params") && sb["zswap_params"].contains("zpool") ? sb["zswap_params"]["zpool"]
                : sc.backend == Backend::Zswap ? json("zsmalloc (the only zpool; no zpool parameter)")
                : sc.backend == Backend::Zram  ? json("zsmalloc (zram's only allocator)")
                                               : json("none");
  return rec;
}

// Every page's stamp, checked; a wrong one is a hard failure naming the page.
void Runner::check_stamps(Region& r, const PageProfile& prof, uint64_t gen, SetRecord& rec) {
  size_t bad = 0;
  auto msgs = r.verify(prof, gen, 5, bad);
  rec.sb["stamps"] = {{"checked", rec.sc.pages}, {"failed", bad}, {"first_failures", msgs}};
  if (bad) {
    hard_failure = true;
    rec.error = std::to_string(bad) + " of " + std::to_string(rec.sc.pages) +
                " pages came back wrong (stale or corrupted data): " + msgs.front();
    std::cerr << "\nswapbench: HARD FAILURE in " << rec.sc.name() << ":\n";
    for (auto& m : msgs) std::cerr << "  " << m << "\n";
  }
}

void Runner::tag_region(Region& r, uint64_t gen) {
  if (!mte_gate_passed_) {
    // Before the first tagged page is swapped: tags that do not survive a plain write and read
    // would make every tag failure below the CPU's or emulator's, not the kernel's.
    const MteSelftest t = mte_selftest(64, gen);
    if (!t.passed())
      throw std::runtime_error("the MTE gate failed before any swap (an emulator or CPU fault, not the kernel's): " +
                               (t.check.checked ? std::to_string(t.check.wrong) + " of " +
                                                      std::to_string(t.check.checked) + " granules read back a wrong tag"
                                                : t.why));
    mte_gate_passed_ = true;
  }
  std::string why;
  if (!mte_protect(r.page(0), r.pages() * kPageSize, &why)) throw std::runtime_error(why);
  mte_write_tags(r.page(0), r.pages(), kPageSize, gen);
}

// Every granule's tag, after the stamps (which faulted every page back in): a wrong one is a hard
// failure naming the page, the granule, the expected and the found tag.
void Runner::check_tags(Region& r, uint64_t gen, SetRecord& rec) {
  const TagCheck c = mte_check_region(r.page(0), r.pages(), kPageSize, gen, 5);
  json first = json::array();
  for (const auto& m : c.first) first.push_back(describe(m, kPageSize));
  rec.sb["mte_tags"] = {{"granules_checked", c.checked}, {"granules_wrong", c.wrong}, {"pages_wrong", c.pages_wrong},
                        {"first_failures", first}, {"granule_bytes", kMteGranule},
                        {"tags", "random 1..15 per granule (never 0: a lost tag reads 0 and is always caught)"}};
  if (!c.wrong) return;
  hard_failure = true;
  const std::string what = std::to_string(c.wrong) + " of " + std::to_string(c.checked) + " MTE granules (" +
                           std::to_string(c.pages_wrong) + " pages) came back with a wrong tag: " +
                           first.front().get<std::string>();
  rec.error = rec.error.empty() ? what : rec.error + "; " + what;
  std::cerr << "\nswapbench: HARD FAILURE in " << rec.sc.name() << ": MTE tags lost or changed by swap:\n";
  for (const auto& m : first) std::cerr << "  " << m.get<std::string>() << "\n";
}

// zswpwb where vmstat has it (6.8+), else debugfs written_back_pages: both count every page zswap
// wrote back, machine-wide.
void Runner::finish(benchmark::State& st, SetRecord& rec, Verdict& v, std::vector<uint64_t>& samples, size_t k,
                    const StatDelta& d, CounterGroup& pmu, uint64_t resident_before) {
  json& sb = rec.sb;
  const Scenario& sc = rec.sc;
  if (!rec.error.empty()) {
    v.valid = false;
    v.reason = rec.error;
    st.SkipWithError(rec.error.c_str());
  } else if (exit_requested()) {
    // A signal arrived: the signal thread is putting the machine back under this set (zswap off,
    // the swap area gone), so what it measured is not the scenario it names.
    v.valid = false;
    v.reason = "measured while the run was being stopped by a signal and the machine restored";
  }
  samples.resize(std::min(samples.size(), k));  // an interleaved set's are its base arm's: fewer than k
  rec.lat = summarize(samples);
  LogLinearHistogram h;
  for (auto s : samples) h.add(s);
  // A count above the region's may be another reclaimer's page-outs (workloads/reclaimers.h).
  if (!v.valid && rec.error.empty() && v.reason.find(" delta ") != std::string::npos) {
    static const std::string hint = reclaimers_hint(find_reclaimers("/"));
    if (!hint.empty()) v.reason += " (" + hint + ")";
  }
  rec.valid = v.valid;
  sb["valid"] = v.valid;
  sb["invalid_reason"] = v.valid ? json(nullptr) : json(v.reason);
  sb["path"] = v.path;
  sb["resident_before"] = resident_before;
  sb["latency_ns"] = rec.lat.to_json();
  sb["histogram"] = h.to_json();
  sb["deltas"] = d.to_json();
  json pmu_j = json::object(), pmu_raw = json::object();
  for (const auto& c : pmu.read()) {
    pmu_j[c.name] = c.scaled < 0 || !k ? json(nullptr) : json(c.scaled / static_cast<double>(k));
    pmu_raw[c.name] = {{"raw", c.raw}, {"scaled", c.scaled}, {"running_share", c.running_share}};
  }
  sb["pmu"] = pmu_j;
  sb["pmu_totals"] = pmu_raw;
  sb["pmu_scope"] = "the whole timed loop (faults, timer reads and loop bookkeeping) divided by faults";
  // End of this repetition for a counted guest: every set's repetition executes exactly one REPORT,
  // failed ones included, so the numbering the count pass pairs by never skips.
  sb["count_report"] = process_reports().report();
  records.push_back(rec);

  ++runs_done_;
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  std::string extra;
  if (sb.contains("writeback") && sb["writeback"].contains("pages_per_second"))
    extra = " wb " + std::to_string(sb["writeback"]["written_back"].get<uint64_t>()) + " pages at " +
            std::to_string(static_cast<long>(sb["writeback"]["pages_per_second"].get<double>())) + "/s";
  std::fprintf(stderr, "[%3d/%d %5.0fs] %-48s rep %d: p50 %8.0f ns  p99 %8.0f ns%s  %s\n", runs_done_, total_runs, secs,
               sc.name().c_str(), rec.repetition + 1, rec.lat.p50, rec.lat.p99, extra.c_str(),
               v.valid ? "valid" : ("INVALID: " + v.reason).c_str());
}

}  // namespace swapbench
