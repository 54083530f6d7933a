// Pinning with hwloc: the faulting thread on one CPU, its memory on that CPU's NUMA node, so a
// migration or a remote-node allocation is not timed as swap cost.
#pragma once
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace swapbench {

struct Topology {
  int pus = 0, cores = 0, packages = 0, numa_nodes = 0;
  std::string cpu_model;
  nlohmann::json to_json() const;
};
Topology read_topology();

struct Binding {
  int cpu = -1;        // OS index of the PU
  int numa_node = -1;  // OS index, -1 if none
  bool cpu_bound = false, mem_bound = false;
  std::string note;    // what could not be bound and why
  nlohmann::json to_json() const;
};

// Throws std::invalid_argument naming the CPU and the allowed range when it does not exist.
void validate_cpu(int cpu);
// Binds the calling thread. cpu < 0: the last PU (CPU 0 takes most interrupts and housekeeping).
Binding pin_current_thread(int cpu);

// Where a set's threads run: one PU each while there are enough, else round-robin over them.
struct Placement {
  std::vector<int> cpus;  // OS index of each thread's PU
  bool shared = false;    // fewer PUs than threads: some threads share a CPU
  nlohmann::json to_json() const;
};
// Pure: `pus` are the usable PUs' OS indexes (in any order), `first` the PU of thread 0 (< 0: the
// last, as pin_current_thread). The others follow downwards from it and wrap, so CPU 0 (most
// interrupts and housekeeping) is the last one handed out. Throws std::invalid_argument when
// `pus` is empty or lacks `first`.
Placement place_threads(std::vector<int> pus, int first, int threads);
// The OS indexes of this machine's PUs, from hwloc.
std::vector<int> pu_os_indexes();

}  // namespace swapbench
