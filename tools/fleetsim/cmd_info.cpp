// SPDX-License-Identifier: Apache-2.0
// `fleetsim schema` and `fleetsim version`: print what the binary carries.
#include "models/scenario/embedded.hpp"
#include "tools/fleetsim/commands.hpp"
#include "tools/fleetsim/exit_codes.hpp"

#include <fmt/format.h>

namespace fleetsim::cli {

namespace {
bool wants_help(const Args& args) {
  for (const auto& a : args)
    if (a == "--help" || a == "-h") return true;
  return false;
}
}  // namespace

std::string version_line() { return fmt::format("fleetsim {}", FLEETSIM_VERSION); }

int cmd_schema(const Args& args) {
  if (wants_help(args)) {
    fmt::print("Example:\n  fleetsim schema > scenario.schema.json\n\n"
               "Prints the scenario JSON Schema (draft-07) that editors use for hover and completion.\n");
    return exit_code::ok;
  }
  if (!args.empty()) {
    fmt::print(stderr, "error: `fleetsim schema` takes no arguments, got \"{}\"\n", args.front());
    return exit_code::usage;
  }
  auto schema = embedded_file("schema/scenario.schema.json");
  if (!schema) {
    fmt::print(stderr, "internal error: the schema was not embedded at build time\n");
    return exit_code::software;
  }
  fmt::print("{}", *schema);
  return exit_code::ok;
}

int cmd_version(const Args& args) {
  if (wants_help(args)) {
    fmt::print("Example:\n  fleetsim version\n\nPrints the fleetsim version.\n");
    return exit_code::ok;
  }
  fmt::print("{}\n", version_line());
  return exit_code::ok;
}

}  // namespace fleetsim::cli
