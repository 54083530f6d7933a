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
#include "bench/version.h"
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

// Every process, cgroup member, file and core asked for, opened.
std::vector<capacity::Source> open_sources(const CapacityOptions& o) {
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
  return sources;
}

// Nothing sampled would print ratios of nothing (nan): say which source held what instead.
void require_present_pages(const std::vector<capacity::Source>& sources) {
  uint64_t total = 0;
  std::string held;
  for (const auto& s : sources) {
    total += s.population();
    held += (held.empty() ? "" : "; ") + s.label + ": " +
            (s.kind == "pid" ? std::to_string(s.swapped_pages) + " pages swapped out (never read), none present"
                             : "no pages");
  }
  if (total == 0) throw InputError("nothing to estimate: no present page in the sources (" + held + ")");
}

std::vector<std::unique_ptr<capacity::PageCompressor>> make_compressors(const CapacityOptions& o) {
  std::vector<std::string> names = o.compressors.empty() ? capacity::compressor_names() : o.compressors;
  std::vector<std::unique_ptr<capacity::PageCompressor>> comps;
  for (const auto& n : names) {
    try {
      comps.push_back(capacity::make_compressor(n));
    } catch (const std::invalid_argument& e) {
      throw InputError(std::string("--compressor ") + e.what());
    }
  }
  return comps;
}

// Where the sampled pages are saved, or null when they are not. The pages are another process's
// memory: a new file only this user can read, never one that exists (it could be a link to
// somewhere else, or readable by others).
std::FILE* open_save_pages(const CapacityOptions& o, const std::string& save_name) {
  std::FILE* save = nullptr;
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
  return save;
}

// What the sampling loop gathers, one entry per page read (per compressor for lens and times).
struct Samples {
  explicit Samples(std::size_t compressors, std::size_t sources)
      : lens(compressors), c_ns(compressors), d_ns(compressors), vanished(sources, 0) {}
  std::vector<std::vector<uint32_t>> lens;
  std::vector<std::vector<uint64_t>> c_ns, d_ns;
  std::vector<uint32_t> stratum_of;
  std::vector<uint8_t> class_of, lru_of;
  std::vector<uint64_t> vanished;
  uint64_t read_ns = 0;
};

// One page through every compressor and back: its lengths, and for data pages the times.
void compress_page(const std::vector<std::unique_ptr<capacity::PageCompressor>>& comps, const uint8_t* page,
                   capacity::PageClass cls, const std::string& label, std::vector<uint8_t>& back, Samples& s) {
  for (std::size_t c = 0; c < comps.size(); ++c) {
    const uint64_t a = now_ns();
    const std::size_t n = comps[c]->compress(page);
    const uint64_t b = now_ns();
    const bool ok = comps[c]->decompress_last(back.data());
    const uint64_t e = now_ns();
    if (!ok || std::memcmp(back.data(), page, kPage) != 0)
      throw std::runtime_error(std::string(comps[c]->name()) + ": a page did not survive compression and back (" +
                               label + "); the lengths cannot be trusted");
    s.lens[c].push_back(static_cast<uint32_t>(n));
    // Zero and same-filled pages never reach a compressor in most kernels: time data pages only.
    if (cls == capacity::PageClass::data) s.c_ns[c].push_back(b - a), s.d_ns[c].push_back(e - b);
  }
}

void sample_pages(const std::vector<capacity::Source>& sources, const std::vector<capacity::Stratum>& strata,
                  std::mt19937_64& rng, const std::vector<std::unique_ptr<capacity::PageCompressor>>& comps,
                  std::FILE* save, const std::string& save_name, capacity::LruProbe& lru, Samples& s) {
  std::vector<uint8_t> page(kPage), back(kPage);
  capacity::PageReader reader;
  for (const auto& st : strata) {
    const auto& src = sources[st.source];
    for (uint64_t idx : capacity::sample_indices(st.population, st.sampled, rng)) {
      // Before the read: process_vm_readv pins the page with FOLL_TOUCH, which marks it accessed
      // (mm/gup.c follow_page_pte -> mark_page_accessed): read first, the page would look younger.
      const auto lru_state = src.kind == "pid" ? lru.state(src.pid, src.page_at(idx)) : capacity::LruState::unknown;
      const uint64_t r0 = now_ns();
      if (!reader.read(src, src.page_at(idx), page.data())) {
        ++s.vanished[st.source];
        continue;
      }
      s.read_ns += now_ns() - r0;
      if (save && std::fwrite(page.data(), 1, kPage, save) != kPage)
        throw std::runtime_error(save_name + ": write failed");
      s.lru_of.push_back(static_cast<uint8_t>(lru_state));
      const auto cls = capacity::classify_page(page.data());
      s.stratum_of.push_back(static_cast<uint32_t>(st.source));
      s.class_of.push_back(static_cast<uint8_t>(cls));
      compress_page(comps, page.data(), cls, src.label, back, s);
    }
  }
}

nlohmann::json sources_json(const std::vector<capacity::Source>& sources, const std::vector<capacity::Stratum>& strata,
                            const std::vector<uint64_t>& vanished) {
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
  return js;
}

