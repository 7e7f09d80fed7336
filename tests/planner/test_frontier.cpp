// SPDX-License-Identifier: Apache-2.0
// The search over several monotone variables against brute force. The candidates' figures come from
// known functions instead of simulations (a Candidates of the test's own), so that every point of a
// grid can be checked and many boundaries tried: a feasible set closed upwards (a weighted sum of
// increasing steps above a threshold: replicas in two regions sharing one load) and a cost that
// grows with every variable, each drawn at random from a fixed seed.
#include "models/scenario/reader.hpp"
#include "sim/time.hpp"
#include "tools/planner/evaluator.hpp"
#include "tools/planner/plan_spec.hpp"
#include "tools/planner/search.hpp"

#include <catch2/catch.hpp>
#include <fmt/format.h>

#include <cmath>
#include <functional>
#include <limits>
#include <random>
#include <set>

using namespace fleetsim;
using namespace fleetsim::planner;
using nlohmann::json;

namespace {

using Point = std::vector<int64_t>;

// A variable's value as a number: integers as they are, dates as days since 1970.
int64_t number_of(const json& v) {
  if (v.is_number_integer()) return v.get<int64_t>();
  return parse_utc_ns(v.get<std::string>()) / (86'400 * int64_t{1'000'000'000});
}

class Oracle : public Candidates {
 public:
  std::function<bool(const Point&)> feasible;
  std::function<double(const Point&)> cost;
  std::function<std::vector<Figure>(const Point&)> figures;  // the constraints' figures; default: one, feasible()
  std::set<std::string> distinct;  // candidates evaluated
  size_t steps = 0;                // batches: one per prefetch, one per candidate evaluated alone

  Assessment evaluate(const Values& values, const std::string& phase, size_t) override {
    Point x;
    for (const auto& v : values) x.push_back(number_of(v));
    if (!prefetched_.contains(candidate_key(values)) && !distinct.contains(candidate_key(values))) ++steps;
    distinct.insert(candidate_key(values));
    Assessment a;
    a.ran = a.certain = true;
    a.seeds = 1;
    a.feasible = feasible(x);
    a.objective.value = cost(x);
    a.objective.half_width = std::numeric_limits<double>::quiet_NaN();
    a.constraints = {Figure{a.feasible ? 1.0 : 0.0, std::numeric_limits<double>::quiet_NaN(), 0, a.feasible, true}};
    if (figures) a.constraints = figures(x);
    path_.push_back(PathEntry{path_.size(), values, a, phase});
    return a;
  }
  const std::vector<PathEntry>& path() const override { return path_; }
  void prefetch(const std::vector<Values>& candidates) override {
    ++steps;
    for (const auto& c : candidates) prefetched_.insert(candidate_key(c));
  }

 private:
  std::vector<PathEntry> path_;
  std::set<std::string> prefetched_;
};

PlanSpec plan_of(const json& plan) {
  Diagnostics diags("plan");
  PlanSpec spec = read_plan(Reader::root(plan, diags));
  REQUIRE(diags.empty());
  return spec;
}

json integer_variable(const std::string& name, int64_t lo, int64_t hi) {
  return {{"name", name}, {"pointer", "/" + name}, {"integer", {lo, hi}}, {"monotone", "helps"}};
}

// Every point of the grid of integer variables 0..n_i-1 (step 1), in order.
std::vector<Point> grid(const std::vector<int64_t>& n) {
  std::vector<Point> out{{}};
  for (int64_t ni : n) {
    std::vector<Point> next;
    for (const auto& p : out)
      for (int64_t v = 0; v < ni; ++v) {
        Point q = p;
        q.push_back(v);
        next.push_back(q);
      }
    out = std::move(next);
  }
  return out;
}

struct Instance {
  std::vector<std::vector<double>> capacity;  // per variable, per level: increasing
  double need = 0;
  std::vector<double> price;                  // per unit of each variable
  bool feasible(const Point& x) const {
    double sum = 0;
    for (size_t i = 0; i < x.size(); ++i) sum += capacity[i][static_cast<size_t>(x[i])];
    return sum >= need;
  }
  double cost(const Point& x) const {
    double c = 0;
    for (size_t i = 0; i < x.size(); ++i) c += price[i] * static_cast<double>(x[i]);
    return c;
  }
};

// Random increasing capacities (one region's replicas serve less than another's: different GPUs),
// a need between a third and two thirds of the most capacity, and prices per replica that make the
// cheapest point differ from the coordinate search's corner in many instances.
Instance random_instance(std::mt19937_64& rng, const std::vector<int64_t>& n) {
  std::uniform_real_distribution<double> step(0.2, 3.0), price(1.0, 10.0), frac(0.35, 0.65);
  Instance in;
  double most = 0;
  for (int64_t ni : n) {
    std::vector<double> c{0.0};
    for (int64_t v = 1; v < ni; ++v) c.push_back(c.back() + step(rng));
    most += c.back();
    in.capacity.push_back(c);
    in.price.push_back(price(rng));
  }
  in.need = frac(rng) * most;
  return in;
}

