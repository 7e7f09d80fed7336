// SPDX-License-Identifier: Apache-2.0
// Shared Boost.Program_options plumbing for the subcommands: parse, print help that starts with an
// example, and turn bad command lines into a usage error (exit 2) with one clear line.
#pragma once

#include "tools/fleetsim/commands.hpp"

#include <boost/program_options.hpp>

#include <cstdint>
#include <optional>
#include <string_view>

namespace fleetsim::cli {

namespace po = boost::program_options;

/// Parses args into vm. Returns an exit code to return immediately (help printed: 0; bad command
/// line: 2, message printed), or nullopt to go on. `example` and `summary` lead the --help text.
std::optional<int> parse_command_line(const Args& args, std::string_view command, std::string_view example,
                                      std::string_view summary, po::options_description& options,
                                      const po::positional_options_description& positional,
                                      po::variables_map& vm);

/// `--seed`: the rule of the scenario's "seed", an integer from 0 to 2^63 - 1 in decimal, for every
/// command (Program_options read "-1" into a uint64_t as 2^64 - 1, which resolved.json then refused).
/// nullopt (after printing a usage message naming `command`) for anything else.
std::optional<uint64_t> parse_seed_option(std::string_view text, std::string_view command);

}  // namespace fleetsim::cli
