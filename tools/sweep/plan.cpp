// SPDX-License-Identifier: Apache-2.0
#include "tools/sweep/plan.hpp"

#include "sim/rng.hpp"

#include <fmt/format.h>

#include <stdexcept>

namespace fleetsim::sweep {

namespace {

// Splits at commas that are not inside [], {} or a JSON string.
std::vector<std::string> split_values(std::string_view text) {
  std::vector<std::string> out;
  std::string current;
  int depth = 0;
  bool in_string = false, escaped = false;
  for (char c : text) {
    if (in_string) {
      if (escaped) escaped = false;
      else if (c == '\\') escaped = true;
      else if (c == '"') in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      ++depth;
    } else if (c == ']' || c == '}') {
      --depth;
    } else if (c == ',' && depth == 0) {
      out.push_back(std::move(current));
      current.clear();
      continue;
    }
    current += c;
  }
  out.push_back(std::move(current));
  return out;
}

}  // namespace

Param parse_param(std::string_view text) {
  const auto eq = text.find('=');
  if (eq == std::string_view::npos || text.empty() || text.front() != '/')
    throw std::invalid_argument(fmt::format(
        "--param expects /json/pointer=value1,value2,... (for example --param /horizon=7d,14d), got \"{}\"", text));
  Param p;
  p.pointer = std::string(text.substr(0, eq));
  p.values = split_values(text.substr(eq + 1));
  for (const auto& v : p.values)
    if (v.empty())
      throw std::invalid_argument(fmt::format("--param {}: an empty value in \"{}\"", p.pointer, text));
  return p;
}

size_t Plan::value_index(size_t cell, size_t p) const {
  // The last parameter varies fastest: divide by the sizes of the parameters after p.
  size_t stride = 1;
  for (size_t q = params.size(); q-- > p + 1;) stride *= params[q].values.size();
  return (cell / stride) % params[p].values.size();
}

std::vector<Override> Plan::cell_overrides(size_t cell) const {
  std::vector<Override> out;
  for (size_t p = 0; p < params.size(); ++p)
    out.push_back(Override{params[p].pointer, params[p].values[value_index(cell, p)]});
  return out;
}

std::string Plan::cell_label(size_t cell) const {
  std::string out;
  for (const auto& o : cell_overrides(cell)) {
    if (!out.empty()) out += ' ';
    out += o.pointer + "=" + o.value;
  }
  return out;
}

uint64_t replication_seed(uint64_t base, size_t replication) {
  if (replication == 0) return base;
  // Two SplitMix64 steps over a state made of both inputs: nearby (base, r) pairs land far apart.
  uint64_t state = base ^ (0x9e3779b97f4a7c15ull * static_cast<uint64_t>(replication));
  splitmix64(state);
  return splitmix64(state) >> 1;
}

Plan make_plan(std::vector<Param> params, size_t repeat, uint64_t base_seed, std::vector<uint64_t> cell_seeds) {
  // A cap far above any real sweep: it turns a typo (or "-1", which the option parser wraps to 2^64-1)
  // into a message instead of an allocation failure.
  constexpr size_t kMaxRuns = 10'000'000;
  if (repeat == 0 || repeat > kMaxRuns)
    throw std::invalid_argument(fmt::format("--repeat expects 1 to {}, got {}", kMaxRuns, repeat));
  size_t runs = repeat;
  for (const auto& p : params) {
    if (runs > kMaxRuns / p.values.size())
      throw std::invalid_argument(fmt::format("the sweep has more than {} runs", kMaxRuns));
    runs *= p.values.size();
  }
  Plan plan;
  plan.params = std::move(params);
  plan.repeat = repeat;
  plan.base_seed = base_seed;
  for (const auto& p : plan.params) plan.cells *= p.values.size();
  if (cell_seeds.empty()) cell_seeds.assign(plan.cells, base_seed);
  if (cell_seeds.size() != plan.cells) throw std::invalid_argument("make_plan: one seed per cell expected");
  plan.cell_seeds = std::move(cell_seeds);
  plan.runs.reserve(plan.cells * repeat);
  for (size_t c = 0; c < plan.cells; ++c)
    for (size_t r = 0; r < repeat; ++r)
      plan.runs.push_back(PlannedRun{plan.runs.size(), c, r, replication_seed(plan.cell_seeds[c], r)});
  return plan;
}

std::string format_plan(const Plan& plan) {
  std::string out;
  for (const auto& run : plan.runs) {
    const std::string label = plan.cell_label(run.cell);
    out += fmt::format("run {}: cell {}{}, replication {}, seed {}\n", run.index, run.cell,
                       label.empty() ? "" : " (" + label + ")", run.replication, run.seed);
  }
  return out;
}

std::string run_directory_name(size_t index, size_t run_count) {
  size_t width = 3;
  for (size_t n = 1000; n < run_count; n *= 10) ++width;
  return fmt::format("{:0{}}", index, width);
}

}  // namespace fleetsim::sweep
