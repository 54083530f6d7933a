#include <gtest/gtest.h>
#include <lzo/lzo1x.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <random>
#include <set>
#include <sstream>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench/capacity/capacity.h"
#include "bench/capacity/kernel_lzo.h"
#include "bench/capacity/page_codec.h"
#include "bench/capacity/page_source.h"
#include "bench/version.h"

using namespace swapbench::capacity;

namespace {

// Pages that exercise every instruction: random (literals), text (short matches), zeros with
// islands (lzo-rle's zero runs, long M4 matches), a repeated 8-byte word, mixed halves.
std::vector<std::vector<uint8_t>> test_pages() {
  std::vector<std::vector<uint8_t>> pages;
  std::mt19937_64 rng(42);
  auto blank = [] { return std::vector<uint8_t>(kPage, 0); };
  auto p = blank();
  for (auto& b : p) b = static_cast<uint8_t>(rng());
  pages.push_back(p);
  p = blank();
  const char* words[] = {"swap ", "zswap ", "page ", "the ", "kernel ", "compress ", "lzo ", "\n"};
  for (std::size_t i = 0; i < kPage;) {
    const char* w = words[rng() % 8];
    for (std::size_t k = 0; w[k] && i < kPage; ++k) p[i++] = static_cast<uint8_t>(w[k]);
  }
  pages.push_back(p);
  pages.push_back(blank());
  p = blank();
  for (int k = 0; k < 20; ++k) p[rng() % kPage] = static_cast<uint8_t>(rng() | 1);
  pages.push_back(p);
  p = blank();
  for (std::size_t i = 0; i < kPage; i += 8) std::memcpy(&p[i], "\x11\x22\x33\x44\x55\x66\x77\x88", 8);
  pages.push_back(p);
  p = blank();
  for (std::size_t i = 0; i < kPage / 2; ++i) p[i] = static_cast<uint8_t>(rng());
  pages.push_back(p);
  p = blank();
  for (std::size_t i = 0; i < kPage; ++i) p[i] = static_cast<uint8_t>((i % 300 < 7) ? rng() : i % 13);
  pages.push_back(p);
  // A pointer-rich heap page: 8-byte words with shared high bytes and small integers.
  p = blank();
  for (std::size_t i = 0; i < kPage; i += 8) {
    uint64_t v = (i % 24 == 0) ? 0x00007f1234500000ull + (rng() % 4096) * 16 : rng() % 100;
    std::memcpy(&p[i], &v, 8);
  }
  pages.push_back(p);
  return pages;
}

}  // namespace

TEST(CapacityLzo, KernelLzoStreamDecodesWithLiblzo2) {
  // liblzo2 is an independent decoder of the version-0 format: the kernel port's output must be
  // valid LZO1X and give the page back.
  ASSERT_EQ(lzo_init(), LZO_E_OK);
  std::vector<uint8_t> out;
  for (const auto& page : test_pages()) {
    std::size_t n = kernel_lzo1x_1_compress(page.data(), kPage, out, LzoStream::v0_lzo);
    std::vector<uint8_t> back(kPage);
    lzo_uint back_len = kPage;
    ASSERT_EQ(lzo1x_decompress_safe(out.data(), n, back.data(), &back_len, nullptr), LZO_E_OK);
    ASSERT_EQ(back_len, kPage);
    EXPECT_EQ(back, page);
  }
}

TEST(CapacityLzo, RleStreamRoundTripsAndIsMarked) {
  std::vector<uint8_t> out;
  for (const auto& page : test_pages()) {
    std::size_t n = kernel_lzo1x_1_compress(page.data(), kPage, out, LzoStream::v1_rle);
    ASSERT_GE(n, 5u);
    EXPECT_EQ(out[0], 17);  // the kernel's bitstream marker, then version 1
    EXPECT_EQ(out[1], 1);
    std::vector<uint8_t> back(kPage);
    std::size_t back_len = kPage;
    ASSERT_EQ(kernel_lzo1x_decompress_safe(out.data(), n, back.data(), &back_len), 0);
    ASSERT_EQ(back_len, kPage);
    EXPECT_EQ(back, page);
  }
}

