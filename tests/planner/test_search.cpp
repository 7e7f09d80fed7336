// SPDX-License-Identifier: Apache-2.0
// The search against optima known without fleetsim: Erlang C's fewest M/M/c servers, Daly's
// checkpoint interval, and a Pareto front computed by brute force.
#include "models/scenario/load_scenario.hpp"
#include "models/scenario/reader.hpp"
#include "tools/run/simulation.hpp"
#include "tools/planner/evaluator.hpp"
#include "tools/planner/plan_spec.hpp"
#include "tools/planner/search.hpp"

#include <catch2/catch.hpp>
#include <fmt/format.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <set>

#include <unistd.h>

using namespace fleetsim;
using namespace fleetsim::planner;
using nlohmann::json;

namespace {

// A scenario in a temporary file, removed at the end of the test.
struct TempScenario {
  std::filesystem::path path;
  explicit TempScenario(const json& doc, const std::string& name) {
    path = std::filesystem::temp_directory_path() / fmt::format("fleetsim-plan-{}-{}.json", name, ::getpid());
    std::ofstream(path) << doc.dump(2);
  }
  ~TempScenario() { std::filesystem::remove(path); }
};

PlanSpec plan_of(const json& plan) {
  Diagnostics diags("plan");
  PlanSpec spec = read_plan(Reader::root(plan, diags));
  REQUIRE(diags.empty());
  return spec;
}

// Erlang C: the probability that an arrival waits in M/M/c with offered load a = lambda/mu, from the
// Erlang B recursion B(k) = a B(k-1) / (k + a B(k-1)) (Kleinrock, Queueing Systems I, 3.4), and the
// mean wait C / (c mu - lambda).
double mmc_wait(int c, double lambda, double mu) {
  const double a = lambda / mu;
  if (a >= c) return INFINITY;
  double b = 1;
  for (int k = 1; k <= c; ++k) b = a * b / (k + a * b);
  const double pw = c * b / (c - a * (1 - b));
  return pw / (c * mu - lambda);
}

// A chat service whose replicas each serve one request at a time (max_seqs 1) with a one-token
// prompt and geometric output lengths (mean 20 iterations): an M/M/c queue, as in
// tests/models/inference's Erlang-C test.
json mmc_scenario(double rate_per_s) {
  json doc = json::parse(R"({
    "name": "mmc", "seed": 3, "horizon": "2h",
    "fleet": {"regions": [{"name": "r1", "zones": [{"name": "z1", "datacenters": [
      {"name": "dc1", "instance": "p5.48xlarge", "gpus": 128}]}]}]},
    "inference": {"services": [{
      "name": "chat", "mode": "request",
      "model": {"name": "m", "parameters": 8e9, "layers": 32, "hidden": 4096, "kv_heads": 8, "head_dim": 128,
                "kv_bytes_per_token": 1},
      "replica": {"accelerator": "H100", "tp": 1},
      "batching": {"max_seqs": 1},
      "prompt_tokens": {"distribution": "fixed", "value": 1},
      "routing": {"max_queue_time": "1h"},
      "regions": [{"region": "r1", "replicas": 32}]}]}})");
  json points = json::array();
  const double p = 1.0 / 20;
  for (int k = 1; k <= 400; ++k) points.push_back({k, std::pow(1 - p, k - 1) * p});
  auto& service = doc["inference"]["services"][0];
  service["output_tokens"] = {{"distribution", "empirical"}, {"points", points}};
  service["arrivals"] = {{"rate", rate_per_s}};
  return doc;
}

}  // namespace

TEST_CASE("the fewest M/M/c replicas for a mean wait bound is Erlang C's answer", "[planner]") {
  // The service rate of one replica, from a probe: one request's iterations at the batch-1 step.
  json doc = mmc_scenario(1.0);
  TempScenario probe_file(doc, "mmc-probe");
  const Scenario probe_scenario = load_scenario(probe_file.path.string());
  SimulationOptions probe_options;
  probe_options.max_events = 1;
  const json probe = simulate(probe_scenario, probe_options).summary;
  const double step = probe.at("inference").at("chat").at("replica").at("decode_step_s_batch1").get<double>();
  const double mu = 1.0 / (20 * step);
  // Eight replicas' worth of work at 80% (then the fewest replicas for an unbounded-queue-stable
  // system is 7): the bound is set midway (geometrically) between the waits of c* - 1 and c*
  // replicas, so the answer is decided by Erlang C and not by simulation noise.
  const double lambda = 6.4 * mu;
  const int expected = 8;
  const double bound = step + std::sqrt(mmc_wait(expected, lambda, mu) * mmc_wait(expected - 1, lambda, mu));
  INFO("step " << step << " s, mu " << mu << "/s, W(7) " << mmc_wait(7, lambda, mu) << " s, W(8) "
               << mmc_wait(8, lambda, mu) << " s, bound on mean TTFT " << bound << " s");
  doc = mmc_scenario(lambda);
  doc["horizon"] = fmt::format("{}s", std::llround(30000 / lambda));  // about 30,000 requests per run
  TempScenario file(doc, "mmc");
  const PlanSpec spec = plan_of({{"seeds", {{"min", 2}, {"max", 4}}},
                                 {"variables", {{{"name", "replicas"}, {"pointer", "/inference/services/0/regions/0/replicas"},
                                                 {"integer", {1, 32}}, {"monotone", "helps"}}}},
                                 {"constraints", {{{"metric", "/inference/chat/ttft_s/mean"}, {"at_most", bound}}}},
                                 {"objective", {{"minimize", "/inference/chat/regions/r1/replicas"}}}});
  Evaluator ev(spec, file.path.string(), {}, 3, 2, nullptr);
  const SearchResult r = search(spec, ev);
  REQUIRE(r.found);
  CHECK(r.best.at(0) == json(expected));
  CHECK(r.binding.at(0));
  // Bisection over 1..32: the upper bound, then at most log2(32) = 5 steps, then the final check and
  // the binding check (both cached candidates).
  CHECK(ev.candidates() <= 7);
}

