// SPDX-License-Identifier: Apache-2.0
#include "tools/fleetsim/options.hpp"

#include "models/scenario/did_you_mean.hpp"
#include "tools/fleetsim/exit_codes.hpp"

#include <fmt/format.h>

#include <charconv>
#include <climits>
#include <sstream>
#include <string>
#include <vector>
#include <system_error>

namespace fleetsim::cli {

std::optional<int> parse_command_line(const Args& args, std::string_view command, std::string_view example,
                                      std::string_view summary, po::options_description& options,
                                      const po::positional_options_description& positional,
                                      po::variables_map& vm) {
  options.add_options()("help,h", "print this help");
  try {
    po::store(po::command_line_parser(args).options(options).positional(positional).run(), vm);
    if (vm.count("help")) {
      std::ostringstream text;
      text << options;
      fmt::print("Example:\n  {}\n\n{}\n\n{}", example, summary, text.str());
      return exit_code::ok;
    }
    po::notify(vm);
  } catch (const po::unknown_option& e) {
    std::vector<std::string> names;
    for (const auto& o : options.options()) names.push_back("--" + o->long_name());
    fmt::print(stderr, "error: fleetsim {}: {}{}\nRun `fleetsim {} --help` for usage.\n", command, e.what(),
               did_you_mean(e.get_option_name(), names), command);
    return exit_code::usage;
  } catch (const po::error& e) {
    fmt::print(stderr, "error: fleetsim {}: {}\nRun `fleetsim {} --help` for usage.\n", command, e.what(),
               command);
    return exit_code::usage;
  }
  return std::nullopt;
}

std::optional<uint64_t> parse_seed_option(std::string_view text, std::string_view command) {
  uint64_t value = 0;
  const char* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (text.empty() || ec != std::errc() || ptr != end || value > static_cast<uint64_t>(INT64_MAX)) {
    fmt::print(stderr, "error: fleetsim {}: --seed expects an integer from 0 to {} (as \"seed\" in a scenario), "
               "got \"{}\"\n", command, INT64_MAX, text);
    return std::nullopt;
  }
  return value;
}

}  // namespace fleetsim::cli