TEST(CapacityLzo, ZeroPageVectors) {
  // Derived by hand from lib/lzo/lzo1x_compress.c for a zero page (and confirmed byte for byte by
  // tests/capacity/test_kernel_oracle.sh against the kernel's own code): ip starts 4 bytes in and the
  // literal step moves it one more, so the zero run is found at byte 5; the 5 bytes before it go
  // out as a literal run (instruction byte 5 - 3 = 2, then the bytes); the run reaches the cap of
  // 2051 bytes, encoded as (2051 - 4) << 21 | 0xfffc18 | (2047 & 7), little endian.
  std::vector<uint8_t> page(kPage, 0), out;
  std::size_t n = kernel_lzo1x_1_compress(page.data(), kPage, out, LzoStream::v1_rle);
  const std::vector<uint8_t> expect_head{17, 1, 2, 0, 0, 0, 0, 0};
  ASSERT_GE(n, 12u);
  EXPECT_EQ(std::vector<uint8_t>(out.begin(), out.begin() + 8), expect_head);
  uint32_t got;
  std::memcpy(&got, &out[8], 4);
  EXPECT_EQ(got, (2047u << 21) | 0xfffc18u | 7u);
  // End marker: M4_MARKER | 1, 0, 0.
  EXPECT_EQ(out[n - 3], 17);
  EXPECT_EQ(out[n - 2], 0);
  EXPECT_EQ(out[n - 1], 0);
  // Plain lzo on the same page is longer: no run instruction, only long matches.
  std::size_t n0 = kernel_lzo1x_1_compress(page.data(), kPage, out, LzoStream::v0_lzo);
  EXPECT_GT(n0, n);
}

TEST(CapacityLzo, DecoderRejectsTruncatedAndCorruptStreams) {
  std::vector<uint8_t> out;
  const auto pages = test_pages();
  std::size_t n = kernel_lzo1x_1_compress(pages[1].data(), kPage, out, LzoStream::v1_rle);
  std::vector<uint8_t> back(kPage);
  for (std::size_t cut : {n - 1, n / 2, std::size_t{3}}) {
    std::size_t len = kPage;
    EXPECT_NE(kernel_lzo1x_decompress_safe(out.data(), cut, back.data(), &len), 0) << cut;
  }
  std::size_t small = 100;
  EXPECT_NE(kernel_lzo1x_decompress_safe(out.data(), n, back.data(), &small), 0);  // output overrun
}

TEST(CapacityCodec, ClassifiesPages) {
  std::vector<uint8_t> p(kPage, 0);
  EXPECT_EQ(classify_page(p.data()), PageClass::zero);
  for (std::size_t i = 0; i < kPage; i += 8) p[i] = 7;
  EXPECT_EQ(classify_page(p.data()), PageClass::same);
  p[kPage - 1] = 1;
  EXPECT_EQ(classify_page(p.data()), PageClass::data);
  std::vector<uint8_t> q(kPage, 0);
  for (std::size_t i = 4; i < kPage; i += 8) q[i] = 1;  // the same 8-byte word throughout
  EXPECT_EQ(classify_page(q.data()), PageClass::same);
  q[12] = 2;  // one word differs
  EXPECT_EQ(classify_page(q.data()), PageClass::data);
}

TEST(CapacityCodec, EveryCompressorRoundTripsAndOrdersAsExpected) {
  const auto pages = test_pages();
  std::vector<uint8_t> back(kPage);
  for (const auto& name : compressor_names()) {
    auto c = make_compressor(name);
    for (const auto& page : pages) {
      std::size_t n = c->compress(page.data());
      ASSERT_TRUE(c->decompress_last(back.data())) << name;
      EXPECT_EQ(back, page) << name;
      EXPECT_GT(n, 0u);
    }
    // Random bytes do not compress: every compressor's output exceeds the page a little.
    EXPECT_GT(c->compress(pages[0].data()), kPage) << name;
    EXPECT_LT(c->compress(pages[2].data()), 64u) << name;  // a zero page is tiny everywhere
  }
  EXPECT_THROW(make_compressor("842"), std::invalid_argument);
}