struct Outcome {
  bool found = false;
  double cost = 0;
  Point best;
  size_t evaluations = 0;
  size_t steps = 0;
};

Outcome run(const PlanSpec& spec, const Instance& in) {
  Oracle oracle;
  oracle.feasible = [&](const Point& x) { return in.feasible(x); };
  oracle.cost = [&](const Point& x) { return in.cost(x); };
  const SearchResult r = search(spec, oracle);
  Outcome o;
  o.found = r.found;
  o.evaluations = oracle.distinct.size();
  o.steps = oracle.steps;
  if (r.found) {
    for (const auto& v : r.best) o.best.push_back(number_of(v));
    o.cost = in.cost(o.best);
  }
  return o;
}

Outcome brute_force(const Instance& in, const std::vector<int64_t>& n) {
  Outcome o;
  for (const auto& x : grid(n)) {
    ++o.evaluations;
    if (in.feasible(x) && (!o.found || in.cost(x) < o.cost)) {
      o.found = true;
      o.cost = in.cost(x);
      o.best = x;
    }
  }
  return o;
}

bool minimal(const Instance& in, const Point& x) {
  for (size_t i = 0; i < x.size(); ++i) {
    if (x[i] == 0) continue;
    Point below = x;
    --below[i];
    if (in.feasible(below)) return false;
  }
  return true;
}

json plan_for(const std::vector<int64_t>& n, const char* method, int probes = 1) {
  json vars = json::array();
  for (size_t i = 0; i < n.size(); ++i) vars.push_back(integer_variable(fmt::format("r{}", i), 0, n[i] - 1));
  return {{"variables", vars},
          {"constraints", {{{"metric", "/ok"}, {"at_least", 1}}}},
          {"objective", {{"minimize", "/cost"}}},
          {"monotone_search", method},
          {"probes", probes},
          {"max_evaluations", 100000}};
}

}  // namespace

TEST_CASE("the frontier walk over two monotone variables finds brute force's cheapest point in fewer evaluations",
          "[planner]") {
  const std::vector<int64_t> n{9, 17};  // 153 points
  const PlanSpec frontier = plan_of(plan_for(n, "frontier"));
  const PlanSpec coordinate = plan_of(plan_for(n, "coordinate"));
  std::mt19937_64 rng(20261205);
  size_t most_evaluations = 0, coordinate_misses = 0;
  for (int trial = 0; trial < 200; ++trial) {
    const Instance in = random_instance(rng, n);
    const Outcome want = brute_force(in, n);
    REQUIRE(want.found);  // the need is below the most capacity
    const Outcome got = run(frontier, in);
    INFO("trial " << trial << ": brute force " << want.cost << " at (" << want.best[0] << ", " << want.best[1]
                  << "), frontier " << got.cost << " after " << got.evaluations << " evaluations");
    REQUIRE(got.found);
    CHECK(got.cost == want.cost);
    CHECK(got.evaluations < want.evaluations);
    most_evaluations = std::max(most_evaluations, got.evaluations);
    // The coordinate search's answer is a minimal feasible point (no variable can go one lower), and
    // not always the cheapest: the reason the frontier walk exists.
    const Outcome corner = run(coordinate, in);
    REQUIRE(corner.found);
    CHECK(minimal(in, corner.best));
    CHECK(corner.cost >= want.cost);
    if (corner.cost > want.cost) ++coordinate_misses;
  }
  // The bound of search.cpp: the upper corner, the first row's bisection, then at most
  // 1 + 2 log2(17) per further row.
  CHECK(most_evaluations <= 1 + 4 + 5 + 8 * (1 + 2 * 5));
  CHECK(most_evaluations < 60);  // against 153 for brute force
  CHECK(coordinate_misses > 20);
}

TEST_CASE("the frontier walk over three monotone variables matches brute force", "[planner]") {
  const std::vector<int64_t> n{4, 5, 8};  // 160 points
  const PlanSpec frontier = plan_of(plan_for(n, "frontier"));
  std::mt19937_64 rng(7);
  for (int trial = 0; trial < 100; ++trial) {
    const Instance in = random_instance(rng, n);
    const Outcome want = brute_force(in, n);
    REQUIRE(want.found);
    const Outcome got = run(frontier, in);
    INFO("trial " << trial << ": frontier " << got.cost << " after " << got.evaluations << " evaluations");
    REQUIRE(got.found);
    CHECK(got.cost == want.cost);
    CHECK(got.evaluations < want.evaluations);
  }
}

