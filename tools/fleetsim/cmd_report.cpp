// SPDX-License-Identifier: Apache-2.0
// `fleetsim report RUN_DIR`: (re)builds report.html from a finished run's files.
#include "sim/atomic_file.hpp"
#include "tools/fleetsim/commands.hpp"
#include "tools/fleetsim/exit_codes.hpp"
#include "tools/fleetsim/options.hpp"
#include "tools/fleetsim/report.hpp"

#include <fmt/format.h>

#include <filesystem>

namespace fleetsim::cli {

int cmd_report(const Args& args) {
  po::options_description options("Options");
  std::string dir, out;
  options.add_options()
      ("run", po::value(&dir)->required(), "run directory (as written by `fleetsim run -o DIR`)")
      ("output,o", po::value(&out), "where to write the page (default: RUN_DIR/report.html)")
      ("quiet,q", "print only errors");
  po::positional_options_description positional;
  positional.add("run", 1);
  po::variables_map vm;
  if (auto code = parse_command_line(args, "report", "fleetsim report out/quickstart",
                                     "Writes report.html (one self-contained page: charts of utilization, cost, "
                                     "training, inference and failures, and the summary) from a run directory.",
                                     options, positional, vm))
    return *code;
  const std::filesystem::path target = out.empty() ? std::filesystem::path(dir) / "report.html" : std::filesystem::path(out);
  try {
    write_report(dir, target);
  } catch (const std::exception& e) {
    return exit_with(e);
  }
  if (!vm.count("quiet")) fmt::print("{}\n", target.string());
  return exit_code::ok;
}

}  // namespace fleetsim::cli
