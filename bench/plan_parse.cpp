#include "bench/plan_parse.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>

#include "workloads/pages/stamp.h"

namespace swapbench {

long long parse_whole(const std::string& opt, const std::string& text, long long lo, long long hi) {
  errno = 0;
  char* end = nullptr;
  long long v = std::strtoll(text.c_str(), &end, 10);
  if (text.empty() || *end != '\0' || errno == ERANGE)
    throw BadInput(opt + " '" + text + "': not a whole number; accepted: " + std::to_string(lo) + ".." + std::to_string(hi));
  if (v < lo || v > hi)
    throw BadInput(opt + " " + text + ": out of range; accepted: " + std::to_string(lo) + ".." + std::to_string(hi));
  return v;
}

double parse_seconds(const std::string& opt, const std::string& text, double lo, double hi) {
  char* end = nullptr;
  double v = std::strtod(text.c_str(), &end);
  // strtod takes "nan" and "inf": a race of NaN seconds once wrote an invalid set.
  if (text.empty() || *end != '\0' || !std::isfinite(v) || v < lo || v > hi)
    throw BadInput(opt + " '" + text + "': accepted: a number of seconds from " + std::to_string(lo).substr(0, 3) +
                   " to " + std::to_string(static_cast<long>(hi)));
  return v;
}


uint64_t parse_bytes(const std::string& opt, const std::string& text, uint64_t lo, uint64_t hi) {
  const std::string accepted = "; accepted: bytes with an optional K, M or G (KiB, MiB, GiB), from " +
                               std::to_string(lo >> 20) + "M to " + std::to_string(hi >> 30) + "G";
  errno = 0;
  char* end = nullptr;
  const unsigned long long v = std::strtoull(text.c_str(), &end, 10);
  const std::string unit = end ? end : "";
  int shift = -1;
  if (unit.empty()) shift = 0;
  else if (unit == "K" || unit == "KiB" || unit == "k") shift = 10;
  else if (unit == "M" || unit == "MiB" || unit == "m") shift = 20;
  else if (unit == "G" || unit == "GiB" || unit == "g") shift = 30;
  if (text.empty() || !std::isdigit(static_cast<unsigned char>(text[0])) || shift < 0 || errno == ERANGE ||
      v > (hi >> shift))
    throw BadInput(opt + " '" + text + "': not a size in range" + accepted);
  const uint64_t bytes = static_cast<uint64_t>(v) << shift;
  if (bytes < lo) throw BadInput(opt + " " + text + ": too small" + accepted);
  return bytes;
}

void parse_workload(const RunOptions& o, Plan& p) {
  const SuiteDef& s = *p.suite;
  if (!o.pages.empty())
    throw BadInput("--pages does not apply to suite " + s.name +
                   ": its size is --workers x --worker-bytes (default " + std::to_string(p.workers) + " x " +
                   std::to_string(p.worker_bytes >> 20) + " MiB)");
  if (!o.workers.empty()) p.workers = static_cast<unsigned>(parse_whole("--workers", o.workers, 1, 256));
  if (!o.worker_bytes.empty()) p.worker_bytes = parse_bytes("--worker-bytes", o.worker_bytes, 1ull << 20, 64ull << 30);
  if (!o.loops.empty()) p.loops = static_cast<unsigned>(parse_whole("--loops", o.loops, 1, 1000));
  p.worker_bytes -= p.worker_bytes % kPageSize;
  p.pages = static_cast<size_t>(p.workers) * (p.worker_bytes / kPageSize);
}

}  // namespace swapbench
