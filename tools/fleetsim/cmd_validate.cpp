// SPDX-License-Identifier: Apache-2.0
// `fleetsim validate`: load each scenario as `run` would, without simulating; report every error.
#include "models/scenario/diagnostics.hpp"
#include "models/scenario/load_scenario.hpp"
#include "tools/fleetsim/commands.hpp"
#include "tools/fleetsim/exit_codes.hpp"
#include "tools/fleetsim/options.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace fleetsim::cli {

int cmd_validate(const Args& args) {
  po::options_description options("Options");
  std::vector<std::string> files;
  std::string format = "text";
  std::vector<std::string> sets;
  options.add_options()
      ("scenario", po::value(&files)->required()->multitoken(), "scenario files (JSON)")
      ("set", po::value(&sets)->composing(), "override a value first, as `fleetsim run --set` does")
      ("format", po::value(&format), "text (default) or json (one object per file on stdout)");
  po::positional_options_description positional;
  positional.add("scenario", -1);
  po::variables_map vm;
  if (auto code = parse_command_line(args, "validate", "fleetsim validate scenarios/*.json",
                                     "Checks scenarios without simulating. Every error is listed with its JSON "
                                     "pointer. Exit 0 if all are valid, 65 if any is invalid, 66 if any is missing.",
                                     options, positional, vm))
    return *code;
  if (format != "text" && format != "json") {
    fmt::print(stderr, "error: fleetsim validate: --format expects text or json, got \"{}\"\n", format);
    return exit_code::usage;
  }
  LoadOptions load;
  try {
    for (const auto& s : sets) load.overrides.push_back(parse_override(s));
  } catch (const std::invalid_argument& e) {
    fmt::print(stderr, "error: fleetsim validate: {}\n", e.what());
    return exit_code::usage;
  }

  int worst = exit_code::ok;
  for (const auto& file : files) {
    nlohmann::json report = {{"file", file}, {"valid", false}, {"errors", nlohmann::json::array()},
                             {"warnings", nlohmann::json::array()}};
    try {
      const Scenario s = load_scenario(file, load);
      report["valid"] = true;
      for (const auto& w : s.warnings) report["warnings"].push_back({{"pointer", w.pointer}, {"message", w.message}});
      if (format == "text") fmt::print("ok: {} ({}, horizon {})\n", file, s.run.name, s.run.horizon);
      if (format == "text" && !s.warnings.empty()) fmt::print(stderr, "{}\n", render_warnings(file, s.warnings));
    } catch (const InputError& e) {
      worst = exit_code::no_input;
      report["errors"].push_back({{"pointer", ""}, {"message", e.what()}});
      if (format == "text") fmt::print(stderr, "{}\n", e.what());
    } catch (const ScenarioError& e) {
      if (worst == exit_code::ok) worst = exit_code::data_error;
      for (const auto& d : e.diagnostics().sorted())
        report["errors"].push_back({{"pointer", d.pointer}, {"message", d.message}});
      if (format == "text") fmt::print(stderr, "{}\n", e.what());
    }
    // replace: a syntax error quotes the bytes it read, which need not be UTF-8 (found by fuzzing).
    if (format == "json")
      fmt::print("{}\n", report.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  }
  return worst;
}

}  // namespace fleetsim::cli
