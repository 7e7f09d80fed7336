// SPDX-License-Identifier: Apache-2.0
// The search for the best plan (docs/planning.md has the method with its assumptions):
//
// 1. The grid: every combination of "set" variables and of integer and date variables not declared
//    monotone. Each grid point is a sub-problem.
// 2. Monotone variables ("monotone": "helps"): a larger value never breaks a constraint and never
//    improves the objective, so the best value is the smallest feasible one. Bisection finds it in
//    log2(points) evaluations, one variable after the other (coordinate bisection: with several
//    monotone variables it stops at a minimal feasible point, which is the optimum when one
//    variable dominates the cost).
// 3. Continuous variables: NLopt's COBYLA (Powell's derivative-free method with inequality
//    constraints) over the box, the constraints as g(x) <= 0, from the middle of the box.
// 4. Seeds: each candidate adds replications while a constraint is undecided (evaluator.hpp); across
//    grid points, successive halving re-runs the better half with twice the seeds until one is left,
//    and the winner is confirmed with the most seeds the plan allows.
// 5. With a second objective, every point of the (discrete) grid is evaluated and the Pareto front
//    of the feasible ones is kept.
#pragma once

#include "tools/planner/evaluator.hpp"
#include "tools/planner/plan_spec.hpp"

#include <string>
#include <vector>

namespace fleetsim::planner {

struct SearchResult {
  bool complete = true;
  std::string stop_reason = "done";   ///< "done", "interrupted", "max_evaluations"
  bool found = false;                 ///< some candidate met every constraint
  Values best;
  Assessment best_assessment;         ///< at the seeds of the final confirmation
  std::vector<bool> binding;          ///< per constraint: the best plan is held back by it
  std::vector<size_t> pareto;         ///< indices into Evaluator::path(), sorted by the first objective
};

SearchResult search(const PlanSpec& spec, Candidates& evaluator);

/// The minimization score of an objective figure (maximizing negates); NaN and failures score +inf.
double score(const Figure& f, const Objective& o);

}  // namespace fleetsim::planner
