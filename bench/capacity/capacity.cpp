#include "bench/capacity/capacity.h"

#include <fcntl.h>
#include <sys/sysinfo.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>

#include "bench/results.h"
#include "bench/capacity/page_codec.h"
#include "bench/capacity/page_source.h"

namespace swapbench {
namespace {

using capacity::InputError;
using capacity::kPage;

uint64_t now_ns() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                   std::chrono::steady_clock::now().time_since_epoch())
                                   .count());
}

nlohmann::json summary_ns(std::vector<uint64_t> v) {
  if (v.empty()) return nullptr;
  std::sort(v.begin(), v.end());
  auto q = [&](double p) { return v[static_cast<std::size_t>(p * static_cast<double>(v.size() - 1))]; };
  double sum = 0;
  for (auto x : v) sum += static_cast<double>(x);
  return {{"n", v.size()}, {"p50", q(0.5)}, {"p90", q(0.9)}, {"p99", q(0.99)}, {"mean", sum / static_cast<double>(v.size())}};
}

std::string loadavg() {
  std::ifstream f("/proc/loadavg");
  std::string s;
  std::getline(f, s);
  return s;
}

}  // namespace

nlohmann::json capacity_run(const CapacityOptions& o) {
  std::vector<capacity::Source> sources;
  for (int pid : o.pids) sources.push_back(capacity::open_pid(pid));
  for (const auto& cg : o.cgroups) {
    auto pids = capacity::cgroup_pids(cg);
    if (pids.empty()) throw InputError("--cgroup " + cg + ": no process in it; accepted: a cgroup with processes");
    for (int pid : pids) {
      auto s = capacity::open_pid(pid);
      s.label += " in " + cg;
      sources.push_back(std::move(s));
    }
  }
  for (const auto& f : o.files) sources.push_back(capacity::open_file(f));
  for (const auto& c : o.cores) sources.push_back(capacity::open_core(c));
  if (sources.empty()) throw InputError("no pages to read: give --pid, --cgroup, --file or --core");
  // Nothing sampled would print ratios of nothing (nan): say which source held what instead.
  uint64_t total = 0;
  std::string held;
  for (const auto& s : sources) {
    total += s.population();
    held += (held.empty() ? "" : "; ") + s.label + ": " +
            (s.kind == "pid" ? std::to_string(s.swapped_pages) + " pages swapped out (never read), none present"
                             : "no pages");
  }
  if (total == 0) throw InputError("nothing to estimate: no present page in the sources (" + held + ")");

  std::vector<std::string> names = o.compressors.empty() ? capacity::compressor_names() : o.compressors;
  std::vector<std::unique_ptr<capacity::PageCompressor>> comps;
  for (const auto& n : names) {
    try {
      comps.push_back(capacity::make_compressor(n));
    } catch (const std::invalid_argument& e) {
      throw InputError(std::string("--compressor ") + e.what());
    }
  }

  const uint64_t seed = o.seed ? o.seed : now_ns();
  std::mt19937_64 rng(seed);
  std::vector<uint64_t> pops;
  for (auto& s : sources) pops.push_back(s.population());
  const auto strata = capacity::allocate(pops, o.sample);

  // The pages are another process's memory: a new file only this user can read, never one that
  // exists (it could be a link to somewhere else, or readable by others).
  std::FILE* save = nullptr;
  const std::string save_name = o.save_pages_fd >= 0 ? "--save-pages-fd " + std::to_string(o.save_pages_fd)
                                                     : "--save-pages " + o.save_pages;
  if (o.save_pages_fd >= 0) {
    const int fd = dup(o.save_pages_fd);
    save = fd < 0 ? nullptr : fdopen(fd, "wb");
    if (!save) throw InputError(save_name + ": " + std::strerror(errno) + "; accepted: a descriptor open for writing");
  } else if (!o.save_pages.empty()) {
    const int fd = open(o.save_pages.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    save = fd < 0 ? nullptr : fdopen(fd, "wb");
    if (!save)
      throw InputError(save_name + ": " + std::strerror(errno) + "; accepted: a new file (it is created, mode 0600)");
  }

  nlohmann::json lengths = nlohmann::json::object();
  std::vector<std::vector<uint32_t>> lens(comps.size());
  std::vector<std::vector<uint64_t>> c_ns(comps.size()), d_ns(comps.size());
  std::vector<uint32_t> stratum_of;
  std::vector<uint8_t> class_of;
  std::vector<uint64_t> vanished(sources.size(), 0);
  std::vector<uint8_t> page(kPage), back(kPage);
  capacity::PageReader reader;
  capacity::LruProbe lru;
  std::vector<uint8_t> lru_of;
  const uint64_t t0 = now_ns();
  uint64_t read_ns = 0;

  for (const auto& st : strata) {
    const auto& src = sources[st.source];
    for (uint64_t idx : capacity::sample_indices(st.population, st.sampled, rng)) {
      // Before the read: process_vm_readv pins the page with FOLL_TOUCH, which marks it accessed
      // (mm/gup.c follow_page_pte -> mark_page_accessed): read first, the page would look younger.
      const auto lru_state = src.kind == "pid" ? lru.state(src.pid, src.page_at(idx)) : capacity::LruState::unknown;
      const uint64_t r0 = now_ns();
      if (!reader.read(src, src.page_at(idx), page.data())) {
        ++vanished[st.source];
        continue;
      }
      read_ns += now_ns() - r0;
      if (save && std::fwrite(page.data(), 1, kPage, save) != kPage)
        throw std::runtime_error(save_name + ": write failed");
      lru_of.push_back(static_cast<uint8_t>(lru_state));
      const auto cls = capacity::classify_page(page.data());
      stratum_of.push_back(static_cast<uint32_t>(st.source));
      class_of.push_back(static_cast<uint8_t>(cls));
      for (std::size_t c = 0; c < comps.size(); ++c) {
        const uint64_t a = now_ns();
        const std::size_t n = comps[c]->compress(page.data());
        const uint64_t b = now_ns();
        const bool ok = comps[c]->decompress_last(back.data());
        const uint64_t e = now_ns();
        if (!ok || std::memcmp(back.data(), page.data(), kPage) != 0)
          throw std::runtime_error(std::string(comps[c]->name()) + ": a page did not survive compression and back (" +
                                   src.label + "); the lengths cannot be trusted");
        lens[c].push_back(static_cast<uint32_t>(n));
        // Zero and same-filled pages never reach a compressor in most kernels: time data pages only.
        if (cls == capacity::PageClass::data) c_ns[c].push_back(b - a), d_ns[c].push_back(e - b);
      }
    }
  }
  if (save && std::fclose(save) != 0) throw std::runtime_error(save_name + ": close failed");
  const double elapsed = static_cast<double>(now_ns() - t0) / 1e9;

  nlohmann::json j;
  j["swapbench_capacity"] = {{"schema_version", kCapacitySchemaVersion}, {"kind", "pages"}};
  char host[256] = {};
  gethostname(host, sizeof host - 1);
  j["host"] = host;
  j["created_utc"] = utc_stamp("%Y-%m-%dT%H:%M:%SZ");
  j["kernel"] = kernel_json();
  j["page_size"] = kPage;
  {
    struct sysinfo si;
    if (sysinfo(&si) == 0) j["host_memory_bytes"] = static_cast<uint64_t>(si.totalram) * si.mem_unit;
  }
  j["sampling"] = {{"mode", o.sample == 0 ? "all" : "sample"}, {"requested", o.sample}, {"seed", seed},
                   {"method", "stratified by source, proportional allocation, simple random sample without replacement within each"}};
  nlohmann::json js = nlohmann::json::array();
  for (const auto& st : strata) {
    const auto& s = sources[st.source];
    nlohmann::json e = {{"kind", s.kind}, {"label", s.label}, {"population_pages", st.population},
                        {"sampled_pages", st.sampled - vanished[st.source]}, {"vanished_pages", vanished[st.source]}};
    if (s.kind == "pid")
      e.update({{"pid", s.pid}, {"anon_pages", s.anon_pages}, {"shmem_pages", s.shmem_pages}, {"swapped_pages", s.swapped_pages}});
    else
      e["path"] = s.path;
    js.push_back(e);
  }
  j["sources"] = js;
  nlohmann::json jc = nlohmann::json::array();
  nlohmann::json cost = nlohmann::json::object();
  for (std::size_t c = 0; c < comps.size(); ++c) {
    jc.push_back({{"name", comps[c]->name()}, {"settings", comps[c]->settings()}});
    lengths[comps[c]->name()] = lens[c];
    cost[comps[c]->name()] = {{"compress_ns", summary_ns(c_ns[c])}, {"decompress_ns", summary_ns(d_ns[c])}};
  }
  j["compressors"] = jc;
  j["pages"] = {{"count", class_of.size()}, {"stratum", stratum_of}, {"class_codes", {{"0", "zero"}, {"1", "same"}, {"2", "data"}}},
                {"class", class_of}, {"length", lengths}};
  {
    std::ifstream g("/sys/kernel/mm/lru_gen/enabled");
    std::string lru_gen;
    g >> lru_gen;
    j["coldness"] = {{"method", "kernel LRU list per page: /proc/PID/pagemap frame, /proc/kpageflags (read only)"},
                     {"available", lru.available()}, {"why_not", lru.why_not()},
                     // With multi-gen LRU on, PG_active no longer says which pages reclaim takes first.
                     {"lru_gen_enabled", lru_gen.empty() ? nlohmann::json(nullptr) : nlohmann::json(lru_gen)},
                     {"codes", {{"0", "unknown"}, {"1", "active"}, {"2", "inactive_referenced"}, {"3", "inactive"},
                                {"4", "off_lru"}}},
                     {"state", lru_of}};
  }
  j["cost"] = {{"per_compressor", cost},
               {"clock", "steady_clock around one call per page, data pages only, user space, this process"},
               {"loadavg_at_end", loadavg()}, {"cpus_online", get_nprocs()}};
  j["timing"] = {{"elapsed_s", elapsed}, {"read_s", static_cast<double>(read_ns) / 1e9},
                 {"bytes_sampled", class_of.size() * kPage},
                 {"seconds_per_gib_sampled", class_of.empty() ? 0.0 : elapsed / (static_cast<double>(class_of.size() * kPage) / (1ull << 30))}};
  if (o.save_pages.size()) j["saved_pages"] = o.save_pages;
  return j;
}

}  // namespace swapbench
