// Pinning with hwloc: the faulting thread on one CPU, its memory on that CPU's NUMA node, so a
// migration or a remote-node allocation is not timed as swap cost.
#pragma once
#include <string>

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

}  // namespace swapbench
