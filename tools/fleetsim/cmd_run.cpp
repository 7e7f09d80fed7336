// SPDX-License-Identifier: Apache-2.0
// `fleetsim run`: load, check the output directory, simulate, write, summarise.
#include "models/scenario/diagnostics.hpp"
#include "models/scenario/load_scenario.hpp"
#include "tools/run/simulation.hpp"
#include "sim/atomic_file.hpp"
#include "sim/time.hpp"
#include "tools/fleetsim/commands.hpp"
#include "tools/fleetsim/exit_codes.hpp"
#include "tools/fleetsim/options.hpp"
#include "tools/fleetsim/output_dir.hpp"
#include "tools/fleetsim/report.hpp"
#include "tools/fleetsim/summary_text.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <csignal>
#include <filesystem>
#include <system_error>

namespace fleetsim::cli {

namespace {

namespace fs = std::filesystem;

std::atomic<bool> g_interrupt{false};
std::atomic<int> g_signal{0};  // which signal stopped the run: SIGINT exits 130, SIGTERM 143
extern "C" void on_sigint(int sig) {
  g_signal.store(sig);
  g_interrupt.store(true);
}

// --trace-level, --trace-from, --trace-to into the simulation options; an exit code on bad values.
std::optional<int> parse_trace_options(const std::string& level, const std::string& from, const std::string& to,
                                       SimulationOptions& sim) {
  const auto parsed = parse_trace_level(level);
  if (!parsed) {
    fmt::print(stderr, "error: fleetsim run: --trace-level expects none, summary, jobs or all, got \"{}\"\n", level);
    return exit_code::usage;
  }
  sim.trace_level = *parsed;
  try {
    if (!from.empty()) sim.trace_from = SimTime::zero() + parse_duration(from);
    if (!to.empty()) sim.trace_to = SimTime::zero() + parse_duration(to);
  } catch (const std::exception& e) {
    fmt::print(stderr, "error: fleetsim run: --trace-from/--trace-to expect a time such as 19d or 36h: {}\n",
               e.what());
    return exit_code::usage;
  }
  if (sim.trace_to < sim.trace_from) {
    fmt::print(stderr, "error: fleetsim run: --trace-to ({}) is before --trace-from ({})\n", to, from);
    return exit_code::usage;
  }
  return std::nullopt;
}

// --events and --tables into the simulation options; an exit code on bad values.
std::optional<int> parse_output_options(const std::string& events, const std::string& tables, SimulationOptions& sim) {
  const auto level = parse_event_level(events);
  if (!level) {
    fmt::print(stderr, "error: fleetsim run: --events expects none, summary, jobs or all, got \"{}\"\n", events);
    return exit_code::usage;
  }
  sim.event_level = *level;
  if (tables == "all") return std::nullopt;
  sim.tables.emplace();
  if (tables == "none") return std::nullopt;
  size_t start = 0;
  while (start <= tables.size()) {
    const size_t comma = std::min(tables.find(',', start), tables.size());
    const std::string name = tables.substr(start, comma - start);
    if (name.empty()) {
      fmt::print(stderr, "error: fleetsim run: --tables expects all, none or table names separated by commas "
                         "(e.g. training,cost), got \"{}\"\n", tables);
      return exit_code::usage;
    }
    sim.tables->push_back(name);
    start = comma + 1;
  }
  return std::nullopt;
}

}  // namespace

int cmd_run(const Args& args) {
  po::options_description options("Options");
  std::string scenario_path, out_dir, until, progress = "auto";
  std::vector<std::string> sets;
  std::string trace_level = "jobs", trace_from, trace_to, events_level = "jobs", tables = "all";
  std::string seed;  // text: parse_seed_option applies the scenario's rule
  int64_t max_events = 0;  // signed: Program_options reads "-5" into an unsigned as 2^64 - 5
  std::string max_wall;
  int64_t max_event_rate = static_cast<int64_t>(kDefaultMaxEventRate);
  options.add_options()
      ("scenario", po::value(&scenario_path)->required(), "scenario file (JSON)")
      ("output,o", po::value(&out_dir), "output directory (default: out/<scenario name>)")
      ("seed", po::value(&seed), "seed for every random stream (overrides the scenario's \"seed\")")
      ("until", po::value(&until), "simulate up to this time: a span from the start (7d) or a date (2028-10-21); overrides \"horizon\"")
      ("set", po::value(&sets)->composing(), "override a scenario value: --set /json/pointer=value (repeatable)")
      ("force", "overwrite the outputs of a previous run in a non-empty output directory")
      ("quiet,q", "print only errors")
      ("progress", po::value(&progress), "progress line on stderr: auto (when a terminal), always, never")
      ("trace-level", po::value(&trace_level), "trace.json: none, summary (outages, counters), jobs (+ job and "
       "service states; default), all (+ failures, repairs, stragglers, checkpoints, latency counters)")
      ("trace-from", po::value(&trace_from), "trace only from this simulated time on, e.g. 19d")
      ("trace-to", po::value(&trace_to), "trace only up to this simulated time, e.g. 21d")
      ("events", po::value(&events_level), "events.jsonl: none, summary (outages, job start and end), jobs (+ every "
       "job state change, scaling, stragglers; default), all (+ every failure, repair and checkpoint)")
      ("tables", po::value(&tables), "which <table>.csv to write: all (default), none, or names separated by "
       "commas, e.g. training,cost")
      ("no-report", "do not write report.html (`fleetsim report DIR` writes it later)")
      ("max-events", po::value(&max_events), "stop after this many events; outputs say \"complete\": false (exit 75)")
      ("max-wall", po::value(&max_wall), "stop after this much wall-clock time, e.g. 10min; \"complete\": false (exit 75)")
      ("max-event-rate", po::value(&max_event_rate), "runaway guard: stop when more than this many events fall "
       "within one simulated second (default 100000000); \"complete\": false (exit 75)");
  po::positional_options_description positional;
  positional.add("scenario", 1);
  po::variables_map vm;
  if (auto code = parse_command_line(args, "run", "fleetsim run scenarios/quickstart.json -o out/q --until 7d",
                                     "Simulates a scenario and writes its outputs (summary.json, utilization.csv, "
                                     "events.jsonl, resolved.json, manifest.json, trace.json, report.html) to a directory.",
                                     options, positional, vm))
    return *code;
  const bool quiet = vm.count("quiet") > 0;

  LoadOptions load;
  if (vm.count("seed")) {
    load.seed = parse_seed_option(seed, "run");
    if (!load.seed) return exit_code::usage;
  }
  if (vm.count("until")) load.until = until;
  SimulationOptions sim;
  if (progress == "auto") sim.progress = ProgressMode::Auto;
  else if (progress == "always") sim.progress = ProgressMode::Always;
  else if (progress == "never") sim.progress = ProgressMode::Never;
  else {
    fmt::print(stderr, "error: fleetsim run: --progress expects auto, always or never, got \"{}\"\n", progress);
    return exit_code::usage;
  }
  if (quiet) sim.progress = ProgressMode::Never;
  if (auto code = parse_trace_options(trace_level, trace_from, trace_to, sim)) return *code;
  if (auto code = parse_output_options(events_level, tables, sim)) return *code;
  sim.max_events = static_cast<uint64_t>(std::max<int64_t>(0, max_events));
  if (vm.count("max-events") && max_events <= 0) {
    fmt::print(stderr, "error: fleetsim run: --max-events expects a positive number of events\n");
    return exit_code::usage;
  }
  if (max_event_rate <= 0) {
    fmt::print(stderr, "error: fleetsim run: --max-event-rate expects a positive number of events per simulated second\n");
    return exit_code::usage;
  }
  sim.max_event_rate = static_cast<uint64_t>(max_event_rate);
  if (vm.count("max-wall")) {
    try {
      sim.max_wall_s = parse_duration(max_wall).seconds();
    } catch (const std::exception& e) {
      fmt::print(stderr, "error: fleetsim run: --max-wall: {}\n", e.what());
      return exit_code::usage;
    }
    if (sim.max_wall_s <= 0) {
      fmt::print(stderr, "error: fleetsim run: --max-wall expects a positive duration such as 10min, got \"{}\"\n",
                 max_wall);
      return exit_code::usage;
    }
  }
  try {
    for (const auto& s : sets) load.overrides.push_back(parse_override(s));
  } catch (const std::invalid_argument& e) {
    fmt::print(stderr, "error: fleetsim run: {}\n", e.what());
    return exit_code::usage;
  }

  Scenario scenario;
  try {
    scenario = load_scenario(scenario_path, load);
    if (!scenario.warnings.empty()) fmt::print(stderr, "{}\n", render_warnings(scenario_path, scenario.warnings));
  } catch (const std::exception& e) {
    return exit_with(e);
  }

  if (!quiet && scenario.run.instants_until > scenario.run.horizon)
    fmt::print(stderr, "note: --until {} cuts the run before the scenario's horizon of {}: dated events after {} "
               "(outages, ramps, submissions) are dropped\n", until, format_duration(scenario.run.instants_until),
               format_duration(scenario.run.horizon));
  const fs::path dir = out_dir.empty() ? fs::path("out") / scenario.run.name : fs::path(out_dir);
  DirectoryClaim claim;  // held until the run's files are all in place
  std::error_code dir_ec;
  const bool dir_existed = fs::exists(dir, dir_ec);
  if (auto code = claim_run_directory(dir, vm.count("force") > 0, claim)) return *code;
  sim.directory = dir;
  const bool report = !vm.count("no-report");
  if (report) sim.caller_files.push_back("report.html");
  // report.html is written before summary.json, which must be the last file to appear. An interrupted
  // run skips it, so a signal's outputs are finished in bounded time (the page can take seconds on a
  // large events.jsonl); `fleetsim report DIR` writes it later.
  bool report_skipped = false;
  if (report)
    sim.before_summary = [&dir, &report_skipped](const std::string& summary_text) {
      if (g_interrupt.load()) {
        report_skipped = true;
        return;
      }
      write_report(dir, {}, &summary_text);
    };
  sim.interrupt = &g_interrupt;
  sim.command_line = join_command_line("run", args);

  std::signal(SIGINT, on_sigint);
  std::signal(SIGTERM, on_sigint);
  SimulationResult result;
  try {
    result = simulate(scenario, sim);
  } catch (const ReportInputError& e) {
    // The page is made from the run's own summary: a missing one here is a bug, not a missing input.
    fmt::print(stderr, "error: report.html: {}\n", e.what());
    return exit_code::software;
  } catch (const std::exception& e) {
    const int code = exit_with(e);  // an event's failure names its time, event and entity
    // A run refused while the world is built (a service that does not fit its hosts) leaves no
    // directory it created itself: the refusal promise of docs/robustness.md (found by fuzz_cli).
    // Only a refusal of the input (exit 65, 66): a failed write (74) keeps what docs/robustness.md says.
    if (code == exit_code::data_error || code == exit_code::no_input) {
      claim.release();
      std::error_code ec;
      if (!dir_existed && fs::is_directory(dir, ec) && fs::is_empty(dir, ec)) fs::remove(dir, ec);
    }
    return code;
  }
  // The handlers stay installed until the process exits: a signal after the outputs are in place only
  // sets the flag (it used to restore the default here, so a second SIGTERM arriving while the run
  // summary was printed killed the process instead of letting it exit 143; issue 19 item 10).
  if (report_skipped && !quiet)
    fmt::print(stderr, "note: report.html not written for an interrupted run; `fleetsim report {}` writes it\n",
               dir.string());
  if (result.stop_reason == "event_rate")
    fmt::print(stderr, "error: runaway: more than {} events within one simulated second, at simulated time {} "
               "(limit --max-event-rate {}; docs/robustness.md): stopped, outputs cover the simulated time reached\n",
               sim.max_event_rate, format_duration(result.reached.since_epoch()), sim.max_event_rate);
  if (!quiet) fmt::print("{}", format_run_summary(scenario, result, dir.string()));
  if (result.complete) return exit_code::ok;
  if (result.stop_reason == "interrupted")
    return g_signal.load() == SIGTERM ? exit_code::terminated : exit_code::interrupted;
  return exit_code::limit_reached;
}

}  // namespace fleetsim::cli
