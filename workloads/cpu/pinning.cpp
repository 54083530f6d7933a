#include "workloads/cpu/pinning.h"

#include <hwloc.h>

#include <algorithm>
#include <fstream>
#include <memory>
#include <stdexcept>

namespace swapbench {

namespace {
struct Topo {
  hwloc_topology_t t{};
  Topo() {
    hwloc_topology_init(&t);
    hwloc_topology_load(t);
  }
  ~Topo() { hwloc_topology_destroy(t); }
  int count(hwloc_obj_type_t ty) const { return hwloc_get_nbobjs_by_type(t, ty); }
};

std::string cpu_model_name() {
  std::ifstream f("/proc/cpuinfo");
  std::string line;
  while (std::getline(f, line))
    if (line.rfind("model name", 0) == 0 || line.rfind("CPU part", 0) == 0) {
      auto c = line.find(':');
      return c == std::string::npos ? line : line.substr(c + 2);
    }
  return "unknown";
}
}  // namespace

Topology read_topology() {
  Topo t;
  return Topology{t.count(HWLOC_OBJ_PU), t.count(HWLOC_OBJ_CORE), t.count(HWLOC_OBJ_PACKAGE),
                  t.count(HWLOC_OBJ_NUMANODE), cpu_model_name()};
}

nlohmann::json Topology::to_json() const {
  return {{"pus", pus}, {"cores", cores}, {"packages", packages}, {"numa_nodes", numa_nodes}, {"cpu_model", cpu_model}};
}

nlohmann::json Binding::to_json() const {
  return {{"cpu", cpu}, {"numa_node", numa_node}, {"cpu_bound", cpu_bound}, {"mem_bound", mem_bound}, {"note", note}};
}

void validate_cpu(int cpu) {
  Topo t;
  if (cpu < 0) return;
  if (!hwloc_get_pu_obj_by_os_index(t.t, static_cast<unsigned>(cpu))) {
    int n = t.count(HWLOC_OBJ_PU);
    throw std::invalid_argument("--cpu " + std::to_string(cpu) + ": no such CPU; this machine has CPUs 0.." +
                                std::to_string(n - 1));
  }
}

Binding pin_current_thread(int cpu) {
  Topo t;
  Binding b;
  hwloc_obj_t pu = cpu < 0 ? hwloc_get_obj_by_type(t.t, HWLOC_OBJ_PU, static_cast<unsigned>(t.count(HWLOC_OBJ_PU) - 1))
                           : hwloc_get_pu_obj_by_os_index(t.t, static_cast<unsigned>(cpu));
  if (!pu) throw std::invalid_argument("--cpu " + std::to_string(cpu) + ": no such CPU");
  b.cpu = static_cast<int>(pu->os_index);
  b.cpu_bound = hwloc_set_cpubind(t.t, pu->cpuset, HWLOC_CPUBIND_THREAD | HWLOC_CPUBIND_STRICT) == 0;
  if (!b.cpu_bound) b.note += "CPU binding refused; ";
  hwloc_obj_t node = nullptr;
  for (hwloc_obj_t p = pu; p && !node; p = p->parent)
    if (p->memory_arity > 0) node = p->memory_first_child;
  if (node) {
    b.numa_node = static_cast<int>(node->os_index);
    b.mem_bound = hwloc_set_membind(t.t, node->nodeset, HWLOC_MEMBIND_BIND,
                                    HWLOC_MEMBIND_THREAD | HWLOC_MEMBIND_BYNODESET) == 0;
    if (!b.mem_bound) b.note += "memory binding refused (single-node machines may refuse it harmlessly); ";
  }
  return b;
}

nlohmann::json Placement::to_json() const {
  return {{"cpus", cpus}, {"cpus_shared", shared}};
}

Placement place_threads(std::vector<int> pus, int first, int threads) {
  if (pus.empty()) throw std::invalid_argument("no usable CPU to place threads on");
  std::sort(pus.begin(), pus.end());
  const int start = first < 0 ? pus.back() : first;
  const auto at = std::find(pus.begin(), pus.end(), start);
  if (at == pus.end()) throw std::invalid_argument("CPU " + std::to_string(start) + " is not one of the usable CPUs");
  const size_t n = pus.size(), s = static_cast<size_t>(at - pus.begin());
  Placement p;
  for (int t = 0; t < threads; ++t) p.cpus.push_back(pus[(s + n - static_cast<size_t>(t) % n) % n]);
  p.shared = static_cast<size_t>(threads) > n;
  return p;
}

std::vector<int> pu_os_indexes() {
  Topo t;
  std::vector<int> out;
  for (int i = 0; i < t.count(HWLOC_OBJ_PU); ++i)
    out.push_back(static_cast<int>(hwloc_get_obj_by_type(t.t, HWLOC_OBJ_PU, static_cast<unsigned>(i))->os_index));
  return out;
}

}  // namespace swapbench
