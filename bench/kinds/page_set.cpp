#include "bench/kinds/page_set.h"

#include <sys/mman.h>

#include <cstring>

#include "bench/interleave.h"
#include "bench/mte_memory.h"
#include "workloads/arch/marker.h"

namespace swapbench {

void PageSet::start(SetRun& run) {
  const Scenario& sc = run.sc;
  prof_ = &run.runner.profile(sc.profile);
  gen_ = run.runner.generation(run.rec);
  run.samples.assign(sc.pages, 0);
  // Locked so that reclaim cannot push the sample buffer itself out mid-loop.
  mlock(run.samples.data(), run.samples.size() * sizeof(uint64_t));
  order_ = make_order(sc.pattern, sc.pages, gen_);
  if (sc.interleaved.empty()) return;
  // Page-interleaved arms: the k-th visit's arm and its delay, fixed before the loop so the loop
  // only reads an array. Salted so that the arms are not a function of the visit order's seed.
  arm_seed_ = gen_ ^ 0x5a17a1e4a6e5ull;
  arm_of_ = assign_arms(sc.pages, sc.interleaved.size(), arm_seed_);
  inject_at_.resize(arm_of_.size());
  write_at_.resize(arm_of_.size());
  for (size_t i = 0; i < arm_of_.size(); ++i) {
    inject_at_[i] = sc.interleaved[arm_of_[i]].inject_ns + run.plan.inject_ns;
    write_at_[i] = sc.interleaved[arm_of_[i]].write_fault || sc.write_faults;
  }
  if (!inject_at_.empty()) {
    mlock(inject_at_.data(), inject_at_.size() * sizeof(uint64_t));
    mlock(write_at_.data(), write_at_.size());
  }
}

void PageSet::fill_region(SetRun& run) {
  Memcg* memcg = run.borrowed ? run.borrowed->memcg.get() : nullptr;
  // Only the region is charged to the cgroup: enter, fault it in, leave. A threaded set's region
  // (every thread's slice) is filled here too, before its threads exist: an anonymous page is
  // charged to the cgroup of its mm's owner, so a worker entering alone (v1's per-thread `tasks`)
  // would charge nothing differently, and entering by cgroup.procs (v1 and v2) moves every
  // thread. A swap-in charges the page back to the cgroup its swap entry records, whichever
  // thread faults it.
  if (memcg) memcg->enter();
  r_ = std::make_unique<Region>(run.sc.pages, run.plan.thp);
  if (run.sc.tagging == Tagging::Tagged) run.runner.tag_region(*r_, gen_);
  r_->fill(*prof_, gen_);
  if (memcg) memcg->leave();
  auto m = measure_ratio(r_->page(0), run.sc.pages, 64);
  run.sb["ratio_measured"] = {{"lz4", m.lz4}, {"zstd", m.zstd}, {"sampled_pages", m.pages}};
}

bool PageSet::start_filled(SetRun& run) {
  start(run);
  try {
    fill_region(run);
    return true;
  } catch (const std::exception& e) {
    run.rec.error = std::string("setting up the region failed: ") + e.what();
    return false;
  }
}

void PageSet::push_out(SetRun& run) {
  if (const SwapBackend* be = run.runner.backend()) device_pre_ = be->snapshot(*run.borrowed);
  // The mte suite's sets (tagged and untagged alike): slab caches and vmstat around the push-out,
  // for the saved tags' memory per page and the THP case (bench/mte_memory.h).
  const bool mte = run.sc.tagging != Tagging::None;
  const PushoutReading pre = mte ? read_pushout() : PushoutReading{};
  if (int e = r_->pageout_all()) run.rec.error = std::string("MADV_PAGEOUT failed: ") + std::strerror(e);
  if (mte) record_pushout(pre, read_pushout(), run.sb);
}

void PageSet::time_faults(SetRun& run, benchmark::State& st, bool write, uint8_t byte) {
  const uint64_t inject = run.runner.inject_ns(run.sc);
  const KnownWork known = run.plan.suite->known_work ? known_work(run.sc.arm.extra_instructions) : nullptr;
  if (run.sc.threads > 1)
    return time_threads(run, st, true, "", [&](size_t i, uint64_t& ns) {
      ns = r_->timed_fault(i, write, byte, inject, Region::Marks::On, known);
      return 0;
    });
  const bool interleaved = !inject_at_.empty();
  std::vector<double> host_ref;
  host_ref.reserve(run.sc.pages / kHostRefEvery + 1);
  size_t& k = run.k;
  for (auto _ : st) {
    uint64_t ns = interleaved ? r_->timed_fault(order_[k], write_at_[k], byte, inject_at_[k], Region::Marks::On, known)
                              : r_->timed_fault(order_[k], write, byte, inject, Region::Marks::On, known);
    run.samples[k++] = ns;
    st.SetIterationTime(static_cast<double>(ns) * 1e-9);
    if (k % kHostRefEvery == 0) sample_host(run, host_ref);
  }
  run.sb["host_ref"] = host_ref_json(host_ref);
}

void PageSet::time_threads(SetRun& run, benchmark::State& st, bool in_pattern, const char* failed, const PageOp& op) {
  const Scenario& sc = run.sc;
  const std::vector<Slice> slices = split_pages(sc.pages, sc.threads);
  Placement where;
  try {
    where = place_threads(pu_os_indexes(), run.plan.cpu.value_or(-1), sc.threads);
  } catch (const std::invalid_argument& e) {
    run.rec.error = std::string("placing the set's threads failed: ") + e.what();
    return;
  }
  // The visit orders are made before the threads start: no thread's clock runs while they are.
  std::vector<std::vector<uint32_t>> orders;
  for (size_t t = 0; t < slices.size(); ++t)
    orders.push_back(in_pattern ? make_order(sc.pattern, slices[t].pages, gen_ + t) : std::vector<uint32_t>{});
  std::vector<ThreadRun> runs;
  for (auto _ : st) {
    runs = run_threads(slices, where, [&](ThreadRun& t) {
      const std::vector<uint32_t>& order = orders[static_cast<size_t>(t.index)];
      for (size_t i = 0; i < t.slice.pages; ++i) {
        const size_t page = t.slice.first + (order.empty() ? i : order[i]);
        uint64_t ns = 0;
        if (int e = op(page, ns)) {
          t.error = std::string(failed) + " on page " + std::to_string(page) + ": " + std::strerror(e);
          return;
        }
        t.samples.push_back(ns);
      }
    });
    run.samples.clear();
    for (const ThreadRun& t : runs) run.samples.insert(run.samples.end(), t.samples.begin(), t.samples.end());
    run.k = run.samples.size();
    // Google Benchmark's figure for the one iteration: the mean per page, as a one-thread set's.
    const LatencySummary all = summarize(run.samples);
    st.SetIterationTime(all.mean * 1e-9);
  }
  run.sb["threads"] = thread_figures(runs, where);
  run.sb["host_ref"] = nullptr;  // its probe pauses one thread's counters; threaded sets count nothing
  if (std::string why = thread_failure(runs); !why.empty()) run.rec.error = why;
}

void PageSet::sample_host(SetRun& run, std::vector<double>& host_ref) {
  // The host-drift probe is no part of the set: the counters pause around it (on a real PMU its
  // 1,024 multiply-adds every 128 pages would add about 8 user instructions per page).
  run.pmu.stop();
  host_ref.push_back(static_cast<double>(host_reference_ns()));
  run.pmu.resume();
}

void PageSet::record_device(SetRun& run, const Stats& pre, const Stats& stored) {
  if (const SwapBackend* be = run.runner.backend()) be->record(pre, stored, run.sb);
}

void PageSet::check_pages(SetRun& run) {
  run.runner.check_stamps(*r_, *prof_, gen_, run.rec);
  if (run.sc.tagging == Tagging::Tagged) run.runner.check_tags(*r_, gen_, run.rec);
  if (run.sb.contains("threads")) stamps_per_thread(run);
}

// Which threads' pages came back wrong: their slices were theirs alone, so a wrong page names the
// thread that faulted it (or pushed it out).
void PageSet::stamps_per_thread(SetRun& run) {
  const bool any = run.sb["stamps"]["failed"].get<size_t>() > 0;
  std::string which;
  for (auto& t : run.sb["threads"]["per_thread"]) {
    const size_t first = t["first_page"].get<size_t>(), pages = t["slice_pages"].get<size_t>();
    size_t bad = 0;
    for (size_t i = first; any && i < first + pages; ++i) bad += !prof_->verify(r_->page(i), i, gen_).empty();
    t["stamps_failed"] = bad;
    if (bad) which += (which.empty() ? "" : ", ") + ("thread " + t["index"].dump() + ": " + std::to_string(bad));
  }
  if (!which.empty()) run.rec.error += " (wrong pages by thread: " + which + ")";
}

void PageSet::record(SetRun& run) {
  if (inject_at_.empty()) return;
  // The set's own figures become the base arm's; every arm's, and the paired ratios, go in
  // `interleaved`. PMU counts stay per fault of the whole loop (the Runner divides by k).
  run.samples.resize(run.k);
  InterleavedFigures f = interleaved_figures(run.sc.interleaved, run.samples, arm_of_);
  run.sb["interleaved"] = f.to_json(arm_seed_, run.plan.inject_ns);
  run.samples = std::move(f.base_samples);
}

}  // namespace swapbench
