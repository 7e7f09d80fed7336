// SPDX-License-Identifier: Apache-2.0
// `fleetsim sweep`: check every cell, then run the Cartesian product of --param values times --repeat
// replications on -j threads (and over MPI ranks), and write runs.csv, cells.csv and sweep.json.
#include "models/scenario/diagnostics.hpp"
#include "sim/atomic_file.hpp"
#include "tools/fleetsim/commands.hpp"
#include "tools/fleetsim/exit_codes.hpp"
#include "tools/fleetsim/options.hpp"
#include "tools/fleetsim/output_dir.hpp"
#include "tools/fleetsim/sweep_ranks.hpp"
#include "tools/sweep/plan.hpp"
#include "tools/sweep/report.hpp"
#include "tools/sweep/runner.hpp"

#include <fmt/format.h>

#include <atomic>
#include <csignal>
#include <filesystem>
#include <system_error>

namespace fleetsim::cli {

namespace {

namespace fs = std::filesystem;

std::atomic<bool> g_sweep_interrupt{false};
extern "C" void on_sweep_sigint(int) { g_sweep_interrupt.store(true); }

// The outputs of a sweep: --force removes a previous sweep's, and nothing else.
bool is_sweep_output(const fs::path& p) {
  const std::string name = p.filename().string();
  return name == "runs.csv" || name == "cells.csv" || name == "sweep.json" || name == "runs";
}

}  // namespace

int cmd_sweep(const Args& args) {
  Ranks ranks;
  const bool root = ranks.rank() == 0;
  po::options_description options("Options");
  std::string scenario_path, out_dir, until;
  std::vector<std::string> param_texts, sets, metrics;
  std::string seed;  // text: parse_seed_option applies the scenario's rule
  size_t repeat = 1, jobs = 1;
  options.add_options()
      ("scenario", po::value(&scenario_path)->required(), "scenario file (JSON)")
      ("param", po::value(&param_texts)->composing(),
       "a parameter and its values: --param /json/pointer=v1,v2,... (repeatable; the runs are the Cartesian "
       "product)")
      ("repeat", po::value(&repeat), "replications per cell, each with its own seed (default 1)")
      ("jobs,j", po::value(&jobs), "runs at a time on this machine (default 1)")
      ("output,o", po::value(&out_dir), "sweep directory (default: out/<scenario name>-sweep)")
      ("list", "print the numbered runs and their seeds, and run nothing")
      ("metric", po::value(&metrics)->composing(),
       "keep only these summary.json metrics in runs.csv and cells.csv: a JSON pointer selects that value "
       "and every one under it (repeatable; default: every numeric value)")
      ("seed", po::value(&seed), "scenario seed, from which every replication's seed derives")
      ("until", po::value(&until), "simulate every run up to this time: a span from the start (7d) or a date (2028-10-21); overrides \"horizon\"")
      ("set", po::value(&sets)->composing(), "override a scenario value in every run: --set /json/pointer=value")
      ("keep-outputs", "let every run write its tables (<table>.csv) and events.jsonl (all events) too; by "
       "default a run keeps only summary.json, resolved.json and manifest.json, what the sweep aggregates")
      ("force", "replace a previous sweep's outputs (runs/, runs.csv, cells.csv, sweep.json) in the directory")
      ("quiet,q", "print only errors");
  po::positional_options_description positional;
  positional.add("scenario", 1);
  po::variables_map vm;
  const std::string summary = fmt::format(
      "Runs the Cartesian product of the --param values, each --repeat times with independent seeds, -j at a "
      "time{}, and writes runs.csv (one row per run: parameters and metrics), cells.csv (per cell and metric: "
      "mean and 95% confidence interval) and sweep.json. See docs/sweeps.md.",
      Ranks::built_with_mpi() ? " (and over the ranks of `mpirun -np K fleetsim sweep ...`)" : "");
  // Only rank 0 prints results; every rank parses the same arguments and would repeat --help.
  if (!root && !std::freopen("/dev/null", "w", stdout)) return exit_code::io_error;
  if (auto code = parse_command_line(args, "sweep",
                                     "fleetsim sweep scenarios/quickstart.json --param /seed=1,2 --param "
                                     "/training/jobs/0/recovery/hot_spares=0,16 --repeat 3 -j 2 -o out/sweep",
                                     summary, options, positional, vm))
    return *code;
  const bool quiet = vm.count("quiet") > 0;
  auto say = [&](const std::string& text) {
    if (root) fmt::print(stderr, "{}", text);
  };
  if (ranks.launched_without_support()) {
    say("error: fleetsim sweep: started by mpirun with several processes, but this fleetsim was built without "
        "MPI (configure with -DFLEETSIM_MPI=ON)\n");
    return exit_code::usage;
  }
  if (jobs == 0 || jobs > 4096) {
    say("error: fleetsim sweep: -j expects 1 to 4096\n");
    return exit_code::usage;
  }

  sweep::SweepSpec spec;
  spec.scenario_path = scenario_path;
  if (vm.count("seed")) {
    spec.base.seed = parse_seed_option(seed, "sweep");
    if (!spec.base.seed) return exit_code::usage;
  }
  if (vm.count("until")) spec.base.until = until;
  std::vector<sweep::Param> params;
  try {
    for (const auto& s : sets) spec.base.overrides.push_back(parse_override(s));
    for (const auto& p : param_texts) params.push_back(sweep::parse_param(p));
    spec.plan = sweep::make_plan(params, repeat, 0);  // checks --repeat
  } catch (const std::invalid_argument& e) {
    say(fmt::format("error: fleetsim sweep: {}\n", e.what()));
    return exit_code::usage;
  }

  // Every cell must load before anything runs.
  uint64_t base_seed = 0;
  std::vector<uint64_t> cell_seeds;
  std::string scenario_name;
  try {
    const auto problems = sweep::check_sweep(scenario_path, spec.base, params, base_seed, &cell_seeds);
    if (!problems.empty()) {
      for (const auto& p : problems) say(fmt::format("{}\n", p));
      say("fleetsim sweep: nothing was run\n");
      return exit_code::data_error;
    }
    scenario_name = load_scenario(scenario_path, spec.base).run.name;
  } catch (const std::exception& e) {
    const ErrorExit x = error_exit(e);
    say(fmt::format("{}\n", x.message));
    return x.code;
  }
  spec.plan = sweep::make_plan(params, repeat, base_seed, cell_seeds);
  if (vm.count("list")) {
    if (root) fmt::print("{}", sweep::format_plan(spec.plan));
    return exit_code::ok;
  }

  spec.directory = out_dir.empty() ? fs::path("out") / (scenario_name + "-sweep") : fs::path(out_dir);
  spec.command_line = join_command_line("sweep", args);
  spec.keep_outputs = vm.count("keep-outputs") > 0;
  int prepared = exit_code::ok;
  if (root) {
    if (auto code = prepare_output_directory(spec.directory, vm.count("force") > 0, "sweep",
                                             [](const fs::directory_entry& e) { return is_sweep_output(e.path()); }))
      prepared = *code;
    else if (std::error_code ec; !fs::create_directories(spec.directory / "runs", ec) && ec) {
      fmt::print(stderr, "error: cannot create {}: {}\n", (spec.directory / "runs").string(), ec.message());
      prepared = exit_code::cant_create;
    }
  }
  prepared = ranks.broadcast(prepared);  // the others wait until the directory exists
  if (prepared != exit_code::ok) return prepared;

  std::signal(SIGINT, on_sweep_sigint);
  const auto mine = sweep::runs_of_rank(spec.plan, ranks.rank(), ranks.size());
  size_t done = 0;
  const std::string who = ranks.distributed() ? fmt::format("[sweep rank {}]", ranks.rank()) : "[sweep]";
  auto outcomes = sweep::run_parallel(
      mine, jobs, [&](size_t i) { return sweep::run_one(spec, spec.plan.runs[i], &g_sweep_interrupt); },
      &g_sweep_interrupt, [&](const sweep::RunOutcome& o) {
        ++done;
        const auto& r = spec.plan.runs[o.index];
        if (o.status == sweep::RunStatus::Failed)
          fmt::print(stderr, "{} run {} failed (exit {}): {}\n", who, o.index, o.exit_code, o.error);
        else if (!quiet)
          fmt::print(stderr, "{} {}/{}: run {} {} (cell {}, replication {})\n", who, done, mine.size(), o.index,
                     sweep::to_string(o.status), r.cell, r.replication);
      });
  std::signal(SIGINT, SIG_DFL);
  outcomes = ranks.gather(std::move(outcomes));

  int code = exit_code::ok;
  if (root) {
    const sweep::SweepReport report = sweep::make_report(spec, std::move(outcomes), metrics);
    for (const auto& w : report.warnings) fmt::print(stderr, "warning: fleetsim sweep: {}\n", w);
    try {
      sweep::write_report(spec, report);
    } catch (const std::exception& e) {
      code = exit_with(e);
    }
    if (code == exit_code::ok) {
      if (!quiet)
        fmt::print("sweep {}: {} run{} ({} cell{} x {} replication{}): {} ok, {} failed, {} not run\noutputs: {} "
                   "(runs.csv, cells.csv, sweep.json, runs/)\n",
                   scenario_name, spec.plan.runs.size(), spec.plan.runs.size() == 1 ? "" : "s", spec.plan.cells,
                   spec.plan.cells == 1 ? "" : "s", spec.plan.repeat, spec.plan.repeat == 1 ? "" : "s", report.ok,
                   report.failed, report.not_run, spec.directory.string());
      code = report.not_run > 0 ? exit_code::interrupted : report.failed > 0 ? exit_code::runs_failed : exit_code::ok;
    }
  }
  return ranks.broadcast(code);
}

}  // namespace fleetsim::cli
