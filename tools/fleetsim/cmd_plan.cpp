// SPDX-License-Identifier: Apache-2.0
// `fleetsim plan SCENARIO [PLAN.json]`: search for the best plan (tools/planner, docs/planning.md).
// Everything the plan names is checked before anything runs; candidates.csv grows run by run, so an
// interrupted search leaves valid files and --resume continues it without repeating a run.
#include "models/scenario/diagnostics.hpp"
#include "models/scenario/reader.hpp"
#include "tools/run/simulation.hpp"
#include "sim/atomic_file.hpp"
#include "tools/fleetsim/commands.hpp"
#include "tools/fleetsim/csv_read.hpp"
#include "tools/fleetsim/exit_codes.hpp"
#include "tools/fleetsim/options.hpp"
#include "tools/fleetsim/output_dir.hpp"
#include "tools/fleetsim/sweep_ranks.hpp"
#include "tools/planner/evaluator.hpp"
#include "tools/planner/plan_output.hpp"
#include "tools/planner/plan_spec.hpp"
#include "tools/planner/search.hpp"

#include <fmt/format.h>

#include <atomic>
#include <csignal>
#include <filesystem>
#include <optional>

namespace fleetsim::cli {

namespace {

namespace fs = std::filesystem;
using namespace fleetsim::planner;

std::atomic<bool> g_plan_interrupt{false};
extern "C" void on_plan_signal(int) { g_plan_interrupt.store(true); }

bool is_plan_output(const fs::directory_entry& e) {
  const std::string name = e.path().filename().string();
  return name == "candidates.csv" || name == "plan.json" || name == "plan.html" || name == "best-scenario.json";
}

// The earlier runs of candidates.csv, for --resume. Throws ScenarioError when the file was written for
// another plan (its header differs) or a row cannot be read back.
std::vector<RunRecord> read_candidates(const fs::path& path, const PlanSpec& spec) {
  Diagnostics diags(path.string());
  std::vector<RunRecord> out;
  CsvReader csv(path);
  if (!csv.ok()) {
    diags.error("", "cannot read it (--resume continues a search from its candidates.csv)");
    diags.throw_if_any();
  }
  const auto header = candidates_header(spec);
  if (csv.header() != header) {
    diags.error("", "its columns are not this plan's (variables, variants or metrics changed): start a new search "
                    "with --force, or use the plan that wrote it");
    diags.throw_if_any();
  }
  const size_t nv = spec.variables.size();
  const auto metrics = spec.metrics();
  size_t row = 0;
  while (csv.next()) {
    ++row;
    RunRecord r;
    bool ok = true;
    for (size_t i = 0; i < nv; ++i) {
      auto v = parse_display(spec.variables[i], std::string(csv.text(2 + i)));
      if (!v) ok = false;
      else r.values.push_back(*v);
    }
    const std::string variant(csv.text(2 + nv));
    r.variant = spec.variants.size();
    for (size_t i = 0; i < spec.variants.size(); ++i)
      if (spec.variants[i].name == variant) r.variant = i;
    const long long rep = csv.integer(3 + nv);
    if (!ok || r.variant == spec.variants.size() || rep < 0) {
      diags.error("", fmt::format("row {} does not match this plan's variables and variants", row));
      continue;
    }
    r.replication = static_cast<size_t>(rep);
    r.seed = static_cast<uint64_t>(csv.integer(4 + nv));
    r.ok = csv.text(5 + nv) == "ok";
    for (size_t m = 0; m < metrics.size(); ++m) r.metrics.push_back(csv.number(6 + nv + m));
    r.error = std::string(csv.text(6 + nv + metrics.size()));
    r.key = candidate_key(r.values);
    out.push_back(std::move(r));
  }
  diags.throw_if_any();
  return out;
}

}  // namespace

int cmd_plan(const Args& args) {
  po::options_description options("Options");
  std::string scenario_path, plan_path, out_dir, until;
  std::vector<std::string> sets;
  uint64_t seed = 0;
  size_t jobs = 1;
  options.add_options()
      ("scenario", po::value(&scenario_path)->required(), "scenario file (JSON)")
      ("plan", po::value(&plan_path), "plan file (JSON); without it, the scenario's \"plan\" block")
      ("jobs,j", po::value(&jobs), "simulation runs at a time (default 1)")
      ("output,o", po::value(&out_dir), "output directory (default: out/<scenario name>-plan)")
      ("resume", "continue the search whose candidates.csv is in the output directory: no run is repeated")
      ("force", "replace a previous search's outputs (candidates.csv, plan.json, plan.html, best-scenario.json)")
      ("seed", po::value(&seed), "scenario seed, from which every replication's seed derives")
      ("until", po::value(&until), "simulate every run up to this time: a span from the start (7d) or a date (2028-10-21); overrides \"horizon\"")
      ("set", po::value(&sets)->composing(), "override a scenario value in every run: --set /json/pointer=value")
      ("quiet,q", "print only errors");
  po::positional_options_description positional;
  positional.add("scenario", 1).add("plan", 1);
  po::variables_map vm;
  if (auto code = parse_command_line(
          args, "plan", "fleetsim plan scenarios/plans/chat-replicas.json -j 2 -o out/plan",
          "Searches for the plan that meets every constraint at the best objective: decision variables are JSON "
          "pointers into the scenario, constraints and objectives are summary.json figures over seeds and over "
          "named variants of the scenario. Writes candidates.csv, plan.json, plan.html and best-scenario.json. "
          "Exit 0: a plan meets every constraint; 1: none does; 130: interrupted (files valid, --resume goes "
          "on). See docs/planning.md.",
          options, positional, vm))
    return *code;
  // Under `mpirun -np K`, every rank runs the same search and a share of each batch of runs; rank 0
  // alone writes the outputs (docs/planning.md).
  Ranks ranks;
  const bool rank0 = ranks.rank() == 0;
  if (ranks.launched_without_support()) {
    fmt::print(stderr, "error: fleetsim plan: started by mpirun, but this fleetsim was built without MPI "
                       "(configure with -DFLEETSIM_MPI=ON)\n");
    return exit_code::usage;
  }
  const bool quiet = vm.count("quiet") > 0 || !rank0, resume = vm.count("resume") > 0;
  if (jobs == 0 || jobs > 4096) {
    fmt::print(stderr, "error: fleetsim plan: -j expects 1 to 4096\n");
    return exit_code::usage;
  }
  if (resume && vm.count("force")) {
    fmt::print(stderr, "error: fleetsim plan: --resume continues a search and --force replaces it; choose one\n");
    return exit_code::usage;
  }
  LoadOptions base;
  if (vm.count("seed")) base.seed = seed;
  if (vm.count("until")) base.until = until;
  try {
    for (const auto& s : sets) base.overrides.push_back(parse_override(s));
  } catch (const std::invalid_argument& e) {
    fmt::print(stderr, "error: fleetsim plan: {}\n", e.what());
    return exit_code::usage;
  }

  PlanSpec spec;
  Scenario scenario;
  nlohmann::json probe;
  PlanContext ctx{scenario_path, plan_path.empty() ? scenario_path + "#/plan" : plan_path, base.overrides};
  try {
    const std::string source = plan_path.empty() ? scenario_path : plan_path;
    Diagnostics diags(source);
    const nlohmann::json doc = parse_json_file(source, diags);
    if (plan_path.empty() && !(doc.is_object() && doc.contains("plan"))) {
      fmt::print(stderr, "error: fleetsim plan: {} has no \"plan\" block; give a plan file as the second argument "
                         "(docs/planning.md)\n", scenario_path);
      return exit_code::usage;
    }
    const Reader root = Reader::root(doc, diags);
    spec = read_plan(plan_path.empty() ? root.at("plan") : root);
    diags.throw_if_any();
    scenario = load_scenario(scenario_path, base);
    // A probe of one event gives the summary's shape, so a constraint on a figure the scenario does
    // not produce is an error before any search run.
    SimulationOptions probe_options;
    probe_options.max_events = 1;
    probe_options.summary_only = true;
    probe = simulate(scenario, probe_options).summary;
    Diagnostics checks(source);
    check_plan_against(spec, scenario_path, base, probe, checks);
    checks.throw_if_any();
  } catch (const std::exception& e) {
    const int code = exit_with(e);
    fmt::print(stderr, "fleetsim plan: nothing was run\n");
    return code;
  }

  const fs::path dir = out_dir.empty() ? fs::path("out") / (scenario.run.name + "-plan") : fs::path(out_dir);
  const fs::path csv_path = dir / "candidates.csv";
  Evaluator ev(spec, scenario_path, base, scenario.run.seed, jobs, &g_plan_interrupt);
  if (ranks.distributed())
    ev.distribute(ranks.rank(), ranks.size(), [&ranks](const std::string& text) { return ranks.allgather(text); });
  if (resume) {
    if (!fs::exists(csv_path)) {
      fmt::print(stderr, "error: fleetsim plan --resume: {} does not exist (start the search without --resume)\n",
                 csv_path.string());
      return exit_code::no_input;
    }
    try {
      for (auto& r : read_candidates(csv_path, spec)) ev.preload(std::move(r));
    } catch (const std::exception& e) {
      return exit_with(e);
    }
  } else {
    int prepared = exit_code::ok;
    if (rank0)
      if (auto code = prepare_output_directory(dir, vm.count("force") > 0, "plan", is_plan_output)) prepared = *code;
    prepared = ranks.broadcast(prepared);
    if (prepared != exit_code::ok) return prepared;
  }

  std::signal(SIGINT, on_plan_signal);
  std::signal(SIGTERM, on_plan_signal);
  SearchResult result;
  try {
    std::optional<CandidatesCsv> csv;
    if (rank0) csv.emplace(csv_path, spec, resume);
    size_t shown = 0;
    ev.on_run = [&](const RunRecord& r) {
      if (csv) csv->append(r);
      if (!quiet && ++shown % 10 == 0) fmt::print(stderr, "[plan] {} runs, {} candidates\n", ev.runs() + 1, ev.candidates());
    };
    result = search(spec, ev);
    if (ranks.distributed() && !vm.count("quiet"))
      fmt::print(stderr, "[plan rank {}] simulated {} of the search's {} runs\n", ranks.rank(), ev.runs_here(), ev.runs());
    if (!rank0) return result.stop_reason == "interrupted" ? exit_code::interrupted
                      : result.found                       ? exit_code::ok
                                                           : exit_code::plan_infeasible;
    write_file_atomically(dir / "plan.json", plan_json(spec, ev, result, ctx));
    write_file_atomically(dir / "plan.html", plan_html(spec, ev, result, ctx));
    if (result.found) {
      LoadOptions best = base;
      for (const auto& o : spec.variants[spec.objective.variant].overrides) best.overrides.push_back(o);
      for (auto& o : ev.overrides(result.best)) best.overrides.push_back(std::move(o));
      write_file_atomically(dir / "best-scenario.json", load_scenario(scenario_path, best).resolved.dump(2) + "\n");
    }
  } catch (const std::exception& e) {
    return exit_with(e);
  }
  std::signal(SIGINT, SIG_DFL);
  std::signal(SIGTERM, SIG_DFL);
  if (!quiet) fmt::print("{}outputs: {} (plan.json, plan.html, candidates.csv{})\n", plan_text(spec, ev, result), dir.string(),
                         result.found ? ", best-scenario.json" : "");
  if (result.stop_reason == "interrupted") return exit_code::interrupted;
  return result.found ? exit_code::ok : exit_code::plan_infeasible;
}

}  // namespace fleetsim::cli