TEST(CapacitySource, ParsesMapsAndSpotsShmem) {
  auto m = parse_maps(
      "55d0c0000000-55d0c0021000 rw-p 00000000 00:00 0                          [heap]\n"
      "7f0000000000-7f0000100000 rw-s 00000000 00:01 1234                       /dev/zero (deleted)\n"
      "7f0000200000-7f0000201000 r--p 00000000 08:01 99                         /usr/lib/libc.so.6\n"
      "7ffd00000000-7ffd00002000 r--p 00000000 00:00 0                          [vvar]\n"
      "7f0000300000-7f0000301000 rw-s 00000000 00:05 77                         /memfd:pool (deleted)\n"
      "7f0000400000-7f0000401000 rw-p 00000000 00:00 0 \n");
  ASSERT_EQ(m.size(), 6u);
  EXPECT_EQ(m[0].start, 0x55d0c0000000ull);
  EXPECT_EQ(m[0].end, 0x55d0c0021000ull);
  EXPECT_EQ(m[0].path, "[heap]");
  EXPECT_TRUE(m[1].shared());
  EXPECT_TRUE(is_shmem_mapping(m[1]));
  EXPECT_FALSE(is_shmem_mapping(m[2]));
  EXPECT_TRUE(is_special_mapping(m[3]));
  EXPECT_TRUE(is_shmem_mapping(m[4]));
  EXPECT_EQ(m[5].path, "");
  EXPECT_THROW(parse_maps("garbage\n"), InputError);
  EXPECT_FALSE(m[0].rss_kb.has_value());  // maps: unknown, so every mapping is scanned
}

TEST(CapacitySource, SmapsGivesEachMappingItsPresentAndSwappedSize) {
  auto m = parse_maps(
      "55d0c0000000-55d0c0021000 rw-p 00000000 00:00 0                          [heap]\n"
      "Size:                132 kB\n"
      "Rss:                  12 kB\n"
      "Swap:                  8 kB\n"
      "VmFlags: rd wr mr mw me ac\n"
      "7b0000000000-7f0000000000 rw-p 00000000 00:00 0 \n"
      "Rss:                   0 kB\n"
      "Swap:                  0 kB\n");
  ASSERT_EQ(m.size(), 2u);
  EXPECT_EQ(m[0].rss_kb, 12u);
  EXPECT_EQ(m[0].swap_kb, 8u);
  EXPECT_EQ(m[1].rss_kb, 0u);  // a 4 TiB reservation with nothing in it: open_pid skips it
  EXPECT_EQ(m[1].swap_kb, 0u);
}

TEST(CapacitySource, ReadsOwnProcessAndRefusesBadPids) {
  // This process's own anonymous pages: a known page must be among the present ones and read back.
  std::vector<uint8_t> mine(3 * kPage);
  uint8_t* aligned = reinterpret_cast<uint8_t*>((reinterpret_cast<uintptr_t>(mine.data()) + kPage - 1) & ~(kPage - 1));
  std::memset(aligned, 0x5a, kPage);
  Source s = open_pid(getpid());
  EXPECT_GT(s.anon_pages, 0u);
  bool found = false;
  for (auto a : s.pages) found |= a == reinterpret_cast<uint64_t>(aligned);
  ASSERT_TRUE(found);
  PageReader r;
  std::vector<uint8_t> got(kPage);
  ASSERT_TRUE(r.read(s, reinterpret_cast<uint64_t>(aligned), got.data()));
  EXPECT_EQ(got, std::vector<uint8_t>(kPage, 0x5a));
  EXPECT_THROW(open_pid(0), InputError);
  EXPECT_THROW(open_pid(999999999), InputError);
}

