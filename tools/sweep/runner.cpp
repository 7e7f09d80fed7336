// SPDX-License-Identifier: Apache-2.0
#include "tools/sweep/runner.hpp"

#include "models/scenario/diagnostics.hpp"
#include "tools/run/simulation.hpp"
#include "sim/atomic_file.hpp"

#include <fmt/format.h>

#include <mutex>
#include <set>
#include <thread>

namespace fleetsim::sweep {

namespace fs = std::filesystem;

std::string_view to_string(RunStatus s) {
  switch (s) {
    case RunStatus::Ok: return "ok";
    case RunStatus::Failed: return "failed";
    case RunStatus::Interrupted: return "interrupted";
    case RunStatus::NotRun: return "not_run";
  }
  return "not_run";
}

namespace {

// Error messages of one load, one line each (a ScenarioError lists every problem).
void add_lines(std::vector<std::string>& out, std::set<std::string>& seen, const std::string& prefix,
               const std::string& text) {
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    std::string line = text.substr(start, end - start);
    // "error: FILE: /pointer: ..." becomes "error: --param /p=v: FILE: /pointer: ...".
    constexpr std::string_view kError = "error: ";
    line = line.starts_with(kError) ? std::string(kError) + prefix + line.substr(kError.size()) : prefix + line;
    if (end > start && seen.insert(line).second) out.push_back(std::move(line));
    start = end + 1;
  }
}

}  // namespace

std::vector<std::string> check_sweep(const std::string& scenario_path, const LoadOptions& base,
                                     const std::vector<Param>& params, uint64_t& base_seed,
                                     std::vector<uint64_t>* cell_seeds) {
  const Scenario scenario = load_scenario(scenario_path, base);  // throws for a broken base scenario
  base_seed = scenario.run.seed;
  std::vector<std::string> problems;
  std::set<std::string> seen;
  bool pointers_ok = true;
  for (const auto& p : params) {
    try {
      const nlohmann::json::json_pointer ptr(p.pointer);
      if (!scenario.resolved.contains(ptr)) {
        problems.push_back(fmt::format(
            "error: --param {}: the scenario has no value at this pointer (a sweep varies values the "
            "scenario has, defaults included; check the spelling, or set it in the scenario first)",
            p.pointer));
        pointers_ok = false;
      }
    } catch (const nlohmann::json::exception& e) {
      problems.push_back(fmt::format("error: --param {}: not a JSON pointer: {}", p.pointer, e.what()));
      pointers_ok = false;
    }
  }
  if (!pointers_ok) return problems;
  // --seed wins over the scenario's "seed" (load_scenario), so it would silently cancel a /seed sweep.
  for (const auto& p : params)
    if (p.pointer == "/seed" && base.seed)
      problems.push_back("error: --param /seed: has no effect together with --seed, which sets every run's seed; "
                         "leave out one of them");
  if (!problems.empty()) return problems;
  // Each value alone first: an error then names the one value that causes it.
  for (const auto& p : params) {
    for (const auto& v : p.values) {
      LoadOptions one = base;
      one.overrides.push_back(Override{p.pointer, v});
      try {
        (void)load_scenario(scenario_path, one);
      } catch (const std::exception& e) {
        add_lines(problems, seen, fmt::format("--param {}={}: ", p.pointer, v), e.what());
      }
    }
  }
  if (!problems.empty()) return problems;
  // Then every combination: values valid alone can clash (more GPUs asked than a smaller fleet has).
  Plan cells = make_plan(params, 1, base_seed);
  std::vector<uint64_t> seeds(cells.cells, base_seed);
  for (size_t c = 0; c < cells.cells; ++c) {
    LoadOptions cell = base;
    for (auto& o : cells.cell_overrides(c)) cell.overrides.push_back(std::move(o));
    try {
      seeds[c] = load_scenario(scenario_path, cell).run.seed;
    } catch (const std::exception& e) {
      add_lines(problems, seen, fmt::format("cell {} ({}): ", c, cells.cell_label(c)), e.what());
    }
  }
  if (cell_seeds && problems.empty()) *cell_seeds = std::move(seeds);
  return problems;
}

