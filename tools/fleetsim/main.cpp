// SPDX-License-Identifier: Apache-2.0
// fleetsim: the command line. Subcommands in the style of git and cargo; each parses its own options
// with Boost.Program_options (which has no native subcommands, so the first word picks the parser).
#include "models/scenario/did_you_mean.hpp"
#include "tools/fleetsim/commands.hpp"
#include "tools/fleetsim/exit_codes.hpp"
#include "tools/fleetsim/large_pages.hpp"

#include <fmt/format.h>

#include <exception>
#include <string_view>

namespace {

constexpr std::string_view kUsage = R"(Example:
  fleetsim run scenarios/quickstart.json -o out/quickstart

Usage: fleetsim <command> [options]

Commands:
  run SCENARIO        simulate a scenario and write its outputs to a directory
  validate SCENARIO.. check scenarios without simulating; every error with its JSON pointer
  sweep SCENARIO      run a parameter sweep with replications (runs.csv, cells.csv with 95% intervals)
  plan SCENARIO [PLAN] search for the cheapest plan that meets every constraint (docs/planning.md)
  compare BASE NEW    compare two runs or sweeps metric by metric; exit 1 outside --rel-tol
  report RUN_DIR      write report.html (charts and summary) from a run's files
  schema              print the scenario JSON Schema (draft-07)
  version             print the version
  validation DIR      run the validation scenarios and write the scoreboard (docs/validation.md)
  topology INPUT      summarise a scenario's network or a GraphML/DOT file; --write it as GraphML or DOT
  init [FILE]         write a starting scenario to edit, with its schema (docs/first-scenario.md)

Run `fleetsim <command> --help` for a command's options. Exit codes are listed in README.md.
)";

}  // namespace

int main(int argc, char** argv) {
  using namespace fleetsim;
  cli::use_large_pages(argv);  // returns in the process re-executed with them (or without, when it cannot)
  if (argc < 2) {
    fmt::print(stderr, "{}", kUsage);
    return exit_code::usage;
  }
  const std::string_view command = argv[1];
  cli::Args rest(argv + 2, argv + argc);
  try {
    if (command == "run") return cli::cmd_run(rest);
    if (command == "validate") return cli::cmd_validate(rest);
    if (command == "sweep") return cli::cmd_sweep(rest);
    if (command == "compare") return cli::cmd_compare(rest);
    if (command == "plan") return cli::cmd_plan(rest);
    if (command == "report") return cli::cmd_report(rest);
    if (command == "schema") return cli::cmd_schema(rest);
    if (command == "validation") return cli::cmd_validation(rest);
    if (command == "topology") return cli::cmd_topology(rest);
    if (command == "init") return cli::cmd_init(rest);
    if (command == "version" || command == "--version") return cli::cmd_version(rest);
    if (command == "help" || command == "--help" || command == "-h") {
      fmt::print("{}", kUsage);
      return exit_code::ok;
    }
    fmt::print(stderr, "error: unknown command \"{}\"{}\n\n{}", command,
               did_you_mean(command, {"run", "validate", "sweep", "compare", "report", "schema", "version", "validation",
                                      "init", "help"}),
               kUsage);
    return exit_code::usage;
  } catch (const std::exception& e) {
    return cli::exit_with(e);  // "error: internal error: ..." (70) for anything outside the taxonomy
  }
}
