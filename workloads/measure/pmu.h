// Hardware and software counters through libpfm4 (event names) and perf_event_open (counting),
// opened as one group around a timed phase so every event covers the same instructions.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace swapbench {

// perf stat's correction for multiplexing: an event counted for `running` of `enabled` ns is
// scaled up by enabled/running. running == 0 means it never ran: the value is unknown, not zero.
// Returns -1 for unknown.
double scale_count(uint64_t raw, uint64_t enabled, uint64_t running);

struct EventStatus {
  std::string name;
  bool ok = false;
  std::string reason;  // why it could not be used, with a hint
};

// Resolves an event string with libpfm4 without opening it (for input validation).
// ok=false with libpfm4's reason for an unknown name.
EventStatus resolve_event(const std::string& name);

struct CounterReading {
  std::string name;
  uint64_t raw = 0;
  double scaled = -1;  // -1: never scheduled
  double running_share = 0;  // time_running / time_enabled
};

class CounterGroup {
 public:
  // Opens what it can for the calling thread; statuses() says what failed and why.
  explicit CounterGroup(const std::vector<std::string>& events);
  ~CounterGroup();
  CounterGroup(const CounterGroup&) = delete;
  CounterGroup& operator=(const CounterGroup&) = delete;
  const std::vector<EventStatus>& statuses() const { return statuses_; }
  bool any() const { return !fds_.empty(); }
  void start();   // reset + enable the group
  void stop();    // disable (the counts are kept)
  void resume();  // enable again without a reset: stop() .. resume() leaves work out of the counts
  std::vector<CounterReading> read() const;

 private:
  std::vector<EventStatus> statuses_;
  std::vector<int> fds_;
  std::vector<std::string> names_;  // of fds_, in group order
};

}  // namespace swapbench
