// SPDX-License-Identifier: Apache-2.0
// `fleetsim validation`: run every scenario of a directory that carries a "validation" block, compare
// its summary.json figures with the published ones, and write the scoreboard page (docs/validation.md).
// Runs stay in memory (no output directories). The page is deterministic so that CI can compare the
// committed copy with a fresh one (--check).
#include "models/scenario/diagnostics.hpp"
#include "models/scenario/load_scenario.hpp"
#include "models/scenario/reader.hpp"
#include "tools/run/simulation.hpp"
#include "sim/atomic_file.hpp"
#include "tools/fleetsim/commands.hpp"
#include "tools/fleetsim/exit_codes.hpp"
#include "tools/fleetsim/options.hpp"
#include "tools/fleetsim/validation_board.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace fleetsim::cli {

namespace {

namespace fs = std::filesystem;

// The scenario files named on the command line: a directory stands for its *.json files (sorted, so
// the page's row order does not depend on the file system).
std::vector<std::string> expand(const std::vector<std::string>& inputs) {
  std::vector<std::string> files;
  for (const auto& in : inputs) {
    std::error_code ec;
    if (fs::is_directory(in, ec)) {
      std::vector<std::string> found;
      for (const auto& e : fs::directory_iterator(in, ec))
        if (e.is_regular_file() && e.path().extension() == ".json") found.push_back(e.path().generic_string());
      std::sort(found.begin(), found.end());
      files.insert(files.end(), found.begin(), found.end());
    } else {
      files.push_back(in);
    }
  }
  return files;
}

std::string read_text(const fs::path& p, bool& ok) {
  std::ifstream in(p, std::ios::binary);
  ok = static_cast<bool>(in);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

int cmd_validation(const Args& args) {
  po::options_description options("Options");
  std::vector<std::string> inputs;
  std::string out_path, check_path;
  options.add_options()
      ("scenarios", po::value(&inputs)->required()->multitoken(), "validation scenarios, or directories of them")
      ("output,o", po::value(&out_path), "write the scoreboard (Markdown) here; default: stdout")
      ("check", po::value(&check_path), "also fail (exit 1) when this committed file differs from the scoreboard")
      ("quiet,q", "print only failures and errors");
  po::positional_options_description positional;
  positional.add("scenarios", -1);
  po::variables_map vm;
  if (auto code = parse_command_line(
          args, "validation", "fleetsim validation scenarios/validation -o docs/validation.md",
          "Runs every scenario with a \"validation\" block and compares its summary.json figures with the published "
          "ones it declares. Writes the scoreboard as Markdown. Exit 0 when every figure is within its tolerance "
          "(or a declared known miss still misses), 1 when one is not or --check finds the file out of date, 65 for "
          "an invalid scenario or validation block, 66 for a missing file, 70 if a run fails.",
          options, positional, vm))
    return *code;
  const bool quiet = vm.count("quiet") > 0;

  // Read and check every board before running anything: a typo in the last file should not cost the
  // time of the first runs.
  std::vector<validation::Board> boards;
  int worst = exit_code::ok;
  for (const auto& file : expand(inputs)) {
    Diagnostics diags(file);
    try {
      const nlohmann::json doc = parse_json_file(file, diags);
      if (auto b = validation::read_board(doc, file, diags)) boards.push_back(std::move(*b));
      diags.throw_if_any();
    } catch (const std::exception& e) {
      worst = std::max(worst, exit_with(e));  // 66 (missing) outranks 65 (invalid)
    }
  }
  if (worst != exit_code::ok) return worst;
  if (boards.empty()) {
    fmt::print(stderr, "error: fleetsim validation: no scenario with a \"validation\" block in {}\n", fmt::join(inputs, " "));
    return exit_code::data_error;
  }

  std::vector<validation::Outcome> outcomes;
  for (const auto& board : boards) {
    std::vector<std::optional<uint64_t>> seeds;
    if (board.seeds.empty()) seeds.push_back(std::nullopt);
    for (uint64_t s : board.seeds) seeds.push_back(s);
    std::vector<validation::Outcome> rows(board.checks.size());
    for (size_t i = 0; i < rows.size(); ++i) {
      rows[i].check = &board.checks[i];
      rows[i].file = board.file;
    }
    for (const auto& seed : seeds) {
      LoadOptions load;
      load.seed = seed;
      SimulationResult result;
      try {
        const Scenario scenario = load_scenario(board.file, load);
        result = simulate(scenario, SimulationOptions{});  // in memory: no output directory
      } catch (const std::exception& e) {
        fmt::print(stderr, "{}:\n", board.file);
        return exit_with(e);
      }
      for (size_t i = 0; i < rows.size(); ++i) {
        try {
          rows[i].values.push_back(validation::evaluate(board.checks[i].metric, result.summary));
        } catch (const std::invalid_argument& e) {
          fmt::print(stderr, "error: {}: /validation/checks/{}/metric: {}\n", board.file, i, e.what());
          return exit_code::data_error;
        }
      }
    }
    for (auto& r : rows) {
      double sum = 0;
      for (double v : r.values) sum += v;
      r.value = sum / static_cast<double>(r.values.size());
      validation::judge(r);
      outcomes.push_back(std::move(r));
    }
  }

  const std::string page = validation::render_markdown(outcomes, "fleetsim validation scenarios/validation -o docs/validation.md");
  bool failed = false;
  for (const auto& o : outcomes) {
    if (!o.failing()) continue;
    failed = true;
    fmt::print(stderr, "FAIL: {}: {}: fleetsim {} vs published {}{}\n", o.file, o.check->figure, o.value,
               o.check->expected, o.check->known_miss.empty() ? "" : " (declared a known miss, but it now passes)");
  }
  if (!out_path.empty()) {
    try {
      write_file_atomically(out_path, page);
    } catch (const std::exception& e) {
      return exit_with(e);
    }
  } else {
    fmt::print("{}", page);
  }
  if (!check_path.empty()) {
    bool ok = false;
    const std::string committed = read_text(check_path, ok);
    if (!ok) {
      fmt::print(stderr, "error: fleetsim validation: cannot read {} for --check\n", check_path);
      return exit_code::no_input;
    }
    if (committed != page) {
      fmt::print(stderr, "FAIL: {} is out of date: regenerate it with `fleetsim validation scenarios/validation -o {}`\n",
                 check_path, check_path);
      failed = true;
    }
  }
  if (!quiet && !out_path.empty())
    fmt::print("{} checks from {} scenarios; scoreboard written to {}\n", outcomes.size(), boards.size(), out_path);
  return failed ? exit_code::validation_failed : exit_code::ok;
}

}  // namespace fleetsim::cli
