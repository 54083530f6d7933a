#include "bench/manifest.h"

#include "bench/backend.h"
#include "bench/cli.h"
#include "bench/kind_info.h"
#include "bench/metrics.h"
#include "bench/suites.h"

namespace swapbench {

using nlohmann::json;

namespace {

json or_null(const std::string& s) { return s.empty() ? json(nullptr) : json(s); }

json kinds_json() {
  json out = json::array();
  for (const auto& k : kind_infos())
    out.push_back({{"name", k.name}, {"short", k.short_name}, {"description", k.description},
                   {"privileged", k.privileged}, {"fault", k.fault}, {"model", k.model}, {"threads", k.threads}});
  return out;
}

json backends_json() {
  json out = json::array();
  for (const SwapBackend* b : backends()) out.push_back({{"name", b->name()}, {"description", b->info.description}});
  return out;
}

json suites_json() {
  json out = json::array();
  for (const auto& s : suites()) {
    out.push_back({{"name", s.name}, {"description", s.description}, {"kinds", s.kinds}, {"backends", s.backends},
                   {"profiles", s.profiles}, {"patterns", s.patterns}, {"pages", s.pages},
                   {"repetitions", s.repetitions},
                   {"guest_pages", s.guest_pages ? json(*s.guest_pages) : json(nullptr)}, {"mte", s.mte_pairs},
                   {"model", s.model}, {"interleaved", s.interleave_arms}, {"known_work", s.known_work}});
  }
  return out;
}

json metrics_json() {
  json out = json::array();
  for (const auto& m : metrics()) {
    json e = {{"name", m.name}, {"unit", m.unit}, {"direction", to_string(m.direction)}, {"kind", to_string(m.kind)},
              {"set_kinds", m.set_kinds}, {"path", m.path}, {"check", m.check}, {"meaning", m.meaning}};
    if (m.family) e["family"] = true;
    if (!m.per_rep.empty()) {
      e["spread"] = m.spread;
      e["per_repetition"] = {{"value", m.per_rep}, {"over", m.per_rep_over}};
    }
    out.push_back(e);
  }
  return out;
}

// The type as CLI11 knows it: a flag takes no value, a vector many; the rest by the type name
// declared (numbers kept as text for make_plan to check carry INT or FLOAT, bench/cli.cpp).
std::string option_type(const CLI::Option& opt) {
  if (opt.get_expected_max() == 0) return "flag";
  if (opt.get_expected_max() >= CLI::detail::expected_max_vector_size) return "list";
  const std::string t = opt.get_type_name().substr(0, opt.get_type_name().find(':'));
  if (t == "INT" || t == "UINT") return "integer";
  if (t == "FLOAT") return "number";
  return "string";
}

}  // namespace

json describe_option(const CLI::Option& opt) {
  return {{"flag", opt.get_name()}, {"type", option_type(opt)}, {"default", or_null(opt.get_default_str())},
          {"env", or_null(opt.get_envname())}, {"help", opt.get_description()}};
}

namespace {

json described_options(const CLI::App& app) {
  json opts = json::array();
  // Hidden options (group "": tests only) and --help are not part of what a verb offers.
  for (const CLI::Option* opt : app.get_options())
    if (opt != app.get_help_ptr() && !opt->get_group().empty() && opt->nonpositional())
      opts.push_back(describe_option(*opt));
  return opts;
}

}  // namespace

json manifest(const CLI::App& app, const std::vector<std::pair<std::string, const CLI::App*>>& tools) {
  json options = json::object();
  for (const auto& verb : described_verbs()) options[verb] = described_options(*app.get_subcommand(verb));
  for (const auto& [name, tool] : tools) options[name] = described_options(*tool);
  return {{"manifest_version", kManifestVersion}, {"kinds", kinds_json()}, {"backends", backends_json()},
          {"suites", suites_json()}, {"metrics", metrics_json()}, {"options", options}};
}

}  // namespace swapbench
