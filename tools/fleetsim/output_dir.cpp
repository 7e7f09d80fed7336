// SPDX-License-Identifier: Apache-2.0
#include "tools/fleetsim/output_dir.hpp"

#include "tools/fleetsim/exit_codes.hpp"

#include <fmt/format.h>

#include <system_error>

namespace fleetsim::cli {

namespace fs = std::filesystem;

std::optional<int> prepare_output_directory(const fs::path& dir, bool force, std::string_view command,
                                            const std::function<bool(const fs::directory_entry&)>& is_previous_output) {
  std::error_code ec;
  if (fs::exists(dir, ec)) {
    if (!fs::is_directory(dir, ec)) {
      fmt::print(stderr, "error: output path {} exists and is not a directory\n", dir.string());
      return exit_code::cant_create;
    }
    if (!fs::is_empty(dir, ec)) {
      if (!force) {
        fmt::print(stderr, "error: output directory {} is not empty; use --force to replace a previous {}'s "
                   "outputs, or -o to choose another\n", dir.string(), command);
        return exit_code::cant_create;
      }
      for (const auto& entry : fs::directory_iterator(dir, ec))
        if (is_previous_output(entry)) fs::remove_all(entry.path(), ec);
    }
  }
  fs::create_directories(dir, ec);
  if (ec) {
    fmt::print(stderr, "error: cannot create output directory {}: {}\n", dir.string(), ec.message());
    return exit_code::cant_create;
  }
  return std::nullopt;
}

std::string join_command_line(std::string_view command, const Args& args) {
  std::string s = fmt::format("fleetsim {}", command);
  for (const auto& a : args) s += " " + a;
  return s;
}

}  // namespace fleetsim::cli