TEST_CASE("a later arrival declared \"hurts\" is searched for its latest feasible date", "[planner]") {
  // A ramp's size (more helps) and its arrival date (later hurts: a run finishes later, and the GPUs
  // are paid for from a later day on): the run finishes by its deadline when the ramp is big enough
  // for how late it comes; the cost is the GPU-days paid up to a fixed end.
  const PlanSpec spec = plan_of(json::parse(R"({
    "variables": [
      {"name": "size", "pointer": "/fleet/ramps/0/add_gpus", "integer": [1000, 8000], "step": 1000, "monotone": "helps"},
      {"name": "arrival", "pointer": "/fleet/ramps/0/at", "date": ["2026-01-01", "2026-12-01"], "step": "30d",
       "monotone": "hurts"}],
    "constraints": [{"metric": "/ok", "at_least": 1}],
    "objective": {"minimize": "/cost"}})"));
  CHECK(spec.monotone_search == MonotoneSearch::Frontier);  // the default with two monotone variables
  REQUIRE(spec.variables[1].points() == 12);
  const int64_t first_day = number_of(spec.variables[1].point(0));
  const int64_t end_day = first_day + 730;
  std::mt19937_64 rng(11);
  std::uniform_real_distribution<double> work(2e6, 6e6);
  for (int trial = 0; trial < 50; ++trial) {
    // GPU-days of work to be done between the arrival and the deadline, a year after the first date.
    const double gpu_days = work(rng);
    auto feasible = [&](const Point& x) { return static_cast<double>(x[0]) * static_cast<double>(first_day + 365 - x[1]) >= gpu_days; };
    auto cost = [&](const Point& x) { return static_cast<double>(x[0]) * static_cast<double>(end_day - x[1]); };
    double want = std::numeric_limits<double>::infinity();
    size_t grid_points = 0;
    for (int64_t size = 1000; size <= 8000; size += 1000)
      for (size_t d = 0; d < 12; ++d, ++grid_points) {
        const Point x{size, number_of(spec.variables[1].point(d))};
        if (feasible(x)) want = std::min(want, cost(x));
      }
    Oracle oracle;
    oracle.feasible = feasible;
    oracle.cost = cost;
    const SearchResult r = search(spec, oracle);
    if (!std::isfinite(want)) {
      CHECK(!r.found);
      continue;
    }
    REQUIRE(r.found);
    const Point best{number_of(r.best[0]), number_of(r.best[1])};
    INFO("trial " << trial << ": " << gpu_days << " GPU-days, best " << best[0] << " GPUs from day " << best[1]);
    CHECK(cost(best) == want);
    CHECK(oracle.distinct.size() < grid_points);
  }
}

TEST_CASE("probes tried at once find the same level in fewer steps", "[planner]") {
  // A (P + 1)-section finds the lowest feasible level exactly as bisection does (the feasible levels
  // of one variable are an upper interval), so every search answers the same; with two probes a
  // step decides among three parts instead of two.
  const std::vector<int64_t> n{9, 17};
  for (const char* method : {"coordinate", "frontier"}) {
    const PlanSpec one = plan_of(plan_for(n, method, 1));
    const PlanSpec two = plan_of(plan_for(n, method, 2));
    std::mt19937_64 rng(99);
    size_t steps_one = 0, steps_two = 0;
    for (int trial = 0; trial < 100; ++trial) {
      const Instance in = random_instance(rng, n);
      const Outcome a = run(one, in), b = run(two, in);
      INFO(method << " trial " << trial);
      REQUIRE(a.found);
      REQUIRE(b.found);
      CHECK(b.best == a.best);
      steps_one += a.steps;
      steps_two += b.steps;
    }
    INFO(method << ": " << steps_one << " steps with one probe, " << steps_two << " with two");
    CHECK(steps_two < steps_one);
  }
}


TEST_CASE("in a discrete plan a constraint binds when a step down breaks it, not for being within 1% of its bound",
          "[planner]") {
  // Attainment far above its bound of 0.999 in every candidate (0.99999: a hundredth of the misses it
  // allows, but within 1% of the bound), and a deadline that the replicas decide. It was reported
  // binding for sitting within 1% of 0.999.
  const PlanSpec spec = plan_of(json::parse(R"({
    "variables": [{"name": "r", "pointer": "/r", "integer": [0, 15], "monotone": "helps"}],
    "constraints": [{"metric": "/slo_attainment", "at_least": 0.999}, {"metric": "/finished_s", "at_most": 100}],
    "objective": {"minimize": "/cost"}})"));
  const double nan = std::numeric_limits<double>::quiet_NaN();
  Oracle oracle;
  oracle.feasible = [](const Point& x) { return x[0] >= 6; };
  oracle.cost = [](const Point& x) { return static_cast<double>(x[0]); };
  oracle.figures = [&](const Point& x) {
    const double finished = 160 - 10.0 * static_cast<double>(x[0]);
    return std::vector<Figure>{Figure{0.99999, nan, 0, true, true}, Figure{finished, nan, 0, finished <= 100, true}};
  };
  const SearchResult r = search(spec, oracle);
  REQUIRE(r.found);
  CHECK(r.best[0] == json(6));
  CHECK(!r.binding.at(0));
  CHECK(r.binding.at(1));
}