TEST_CASE("the best checkpoint interval lands within 3% of Daly's", "[planner]") {
  // One 8-GPU host, failing as a whole every 6,000 s on average (exponential, repaired in 1 s), a
  // blocking checkpoint of 60 s (600 GB at 10 GB/s), detection and restart of 1 s each: Daly's
  // assumptions (exponential failures, a fixed checkpoint cost, restart cost that does not move
  // the optimum). Daly, "A higher order estimate of the optimum checkpoint interval for restart
  // dumps", FGCS 22(3), 2006, eq. 37: tau = sqrt(2CM) (1 + sqrt(C/2M)/3 + C/18M) - C.
  const double C = 60, M = 6000;
  const double daly = std::sqrt(2 * C * M) * (1 + std::sqrt(C / (2 * M)) / 3 + C / (18 * M)) - C;
  const json doc = json::parse(R"({
    "name": "daly", "seed": 5, "horizon": "120d",
    "fleet": {"regions": [{"name": "r1", "zones": [{"name": "z1", "datacenters": [
      {"name": "dc1", "instance": "p5.48xlarge", "gpus": 8}]}]}]},
    "failures": {"processes": [{"name": "host", "class": "node", "mtbf": "6000s", "repair": "1s"}]},
    "training": {"jobs": [{
      "name": "job", "accelerator": "H100", "gpus": 8,
      "model": {"parameters": 1e9, "layers": 16, "hidden": 2048, "heads": 16, "seq_len": 2048, "vocab": 32000},
      "global_batch_tokens": 262144, "total_tokens": 1e15,
      "parallelism": {"tp": 8, "pp": 1, "dp": 1},
      "kernel_efficiency": 0.5,
      "checkpoint": {"policy": "fixed", "interval": "1000s", "size": "600 GB", "storage_bandwidth": "10 GB/s"},
      "recovery": {"mode": "wait", "detection": "1s", "restart": "1s"}}]}})");
  TempScenario file(doc, "daly");
  const PlanSpec spec = plan_of({{"seeds", 4},
                                 {"variables", {{{"name", "interval"}, {"pointer", "/training/jobs/0/checkpoint/interval"},
                                                 {"continuous", {300, 2400}}, {"unit", "s"}}}},
                                 {"objective", {{"maximize", "/training/jobs/job/ettr"}}},
                                 {"continuous_budget", 30}});
  Evaluator ev(spec, file.path.string(), {}, 5, 2, nullptr);
  const SearchResult r = search(spec, ev);
  REQUIRE(r.found);
  const double found = std::stod(r.best.at(0).get<std::string>());
  INFO("Daly's optimum " << daly << " s, the search's " << found << " s after " << ev.candidates() << " candidates");
  CHECK(std::fabs(found - daly) / daly < 0.03);
}

