// The metrics compare, report and history may judge, declared once as data: unit, which direction
// is better, timed or exact, which kinds of set have it and where a repetition holds it. The
// manifest (`swapbench list --json`) carries this table to the Python side (analysis/metrics.py).
#pragma once
#include <string>
#include <vector>

namespace swapbench {

enum class Direction { LowerIsBetter, HigherIsBetter };
// timed: measured with noise, judged by statistics over repetitions. exact: a count that does not
// vary by chance (instructions counted in a guest, or with `check` a count where any non-zero value
// is a failure in itself).
enum class MetricKind { Timed, Exact };
std::string to_string(Direction d);  // "lower_is_better", "higher_is_better"
std::string to_string(MetricKind k);  // "timed", "exact"

struct MetricDef {
  // A family's name and path hold "{}" where a name known only at run time goes: a libpfm4 event
  // (pmu.{}) or a kernel function the count pass lists (functions.{}.calls_per_op).
  std::string name, unit;
  Direction direction = Direction::LowerIsBetter;
  MetricKind kind = MetricKind::Timed;
  std::vector<std::string> set_kinds;
  // Where a repetition's swapbench block holds it; empty for Google Benchmark's real_time.
  std::vector<std::string> path;
  bool check = false;
  std::string meaning;
  bool family = false;
  // Counted exact metrics only: where the set's exact block holds the spread between repetitions
  // (empty: none declared, so max - min over the repetitions), and how one repetition's plugin
  // report gives the figure: a numerator path over a denominator path (empty: over 1).
  std::vector<std::string> spread;
  std::vector<std::string> per_rep, per_rep_over;
};

const std::vector<MetricDef>& metrics();

}  // namespace swapbench