nlohmann::json coldness_json(const capacity::LruProbe& lru, const std::vector<uint8_t>& lru_of) {
  std::ifstream g("/sys/kernel/mm/lru_gen/enabled");
  std::string lru_gen;
  g >> lru_gen;
  return {{"method", "kernel LRU list per page: /proc/PID/pagemap frame, /proc/kpageflags (read only)"},
          {"available", lru.available()}, {"why_not", lru.why_not()},
          // With multi-gen LRU on, PG_active no longer says which pages reclaim takes first.
          {"lru_gen_enabled", lru_gen.empty() ? nlohmann::json(nullptr) : nlohmann::json(lru_gen)},
          {"codes", {{"0", "unknown"}, {"1", "active"}, {"2", "inactive_referenced"}, {"3", "inactive"},
                     {"4", "off_lru"}}},
          {"state", lru_of}};
}

// The head of the file: what it is, which build wrote it, where and when.
void describe_host(nlohmann::json& j) {
  j["swapbench_capacity"] = capacity_header("pages");
  char host[256] = {};
  gethostname(host, sizeof host - 1);
  j["host"] = host;
  j["created_utc"] = utc_stamp("%Y-%m-%dT%H:%M:%SZ");
  j["kernel"] = kernel_json();
  j["page_size"] = kPage;
  struct sysinfo si;
  if (sysinfo(&si) == 0) j["host_memory_bytes"] = static_cast<uint64_t>(si.totalram) * si.mem_unit;
}

void record_compressors(nlohmann::json& j, const std::vector<std::unique_ptr<capacity::PageCompressor>>& comps,
                        const Samples& s) {
  nlohmann::json jc = nlohmann::json::array();
  nlohmann::json lengths = nlohmann::json::object();
  nlohmann::json cost = nlohmann::json::object();
  for (std::size_t c = 0; c < comps.size(); ++c) {
    jc.push_back({{"name", comps[c]->name()}, {"settings", comps[c]->settings()}});
    lengths[comps[c]->name()] = s.lens[c];
    cost[comps[c]->name()] = {{"compress_ns", summary_ns(s.c_ns[c])}, {"decompress_ns", summary_ns(s.d_ns[c])}};
  }
  j["compressors"] = jc;
  j["pages"] = {{"count", s.class_of.size()}, {"stratum", s.stratum_of}, {"class_codes", {{"0", "zero"}, {"1", "same"}, {"2", "data"}}},
                {"class", s.class_of}, {"length", lengths}};
  j["cost"] = {{"per_compressor", cost},
               {"clock", "steady_clock around one call per page, data pages only, user space, this process"},
               {"loadavg_at_end", loadavg()}, {"cpus_online", get_nprocs()}};
}

}  // namespace

nlohmann::json capacity_header(const std::string& kind) {
  // Which build wrote it, as a run's context.swapbench records it: a figure that moved between two
  // files is traced to its code.
  return {{"schema_version", kCapacitySchemaVersion}, {"kind", kind}, {"version", version()}, {"commit", commit()}};
}

nlohmann::json capacity_run(const CapacityOptions& o) {
  const auto sources = open_sources(o);
  require_present_pages(sources);
  const auto comps = make_compressors(o);

  const uint64_t seed = o.seed ? o.seed : now_ns();
  std::mt19937_64 rng(seed);
  std::vector<uint64_t> pops;
  for (auto& s : sources) pops.push_back(s.population());
  const auto strata = capacity::allocate(pops, o.sample);

  const std::string save_name = o.save_pages_fd >= 0 ? "--save-pages-fd " + std::to_string(o.save_pages_fd)
                                                     : "--save-pages " + o.save_pages;
  std::FILE* save = open_save_pages(o, save_name);
  Samples s(comps.size(), sources.size());
  capacity::LruProbe lru;
  const uint64_t t0 = now_ns();
  sample_pages(sources, strata, rng, comps, save, save_name, lru, s);
  if (save && std::fclose(save) != 0) throw std::runtime_error(save_name + ": close failed");
  const double elapsed = static_cast<double>(now_ns() - t0) / 1e9;

  nlohmann::json j;
  describe_host(j);
  j["sampling"] = {{"mode", o.sample == 0 ? "all" : "sample"}, {"requested", o.sample}, {"seed", seed},
                   {"method", "stratified by source, proportional allocation, simple random sample without replacement within each"}};
  j["sources"] = sources_json(sources, strata, s.vanished);
  record_compressors(j, comps, s);
  j["coldness"] = coldness_json(lru, s.lru_of);
  const std::size_t n = s.class_of.size();
  j["timing"] = {{"elapsed_s", elapsed}, {"read_s", static_cast<double>(s.read_ns) / 1e9}, {"bytes_sampled", n * kPage},
                 {"seconds_per_gib_sampled", n == 0 ? 0.0 : elapsed / (static_cast<double>(n * kPage) / (1ull << 30))}};
  if (o.save_pages.size()) j["saved_pages"] = o.save_pages;
  return j;
}

}  // namespace swapbench
