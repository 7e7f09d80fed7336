// SPDX-License-Identifier: Apache-2.0
// The output directory of a command (`run`, `sweep`): created if missing; a non-empty one is refused
// without --force, and with --force only what a previous run of the same command wrote is removed, so
// no stale file mixes with the new ones and nothing else in the directory is touched.
#pragma once

#include "tools/fleetsim/commands.hpp"

#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace fleetsim::cli {

/// Returns an exit code (73, with the message printed) if the directory cannot be used.
/// `command` names the command in the message ("run", "sweep").
std::optional<int> prepare_output_directory(const std::filesystem::path& dir, bool force, std::string_view command,
                                            const std::function<bool(const std::filesystem::directory_entry&)>&
                                                is_previous_output);

/// "fleetsim <command> <args...>", for manifests.
std::string join_command_line(std::string_view command, const Args& args);

}  // namespace fleetsim::cli
