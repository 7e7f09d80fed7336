// SPDX-License-Identifier: Apache-2.0
#include "tools/sweep/report.hpp"

#include "sim/atomic_file.hpp"
#include "sim/csv_writer.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <unordered_map>

namespace fleetsim::sweep {

namespace {

// One CSV line being built: fields separated by commas, quoted only when needed (sim/csv_writer.hpp).
struct Line {
  std::string text;
  bool first = true;
  void add(const CellView& cell) {
    if (!first) text += ',';
    first = false;
    append_csv_cell(text, cell);
  }
  void add_number(const nlohmann::json& v) {
    if (v.is_number_integer()) add(v.get<int64_t>());
    else add(v.get<double>());
  }
};

// NaN (no interval with one replication) as JSON null.
nlohmann::json number_or_null(double v) { return std::isnan(v) ? nlohmann::json() : nlohmann::json(v); }

}  // namespace

SweepReport make_report(const SweepSpec& spec, std::vector<RunOutcome> outcomes,
                        const std::vector<std::string>& metric_selectors) {
  const Plan& plan = spec.plan;
  std::sort(outcomes.begin(), outcomes.end(), [](const auto& a, const auto& b) { return a.index < b.index; });
  SweepReport report;

  // Metrics per run, and the union of their names in order of first appearance (runs of one scenario
  // usually share every name; a parameter can add some, such as a second job).
  std::vector<std::unordered_map<std::string, nlohmann::json>> values(outcomes.size());
  std::unordered_map<std::string, size_t> column_of;
  std::vector<std::string> all_names;  // every metric of the first finished run, for did-you-mean hints
  for (size_t k = 0; k < outcomes.size(); ++k) {
    const auto& o = outcomes[k];
    if (o.status == RunStatus::Ok) ++report.ok;
    else if (o.status == RunStatus::Failed) ++report.failed;
    else ++report.not_run;
    if (o.status != RunStatus::Ok) continue;
    const Metrics all = numeric_leaves(nlohmann::json::parse(o.summary_text));
    if (all_names.empty())
      for (const auto& m : all) all_names.push_back(m.name);
    for (auto& m : select(all, metric_selectors)) {
      if (column_of.emplace(m.name, report.metric_names.size()).second) report.metric_names.push_back(m.name);
      values[k].emplace(m.name, std::move(m.value));
    }
  }
  // A misspelt --metric would leave its columns out without a word after a whole sweep.
  if (report.ok > 0)
    for (const auto& sel : metric_selectors) {
      bool any = false;
      for (const auto& name : report.metric_names) any = any || selected(name, {sel});
      if (!any)
        report.warnings.push_back(fmt::format("--metric {} selected no metric of any run{}", normalize_selector(sel),
                                              selector_hint(sel, all_names)));
    }

  // runs.csv
  std::string& runs = report.runs_csv;
  Line header;
  for (const char* c : {"run", "cell", "replication", "seed"}) header.add(c);
  for (const auto& p : plan.params) header.add(p.pointer);
  for (const char* c : {"status", "exit_code", "directory", "error"}) header.add(c);
  for (const auto& name : report.metric_names) header.add(name);
  runs = header.text + '\n';
  for (size_t k = 0; k < outcomes.size(); ++k) {
    const auto& o = outcomes[k];
    const PlannedRun& r = plan.runs.at(o.index);
    Line line;
    line.add(r.index);
    line.add(r.cell);
    line.add(r.replication);
    line.add(r.seed);
    for (const auto& ov : plan.cell_overrides(r.cell)) line.add(ov.value);
    line.add(to_string(o.status));
    line.add(o.exit_code);
    line.add("runs/" + run_directory_name(r.index, plan.runs.size()));
    line.add(o.error);
    for (const auto& name : report.metric_names) {
      auto it = values[k].find(name);
      if (it == values[k].end()) line.add(CellView::null());
      else line.add_number(it->second);
    }
    runs += line.text + '\n';
  }

  // Cells: statistics over the cell's successful runs.
  std::string& cells = report.cells_csv;
  Line cells_header;
  cells_header.add("cell");
  for (const auto& p : plan.params) cells_header.add(p.pointer);
  for (const char* c : {"metric", "n", "mean", "stddev", "ci95_low", "ci95_high"}) cells_header.add(c);
  cells = cells_header.text + '\n';
  nlohmann::json cells_json = nlohmann::json::array();
  std::vector<std::vector<size_t>> of_cell(plan.cells);  // outcome positions per cell
  for (size_t k = 0; k < outcomes.size(); ++k) of_cell.at(plan.runs.at(outcomes[k].index).cell).push_back(k);
  for (size_t c = 0; c < plan.cells; ++c) {
    nlohmann::json cell = {{"cell", c}, {"label", plan.cell_label(c)}, {"params", nlohmann::json::object()},
                           {"seed", plan.cell_seeds.at(c)}};
    for (const auto& ov : plan.cell_overrides(c)) cell["params"][ov.pointer] = ov.value;
    size_t ok_runs = 0;
    for (size_t k : of_cell[c])
      if (outcomes[k].status == RunStatus::Ok) ++ok_runs;
    cell["runs_ok"] = ok_runs;
    nlohmann::json metrics = nlohmann::json::object();
    for (const auto& name : report.metric_names) {
      std::vector<double> xs;
      for (size_t k : of_cell[c]) {
        auto it = values[k].find(name);
        if (it != values[k].end()) xs.push_back(it->second.get<double>());
      }
      if (xs.empty()) continue;
      const CellStats s = summarize(xs);
      Line line;
      line.add(c);
      for (const auto& ov : plan.cell_overrides(c)) line.add(ov.value);
      line.add(name);
      line.add(s.n);
      line.add(s.mean);
      line.add(s.stddev);
      line.add(s.low());
      line.add(s.high());
      cells += line.text + '\n';
      metrics[name] = {{"n", s.n}, {"mean", s.mean}, {"stddev", number_or_null(s.stddev)},
                       {"ci95_low", number_or_null(s.low())}, {"ci95_high", number_or_null(s.high())}};
    }
    cell["metrics"] = std::move(metrics);
    cells_json.push_back(std::move(cell));
  }

  // sweep.json: everything above that a program needs, without wall-clock facts, so it is
  // byte-identical between -j 1, -j N and MPI.
  nlohmann::json params = nlohmann::json::array();
  for (const auto& p : plan.params) params.push_back({{"pointer", p.pointer}, {"values", p.values}});
  nlohmann::json runs_json = nlohmann::json::array();
  for (const auto& o : outcomes) {
    const PlannedRun& r = plan.runs.at(o.index);
    nlohmann::json run = {{"run", r.index},
                          {"cell", r.cell},
                          {"replication", r.replication},
                          {"seed", r.seed},
                          {"directory", "runs/" + run_directory_name(r.index, plan.runs.size())},
                          {"status", to_string(o.status)},
                          {"exit_code", o.exit_code}};
    if (!o.error.empty()) run["error"] = o.error;
    runs_json.push_back(std::move(run));
  }
  report.sweep_json = {
      {"kind", "fleetsim-sweep"},
      {"version", FLEETSIM_VERSION},
      {"scenario", spec.scenario_path},
      {"repeat", plan.repeat},
      {"seed", plan.base_seed},
      {"params", std::move(params)},
      {"runs", std::move(runs_json)},
      {"cells", std::move(cells_json)},
      {"runs_ok", report.ok},
      {"runs_failed", report.failed},
      {"runs_not_run", report.not_run},
      {"complete", report.failed == 0 && report.not_run == 0},
  };
  return report;
}

void write_report(const SweepSpec& spec, const SweepReport& report) {
  write_file_atomically(spec.directory / "runs.csv", report.runs_csv);
  write_file_atomically(spec.directory / "cells.csv", report.cells_csv);
  write_file_atomically(spec.directory / "sweep.json", report.sweep_json.dump(2) + "\n");
}

}  // namespace fleetsim::sweep