fs::path run_directory(const SweepSpec& spec, size_t index) {
  return spec.directory / "runs" / run_directory_name(index, spec.plan.runs.size());
}

namespace {

/// The run's exit code and message as `fleetsim run` would give them (sim/error.hpp), without the
/// leading "error: " of a one-line message.
void record_error(const std::exception& e, RunOutcome& out) {
  const ErrorExit x = error_exit(e);
  out.exit_code = x.code;
  constexpr std::string_view heading = "error: ";
  out.error = x.message.starts_with(heading) && x.message.find('\n') == std::string::npos ? x.message.substr(heading.size())
                                                                                          : x.message;
}

}  // namespace

RunOutcome run_one(const SweepSpec& spec, const PlannedRun& run, const std::atomic<bool>* interrupt) {
  RunOutcome out;
  out.index = run.index;
  out.status = RunStatus::Failed;
  LoadOptions load = spec.base;
  for (auto& o : spec.plan.cell_overrides(run.cell)) load.overrides.push_back(std::move(o));
  load.seed = run.seed;
  Scenario scenario;
  try {
    scenario = load_scenario(spec.scenario_path, load);
  } catch (const std::exception& e) {
    record_error(e, out);
    return out;
  }
  const fs::path dir = run_directory(spec, run.index);
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) {
    out.exit_code = 73;
    out.error = fmt::format("cannot create run directory {}: {}", dir.string(), ec.message());
    return out;
  }
  SimulationOptions sim;
  sim.directory = dir;
  sim.interrupt = interrupt;
  sim.command_line = fmt::format("{} (run {})", spec.command_line, run.index);
  if (!spec.keep_outputs) {
    sim.event_level = EventLevel::None;
    sim.tables.emplace();  // none
  }
  try {
    const SimulationResult result = simulate(scenario, sim);
    out.summary_text = result.summary_text;
    out.status = result.complete ? RunStatus::Ok : RunStatus::Interrupted;
    out.exit_code = result.complete ? 0 : 130;
  } catch (const std::exception& e) {
    record_error(e, out);
  }
  return out;
}

std::vector<size_t> all_runs(const Plan& plan) { return runs_of_rank(plan, 0, 1); }

std::vector<size_t> runs_of_rank(const Plan& plan, int rank, int ranks) {
  std::vector<size_t> out;
  for (size_t i = static_cast<size_t>(rank); i < plan.runs.size(); i += static_cast<size_t>(ranks)) out.push_back(i);
  return out;
}

std::vector<RunOutcome> run_parallel(const std::vector<size_t>& indices, size_t jobs,
                                     const std::function<RunOutcome(size_t)>& fn,
                                     const std::atomic<bool>* interrupt,
                                     const std::function<void(const RunOutcome&)>& on_done) {
  std::vector<RunOutcome> outcomes(indices.size());
  for (size_t k = 0; k < indices.size(); ++k) outcomes[k].index = indices[k];
  std::atomic<size_t> next{0};
  std::mutex done_mutex;
  // Each worker takes the next index (dynamic, so one long run does not hold back a thread's share)
  // and writes only its own outcome slot.
  auto worker = [&] {
    for (;;) {
      const size_t k = next.fetch_add(1);
      if (k >= indices.size()) return;
      if (interrupt && interrupt->load()) continue;  // leave NotRun
      RunOutcome o;
      try {
        o = fn(indices[k]);
      } catch (const std::exception& e) {
        o.status = RunStatus::Failed;
        o.exit_code = 70;
        o.error = fmt::format("internal error: {}", e.what());
      }
      o.index = indices[k];
      outcomes[k] = std::move(o);
      if (on_done) {
        std::lock_guard lock(done_mutex);
        on_done(outcomes[k]);
      }
    }
  };
  const size_t threads = std::max<size_t>(1, std::min(jobs, indices.size()));
  if (threads == 1) {
    worker();
  } else {
    std::vector<std::jthread> pool;
    for (size_t t = 0; t < threads; ++t) pool.emplace_back(worker);
  }
  return outcomes;
}

}  // namespace fleetsim::sweep