TEST(CapacitySource, ElfCoreAndFiles) {
  char tmpl[] = "/tmp/capacity-test-XXXXXX";
  int fd = mkstemp(tmpl);
  ASSERT_GE(fd, 0);
  close(fd);
  const std::string path = tmpl;
  {  // not an ELF file
    std::ofstream f(path, std::ios::binary);
    f << "hello, not a core";
  }
  EXPECT_THROW(elf_core_loads(path), InputError);
  {  // ELF64 LE core: header, two program headers (a note and a load of 5000 bytes at 4096)
    std::vector<uint8_t> b(4096 + 5000, 0xab);
    std::memset(b.data(), 0, 4096);
    std::memcpy(b.data(), "\x7f" "ELF\x02\x01\x01", 7);
    uint16_t type = 4, phentsize = 56, phnum = 2;
    uint64_t phoff = 64;
    std::memcpy(&b[16], &type, 2);
    std::memcpy(&b[32], &phoff, 8);
    std::memcpy(&b[54], &phentsize, 2);
    std::memcpy(&b[56], &phnum, 2);
    uint32_t note = 4, load = 1;
    uint64_t off = 4096, sz = 5000;
    std::memcpy(&b[64], &note, 4);
    std::memcpy(&b[120], &load, 4);
    std::memcpy(&b[120 + 8], &off, 8);
    std::memcpy(&b[120 + 32], &sz, 8);
    std::ofstream f(path, std::ios::binary | std::ios::trunc);
    f.write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
  }
  auto loads = elf_core_loads(path);
  ASSERT_EQ(loads.size(), 1u);
  EXPECT_EQ(loads[0], (std::pair<uint64_t, uint64_t>{4096, 5000}));
  Source core = open_core(path);
  ASSERT_EQ(core.population(), 2u);
  PageReader r;
  std::vector<uint8_t> got(kPage);
  ASSERT_TRUE(r.read(core, core.page_at(1), got.data()));
  EXPECT_EQ(got[0], 0xab);            // the segment's last 904 bytes
  EXPECT_EQ(got[5000 - 4096 - 1], 0xab);
  EXPECT_EQ(got[5000 - 4096], 0);     // then zeros, as a short page reads in memory
  Source file = open_file(path);
  EXPECT_EQ(file.population(), 3u);   // 9096 bytes
  std::remove(path.c_str());
  EXPECT_THROW(open_file(path), InputError);
  EXPECT_THROW(open_file("/tmp"), InputError);
}

TEST(CapacitySampling, ProportionalAllocationSumsAndCoversSmallSources) {
  auto a = allocate({1000, 3000, 5}, 400);
  uint64_t sum = 0;
  for (auto& s : a) sum += s.sampled;
  EXPECT_EQ(sum, 400u);
  EXPECT_EQ(a[2].sampled, 1u);   // a small source still gets a page
  EXPECT_NEAR(static_cast<double>(a[1].sampled), 300.0, 1.0);
  auto all = allocate({10, 20}, 0);
  EXPECT_EQ(all[0].sampled, 10u);
  EXPECT_EQ(all[1].sampled, 20u);
  auto more = allocate({10, 20}, 1000);
  EXPECT_EQ(more[1].sampled, 20u);
}

TEST(CapacitySampling, IndicesAreDistinctSortedAndSeeded) {
  std::mt19937_64 r1(7), r2(7);
  auto a = sample_indices(1000000, 500, r1);
  auto b = sample_indices(1000000, 500, r2);
  EXPECT_EQ(a, b);
  EXPECT_EQ(a.size(), 500u);
  EXPECT_EQ(std::set<uint64_t>(a.begin(), a.end()).size(), 500u);
  EXPECT_TRUE(std::is_sorted(a.begin(), a.end()));
  EXPECT_LT(a.back(), 1000000u);
  // Uniform: the mean index of many draws sits near the middle.
  double mean = 0;
  for (auto x : a) mean += static_cast<double>(x);
  EXPECT_NEAR(mean / 500, 500000, 60000);
}

