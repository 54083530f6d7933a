// The binary described as data: `swapbench list --json` prints it and results/manifest.json is a
// copy of it (a unit test keeps the copy current), read by the Python side, the report, the matrix
// and the front door instead of their own lists of names. Nothing in it changes per commit or per
// machine: `swapbench --version` says which build this is.
#pragma once
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

namespace swapbench {

// Bumped when a key changes meaning or goes away; a new key does not bump it.
inline constexpr int kManifestVersion = 1;

// {"manifest_version", "kinds", "backends", "suites", "metrics", "options"}; `app` is the parsed
// or unparsed command line (bench/cli.h), whose verbs' options are described as declared.
// `tools`: the suite's other programs (name, command line), whose options are described under
// their name beside the verbs' (options.capacity: swapbench-capacity, bench/capacity/capacity_cli.h).
nlohmann::json manifest(const CLI::App& app, const std::vector<std::pair<std::string, const CLI::App*>>& tools = {});

// One option as the manifest describes it: flag, type (integer, number, string, flag, list),
// default, env and help, the last three null when the declaration has none.
nlohmann::json describe_option(const CLI::Option& opt);

}  // namespace swapbench
