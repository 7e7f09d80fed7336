// SPDX-License-Identifier: Apache-2.0
// `fleetsim compare BASELINE NEW`: metrics side by side with their relative change; exit 0 when all are
// within the tolerance, 1 when one is not, 2 when the comparison cannot be made (GNU diff's codes).
#include "sim/atomic_file.hpp"
#include "tools/fleetsim/commands.hpp"
#include "tools/fleetsim/exit_codes.hpp"
#include "tools/fleetsim/options.hpp"
#include "tools/sweep/compare.hpp"

#include <fmt/format.h>

namespace fleetsim::cli {

int cmd_compare(const Args& args) {
  po::options_description options("Options");
  std::string baseline_path, new_path, rel_tol_text = "1%", junit_path;
  std::vector<std::string> metrics;
  options.add_options()
      ("baseline", po::value(&baseline_path)->required(), "run directory, sweep directory or summary.json")
      ("new", po::value(&new_path)->required(), "the same kind of result, to check against the baseline")
      ("rel-tol", po::value(&rel_tol_text), "allowed relative change, e.g. 1% or 0.01 (default 1%)")
      ("metric", po::value(&metrics)->composing(),
       "compare only this summary.json value: a JSON pointer selects that value and every one under it "
       "(repeatable; default: every numeric value)")
      ("junit", po::value(&junit_path), "also write the result as JUnit XML to this file (one testcase per metric)")
      ("quiet,q", "print nothing; the exit code says it");
  po::positional_options_description positional;
  positional.add("baseline", 1).add("new", 1);
  po::variables_map vm;
  if (auto code = parse_command_line(
          args, "compare",
          "fleetsim compare baseline/summary.json out/run --metric /training/jobs/llm-70b/tokens_per_s --rel-tol 1%",
          "Compares the metrics of two runs (a run directory or its summary.json) or two sweeps (cell means), "
          "and exits 0 when every metric is within the relative tolerance, 1 when one is not, 2 on trouble. "
          "See docs/ci-compare.md.",
          options, positional, vm)) {
    // GNU diff's convention: trouble is 2, and so is a bad command line (exit_code::usage).
    return *code;
  }
  double rel_tol = 0;
  try {
    rel_tol = sweep::parse_rel_tol(rel_tol_text);
  } catch (const std::invalid_argument& e) {
    fmt::print(stderr, "error: fleetsim compare: {}\n", e.what());
    return exit_code::compare_trouble;
  }
  sweep::Comparison c;
  try {
    const sweep::Side baseline = sweep::load_side(baseline_path);
    const sweep::Side candidate = sweep::load_side(new_path);
    c = sweep::compare(baseline, candidate, sweep::CompareOptions{.rel_tol = rel_tol, .metrics = metrics});
  } catch (const sweep::CompareError& e) {
    fmt::print(stderr, "error: fleetsim compare: {}\n", e.what());
    return exit_code::compare_trouble;
  }
  if (!junit_path.empty()) {
    try {
      write_file_atomically(junit_path, sweep::junit_xml(c, rel_tol, baseline_path, new_path));
    } catch (const OutputError& e) {
      fmt::print(stderr, "error: fleetsim compare: {}\n", e.what());
      return exit_code::compare_trouble;
    }
  }
  if (!vm.count("quiet")) fmt::print("{}", sweep::format_comparison(c, rel_tol));
  return c.outside == 0 ? exit_code::ok : exit_code::compare_outside;
}

}  // namespace fleetsim::cli