TEST(CapacitySource, AProcessThatEndsMidReadIsAnInputError) {
  int ready[2];
  ASSERT_EQ(pipe(ready), 0);
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    std::vector<uint8_t> heap(64 * kPage, 0x33);
    if (write(ready[1], "x", 1) != 1) _exit(1);
    pause();
    _exit(0);
  }
  char c;
  ASSERT_EQ(read(ready[0], &c, 1), 1);
  Source s = open_pid(child);
  ASSERT_FALSE(s.pages.empty());
  kill(child, SIGKILL);
  waitpid(child, nullptr, 0);
  PageReader r;
  std::vector<uint8_t> got(kPage);
  try {
    r.read(s, s.pages[0], got.data());
    FAIL() << "read a page of a process that has ended";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("ended"), std::string::npos) << e.what();
  }
  close(ready[0]);
  close(ready[1]);
}

TEST(CapacityRun, AFolderThatIsNotACgroupIsRefusedWhateverItHolds) {
  // Issue 19 item 10: any folder with a file named cgroup.procs was taken for a cgroup, and its
  // list of processes read.
  char tmpl[] = "/tmp/capacity-cg-XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  const std::string dir = tmpl;
  { std::ofstream(dir + "/cgroup.procs") << getpid() << "\n"; }
  try {
    cgroup_pids(dir);
    ADD_FAILURE() << "a folder of " << dir << "'s file system was taken for a cgroup";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find(dir + ": not a cgroup"), std::string::npos) << e.what();
  }
  std::remove((dir + "/cgroup.procs").c_str());
  rmdir(dir.c_str());
}

TEST(CapacityRun, ARealCgroupListsItsProcesses) {
  // This process's own cgroup2 folder, only read: /proc/self/cgroup's "0::PATH" under the cgroup2
  // mount of /proc/self/mountinfo.
  std::string mount, path, line;
  {
    std::ifstream m("/proc/self/mountinfo");
    while (std::getline(m, line))
      if (line.find(" - cgroup2 ") != std::string::npos) {
        std::istringstream in(line);
        std::string f;
        for (int i = 0; i < 5 && in >> f; ++i) mount = f;  // the fifth field: the mount point
        break;
      }
  }
  {
    std::ifstream c("/proc/self/cgroup");
    while (std::getline(c, line))
      if (line.rfind("0::", 0) == 0) path = line.substr(3);
  }
  if (mount.empty() || path.empty()) GTEST_SKIP() << "no cgroup2 mount or no cgroup2 membership here";
  const auto pids = cgroup_pids(mount + (path == "/" ? "" : path));
  EXPECT_NE(std::find(pids.begin(), pids.end(), getpid()), pids.end()) << mount << path;
}

TEST(CapacityRun, TheDocumentIsComplete) {
  swapbench::CapacityOptions o;
  o.pids = {getpid()};
  o.sample = 64;
  o.seed = 9;
  o.compressors = {"lzo-rle", "zstd"};
  auto j = swapbench::capacity_run(o);
  EXPECT_EQ(j["swapbench_capacity"]["schema_version"], swapbench::kCapacitySchemaVersion);
  // The build that wrote it, as a run result's context.swapbench records it: a prediction that
  // moved between two files is traced to its code.
  const auto& head = j["swapbench_capacity"];
  ASSERT_TRUE(head.contains("version") && head.contains("commit")) << head.dump();
  EXPECT_EQ(head["version"], swapbench::version());
  EXPECT_EQ(head["commit"], swapbench::commit());
  EXPECT_FALSE(head["version"].get<std::string>().empty());
  EXPECT_FALSE(head["commit"].get<std::string>().empty());
  EXPECT_EQ(j["sampling"]["seed"], 9u);
  ASSERT_EQ(j["sources"].size(), 1u);
  EXPECT_EQ(j["sources"][0]["pid"], getpid());
  const auto n = j["pages"]["count"].get<size_t>();
  EXPECT_GT(n, 50u);  // 64 asked; a page unmapped meanwhile is counted as vanished, not read
  EXPECT_EQ(n + j["sources"][0]["vanished_pages"].get<size_t>(), 64u);
  EXPECT_EQ(j["pages"]["length"]["lzo-rle"].size(), n);
  EXPECT_EQ(j["pages"]["length"]["zstd"].size(), n);
  EXPECT_FALSE(j["pages"]["length"].contains("lzo"));
  swapbench::CapacityOptions none;
  EXPECT_THROW(swapbench::capacity_run(none), InputError);
}

