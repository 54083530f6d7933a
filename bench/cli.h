// The swapbench command line: every verb and option, declared once. main() parses with it, and
// `list --json` walks the same declarations to describe them (bench/manifest.h), so an option's
// type, default, environment twin and help are never written twice.
#pragma once
#include <CLI/CLI.hpp>

#include <string>
#include <vector>

#include "bench/options.h"

namespace swapbench {

class Cli {
 public:
  Cli();  // declares every verb and option; parse with app.parse(argc, argv), then finish()
  Cli(const Cli&) = delete;  // the options write into this object's members
  Cli& operator=(const Cli&) = delete;
  // After a successful parse: the comma-separated lists split into `o`.
  void finish();

  CLI::App app;
  RunOptions o;
  CLI::App *run = nullptr, *list = nullptr, *check = nullptr, *restore = nullptr;
  CLI::App *getppid_loop = nullptr, *mte_gate = nullptr, *cx16_gate = nullptr, *tag_memory = nullptr, *crash_selftest = nullptr;  // hidden: guests and MTE hosts only
  bool list_json = false;
  long getppid_calls = 0;
  size_t mte_pages = 64;

 private:
  void add_common(CLI::App* c);
  void add_run();
  void add_list();
  void add_hidden();
  std::vector<std::string> backends_, compressors_, profiles_, patterns_, events_;
  CLI::Option* run_events_ = nullptr;
};

// The verbs the manifest describes, in its order (the hidden ones are not described).
const std::vector<std::string>& described_verbs();

}  // namespace swapbench