TEST_CASE("a Pareto front over a small grid equals the brute-force front", "[planner]") {
  // Replicas against latency for the M/M/c service: every grid point is evaluated, and the front is
  // recomputed here from the evaluations by the definition of dominance.
  json doc = mmc_scenario(2.0);
  doc["horizon"] = "20min";
  TempScenario file(doc, "pareto");
  const PlanSpec spec = plan_of({{"variables", {{{"name", "replicas"}, {"pointer", "/inference/services/0/regions/0/replicas"},
                                                 {"integer", {1, 12}}, {"monotone", "helps"}}}},
                                 {"objective", {{"minimize", "/inference/chat/regions/r1/replicas"}}},
                                 {"second_objective", {{"minimize", "/inference/chat/ttft_s/mean"}}}});
  Evaluator ev(spec, file.path.string(), {}, 3, 2, nullptr);
  const SearchResult r = search(spec, ev);
  CHECK(ev.candidates() == 12);
  std::vector<size_t> brute;
  const auto& path = ev.path();
  for (size_t i = 0; i < path.size(); ++i) {
    if (path[i].phase != "grid" || !path[i].assessment.feasible) continue;
    bool dominated = false;
    for (size_t j = 0; j < path.size(); ++j) {
      if (path[j].phase != "grid" || !path[j].assessment.feasible) continue;
      const double a1 = path[i].assessment.objective.value, a2 = path[i].assessment.second.value;
      const double b1 = path[j].assessment.objective.value, b2 = path[j].assessment.second.value;
      if (b1 <= a1 && b2 <= a2 && (b1 < a1 || b2 < a2)) dominated = true;
    }
    if (!dominated) brute.push_back(i);
  }
  std::vector<json> want, got;
  for (size_t i : brute) want.push_back(path[i].values.at(0));
  for (size_t i : r.pareto) got.push_back(path[i].values.at(0));
  std::sort(want.begin(), want.end());
  std::sort(got.begin(), got.end());
  CHECK(got == want);
  CHECK(got.size() >= 3);  // more replicas keep lowering the wait for a while: a real trade-off
}

TEST_CASE("an interrupted search keeps what it ran and a resumed one repeats none of it", "[planner]") {
  json doc = mmc_scenario(2.0);
  doc["horizon"] = "10min";
  TempScenario file(doc, "resume");
  const PlanSpec spec = plan_of({{"variables", {{{"name", "replicas"}, {"pointer", "/inference/services/0/regions/0/replicas"},
                                                 {"integer", {1, 16}}, {"monotone", "helps"}}}},
                                 {"constraints", {{{"metric", "/inference/chat/ttft_s/mean"}, {"at_most", 5.0}}}},
                                 {"objective", {{"minimize", "/inference/chat/regions/r1/replicas"}}},
                                 {"max_evaluations", 3}});
  std::vector<RunRecord> first_runs;
  Evaluator first(spec, file.path.string(), {}, 3, 1, nullptr);
  first.on_run = [&](const RunRecord& r) { first_runs.push_back(r); };
  const SearchResult stopped = search(spec, first);
  CHECK(!stopped.complete);
  CHECK(stopped.stop_reason == "max_evaluations");
  REQUIRE(first_runs.size() == 3);

  PlanSpec more = spec;
  more.max_evaluations = 100;
  Evaluator second(more, file.path.string(), {}, 3, 1, nullptr);
  for (const auto& r : first_runs) second.preload(r);
  size_t new_runs = 0;
  second.on_run = [&](const RunRecord&) { ++new_runs; };
  const SearchResult done = search(more, second);
  CHECK(done.complete);
  Evaluator fresh(more, file.path.string(), {}, 3, 1, nullptr);
  const SearchResult again = search(more, fresh);
  CHECK(done.best == again.best);
  CHECK(new_runs + first_runs.size() == fresh.runs());  // nothing run twice
}

TEST_CASE("probes run in one batch and reach the plan that bisection reaches", "[planner]") {
  json doc = mmc_scenario(2.0);
  doc["horizon"] = "10min";
  TempScenario file(doc, "probes");
  json plan = {{"variables", {{{"name", "replicas"}, {"pointer", "/inference/services/0/regions/0/replicas"},
                               {"integer", {1, 16}}, {"monotone", "helps"}}}},
               {"constraints", {{{"metric", "/inference/chat/ttft_s/mean"}, {"at_most", 5.0}}}},
               {"objective", {{"minimize", "/inference/chat/regions/r1/replicas"}}}};
  const PlanSpec one = plan_of(plan);
  plan["probes"] = 3;
  const PlanSpec three = plan_of(plan);
  Evaluator a(one, file.path.string(), {}, 3, 2, nullptr);
  const SearchResult ra = search(one, a);
  std::vector<std::string> batch_runs;
  Evaluator b(three, file.path.string(), {}, 3, 2, nullptr);
  b.on_run = [&](const RunRecord& r) { batch_runs.push_back(r.key); };
  const SearchResult rb = search(three, b);
  REQUIRE(ra.found);
  REQUIRE(rb.found);
  CHECK(rb.best == ra.best);
  CHECK(rb.best_assessment.objective.value == ra.best_assessment.objective.value);
  // Each run once (a probe's run is not repeated when it is evaluated), and a quadrisection over 16
  // levels takes two steps of three probes after the upper bound.
  CHECK(std::set<std::string>(batch_runs.begin(), batch_runs.end()).size() == batch_runs.size());
  CHECK(b.runs() == batch_runs.size());
  CHECK(b.runs() <= 1 + 3 + 3);
}