// --validate's document opens with the same block as the sampler's, of its own kind, naming the
// build that wrote it as a run result's context.swapbench does.
TEST(CapacityRun, TheValidationHeaderNamesTheBuild) {
  const auto v = swapbench::capacity_header("validation");
  EXPECT_EQ(v["kind"], "validation");
  EXPECT_EQ(v["schema_version"], swapbench::kCapacitySchemaVersion);
  EXPECT_EQ(v["version"], swapbench::version());
  EXPECT_EQ(v["commit"], swapbench::commit());
}

TEST(CapacityRun, NothingToEstimateIsRefusedNotNan) {
  // Issue 19 item 10: a 0-byte --file exited 0 printing nan ratios.
  char tmpl[] = "/tmp/capacity-empty-XXXXXX";
  const int fd = mkstemp(tmpl);
  ASSERT_GE(fd, 0);
  close(fd);
  try {
    open_file(tmpl);
    ADD_FAILURE() << "an empty file was taken";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find(std::string(tmpl) + " is empty: nothing to estimate"), std::string::npos) << e.what();
  }
  std::remove(tmpl);
}

TEST(CapacityRun, AKernelThreadIsNamedAsOne) {
  // Issue 19 item 10: --pid 2 said "the process ended". kthreadd is PID 2 on every Linux since 2.6.
  try {
    open_pid(2);
    ADD_FAILURE() << "pid 2 was read";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("--pid 2 is a kernel thread (kthreadd): it has no user pages"), std::string::npos)
        << e.what();
  }
}

// kpageflags words by hand (Documentation/admin-guide/mm/pagemap.rst: REFERENCED 2, LRU 5,
// ACTIVE 6, UNEVICTABLE 18).
TEST(CapacityColdness, LruStateFromKpageflags) {
  EXPECT_EQ(lru_state_of(0), LruState::off_lru);
  EXPECT_EQ(lru_state_of(1ull << 5), LruState::inactive);
  EXPECT_EQ(lru_state_of((1ull << 5) | (1ull << 2)), LruState::inactive_referenced);
  EXPECT_EQ(lru_state_of((1ull << 5) | (1ull << 6) | (1ull << 2)), LruState::active);
  EXPECT_EQ(lru_state_of((1ull << 5) | (1ull << 18)), LruState::off_lru);
  // pagemap: present bit 63, frame in bits 0-54; a hidden frame (not root) reads as 0.
  EXPECT_EQ(pfn_of((1ull << 63) | 0x1234), 0x1234u);
  EXPECT_EQ(pfn_of((1ull << 63) | (1ull << 55) | 7), 7u);  // soft-dirty bit is not part of it
  EXPECT_EQ(pfn_of(0x1234), 0u);                             // not present
}

// The sampler records one state per sampled page; without root every state is unknown and the
// output says why.
TEST(CapacityColdness, SamplerRecordsAStatePerPage) {
  swapbench::CapacityOptions o;
  o.pids = {getpid()};
  o.sample = 32;
  o.seed = 5;
  o.compressors = {"lzo"};
  const auto j = swapbench::capacity_run(o);
  const auto n = j["pages"]["count"].get<size_t>();
  ASSERT_EQ(j["coldness"]["state"].size(), n);
  if (!j["coldness"]["available"].get<bool>()) {
    EXPECT_NE(j["coldness"]["why_not"].get<std::string>(), "");
    for (const auto& s : j["coldness"]["state"]) EXPECT_EQ(s.get<int>(), 0);
  } else {
    size_t known = 0;
    for (const auto& s : j["coldness"]["state"]) known += s.get<int>() != 0;
    EXPECT_GT(known, 0u);
  }
}
