// SPDX-License-Identifier: Apache-2.0
#include "tools/planner/search.hpp"

#include <Eigen/Dense>
#include <fmt/format.h>
#include <nlopt.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <optional>

namespace fleetsim::planner {

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
// What COBYLA sees for a candidate whose runs failed: far worse than any figure, but finite, so its
// linear models stay defined.
constexpr double kFailedScore = 1e30;

struct Scored {
  Values values;
  Assessment a;
};

class Search {
 public:
  Search(const PlanSpec& spec, Candidates& ev) : spec_(spec), ev_(ev) {
    for (size_t i = 0; i < spec.variables.size(); ++i) {
      const Variable& v = spec.variables[i];
      if (v.kind == VariableKind::Continuous) continuous_.push_back(i);
      else if (v.monotone && !spec.second) monotone_.push_back(i);
      else grid_.push_back(i);
    }
    order_ = monotone_;
    std::stable_sort(order_.begin(), order_.end(),
                     [&](size_t a, size_t b) { return spec.variables[a].points() < spec.variables[b].points(); });
  }

  SearchResult run() {
    SearchResult out;
    try {
      std::vector<Scored> finalists;
      const size_t grid_points = grid_size();
      for (size_t g = 0; g < grid_points; ++g) {
        Values x = start_point(g);
        if (spec_.second) {
          (void)eval(x, "grid");
          continue;
        }
        if (auto best = inner(x)) finalists.push_back(std::move(*best));
      }
      if (spec_.second) finalists = pareto_front(out);
      if (!finalists.empty()) confirm(finalists, out);
    } catch (const SearchStopped& stop) {
      out.complete = false;
      out.stop_reason = stop.what();
      // The best of what was evaluated, as known when the search stopped.
      for (const auto& p : ev_.path())
        if (p.assessment.feasible && (!out.found || objective_score(p.assessment) < objective_score(out.best_assessment))) {
          out.found = true;
          out.best = p.values;
          out.best_assessment = p.assessment;
        }
      out.binding.assign(spec_.constraints.size(), false);
    }
    return out;
  }

 private:
  size_t grid_size() const {
    size_t n = 1;
    for (size_t i : grid_) n *= std::max<size_t>(1, spec_.variables[i].points());
    return n;
  }

  // Grid point g (mixed radix, the first grid variable outermost), monotone variables at their
  // largest value, continuous ones in the middle of their range.
  Values start_point(size_t g) const {
    Values x(spec_.variables.size());
    for (size_t k = grid_.size(); k-- > 0;) {
      const Variable& v = spec_.variables[grid_[k]];
      const size_t n = std::max<size_t>(1, v.points());
      x[grid_[k]] = v.point(g % n);
      g /= n;
    }
    for (size_t i : monotone_) x[i] = at_level(i, spec_.variables[i].points() - 1);
    for (size_t i : continuous_) x[i] = spec_.variables[i].at_fraction(0.5);
    return x;
  }

  double objective_score(const Assessment& a) const {
    return a.ran ? score(a.objective, spec_.objective) : kInf;
  }

  void consider(std::optional<Scored>& best, const Values& x, const Assessment& a) const {
    if (a.feasible && (!best || objective_score(a) < objective_score(best->a))) best = Scored{x, a};
  }

  // --- Monotone variables ---------------------------------------------------------------------------
  // A monotone variable's levels run from the value that helps the constraints least (level 0) to the
  // one that helps them most (points() - 1): the values in order for "helps", reversed for "hurts".
  nlohmann::json at_level(size_t m, size_t level) const {
    const Variable& v = spec_.variables[m];
    return v.point(v.larger_hurts ? v.points() - 1 - level : level);
  }
  size_t level(const Values& x, size_t m) const {
    const Variable& v = spec_.variables[m];
    for (size_t i = 0; i < v.points(); ++i)
      if (x[m] == v.point(i)) return v.larger_hurts ? v.points() - 1 - i : i;
    return v.points() - 1;
  }

  Assessment eval(const Values& x, const std::string& phase, size_t seeds = 0) { return ev_.evaluate(x, phase, seeds); }

  // The lowest level of monotone variable m at which x (its other values held) is feasible, given that
  // it is feasible at level hi; levels below lo are known to fail. Bisection, or with the plan's
  // "probes" P > 1 a (P + 1)-section: P levels tried at once (one batch over the threads), which
  // takes log_{P+1} instead of log2 of the levels in steps. x[m] is left at the level found.
  size_t lowest_by_bisection(Values& x, size_t m, size_t lo, size_t hi, std::optional<Scored>& best,
                             const std::string& phase) {
    const size_t width = std::max<size_t>(1, spec_.probes);
    while (lo < hi) {
      const size_t undecided = hi - lo;  // levels lo .. hi - 1
      std::vector<size_t> levels;
      for (size_t j = 1; j <= width; ++j) {
        const size_t p = lo + j * undecided / (width + 1);  // width 1: the midpoint
        if (p < hi && (levels.empty() || p > levels.back())) levels.push_back(p);
      }
      std::vector<Values> probes;
      for (size_t p : levels) {
        probes.push_back(x);
        probes.back()[m] = at_level(m, p);
      }
      if (probes.size() > 1) ev_.prefetch(probes);
      bool found = false;
      size_t next_lo = lo, next_hi = hi;
      for (size_t i = 0; i < probes.size(); ++i) {
        const Assessment a = eval(probes[i], phase);
        consider(best, probes[i], a);
        if (found) continue;
        if (a.feasible) {
          next_hi = levels[i];
          found = true;
        } else {
          next_lo = levels[i] + 1;
        }
      }
      lo = next_lo;
      hi = next_hi;
    }
    x[m] = at_level(m, hi);
    return hi;
  }

  // The same by galloping down from hi (1, 2, 4, ... levels, then bisection in the last gap): a
  // boundary d levels below hi costs about 2 log2(d) + 1 evaluations, one when it is at hi itself.
  // The frontier walk's rows start next to the previous row's boundary, where this is cheapest.
  size_t lowest_by_galloping(Values& x, size_t m, size_t hi, std::optional<Scored>& best, const std::string& phase) {
    size_t lo = 0, gap = 1;
    while (hi > lo) {
      const size_t probe = hi >= gap ? hi - gap : 0;
      Values y = x;
      y[m] = at_level(m, probe);
      const Assessment a = eval(y, phase);
      consider(best, y, a);
      if (!a.feasible) {
        lo = probe + 1;
        break;
      }
      hi = probe;
      gap *= 2;
    }
    return lowest_by_bisection(x, m, lo, hi, best, phase);
  }

  // Coordinate search: the lowest feasible level of each monotone variable in turn, the others held;
  // x must be feasible. Lowering a later variable never lets an earlier one go lower (monotonicity),
  // so the result is a minimal feasible point: no variable can go one level lower. It is the
  // cheapest feasible point when one variable dominates the cost, not in general (the frontier walk
  // below is exact).
  void bisect(Values& x, std::optional<Scored>& best) {
    for (size_t m : monotone_) (void)lowest_by_bisection(x, m, 0, level(x, m), best, "bisect " + spec_.variables[m].name);
  }

  // Frontier walk over the monotone variables order_[k..] (the others held as in x, which must be
  // feasible with order_[k..] at their levels in x): evaluates every minimal feasible point. The set
  // of feasible points is closed upwards (monotonicity) and the objective never improves upwards, so
  // every feasible point has a minimal one below it that costs no more: the cheapest minimal point is
  // the cheapest feasible point.
  //
  // Two variables: the staircase (saddleback) walk. The outer variable's levels l in turn, from the
  // lowest at which the inner one's top is feasible; at each, the inner variable's lowest feasible
  // level J(l). J never rises with l, so each row starts at the previous row's J and gallops down;
  // a row whose J does not fall is dominated and costs one evaluation, and the walk stops when J
  // reaches 0. Every minimal point is some (l, J(l)) with J(l) < J(l - 1), and each of those is
  // evaluated. About n_outer + 2 log2(n_inner) evaluations when the boundary is flat, at most
  // 1 + log2(n_outer) + n_outer (1 + 2 log2 n_inner). More variables: the outermost one's levels in
  // turn, each row a walk over the rest from their levels in x (the inner boundary of a higher row
  // can reach further out in one variable than a lower row's, so it is not carried over); the cost
  // multiplies by the outer variables' levels.
  //
  // x's variables order_[k..] are left at the last row's boundary. Returns whether order_[k..] can all
  // be at level 0 (the lowest corner is feasible).
  bool frontier(Values& x, size_t k, std::optional<Scored>& best, bool gallop) {
    const size_t m = order_[k];
    const std::string phase = (order_.size() == 1 ? "bisect " : "frontier ") + spec_.variables[m].name;
    const size_t top = level(x, m);
    if (k + 1 == order_.size())
      return (gallop ? lowest_by_galloping(x, m, top, best, phase) : lowest_by_bisection(x, m, 0, top, best, phase)) == 0;
    Values y = x;
    const size_t first = lowest_by_bisection(y, m, 0, top, best, phase);
    const bool carry = k + 2 == order_.size();  // one inner variable: its boundary carries to the next row
    Values row = x;
    for (size_t l = first; l <= top; ++l) {
      Values r = carry ? row : x;
      r[m] = at_level(m, l);
      const bool corner = frontier(r, k + 1, best, carry && l > first);
      row = r;
      if (corner) break;  // the inner variables at their lowest: every higher row is dominated
    }
    x = row;
    bool lowest = level(x, m) == 0;
    for (size_t i = k + 1; i < order_.size(); ++i) lowest = lowest && level(x, order_[i]) == 0;
    return lowest;
  }

  // Whether an evaluated candidate shows, by monotonicity, that x fails: one with the same
  // non-monotone values and every monotone variable at a level at least x's, whose runs went through
  // and which failed. Returns its index in the path.
  std::optional<size_t> implied_failure(const Values& x) const {
    const auto& path = ev_.path();
    for (size_t p = 0; p < path.size(); ++p) {
      const auto& e = path[p];
      if (!e.assessment.ran || e.assessment.feasible) continue;
      bool dominates = true;
      for (size_t i = 0; i < x.size() && dominates; ++i) {
        const Variable& v = spec_.variables[i];
        if (v.monotone && !spec_.second) dominates = level(e.values, i) >= level(x, i);
        else dominates = e.values[i] == x[i];
      }
      if (dominates) return p;
    }
    return std::nullopt;
  }

  std::optional<Scored> inner(Values x) {
    std::optional<Scored> best;
    if (!monotone_.empty()) {
      const Assessment top = eval(x, "upper bound");
      consider(best, x, top);
      if (top.feasible) {
        if (spec_.monotone_search == MonotoneSearch::Frontier && continuous_.empty()) {
          Values y = x;
          (void)frontier(y, 0, best, false);
        } else {
          bisect(x, best);
        }
      } else if (continuous_.empty()) {
        return best;  // infeasible even with the most of everything
      }
    }
    if (!continuous_.empty()) {
      cobyla(x, best);
      if (best && !monotone_.empty()) {
        Values y = best->values;
        bisect(y, best);
      }
    } else if (monotone_.empty()) {
      consider(best, x, eval(x, "grid"));
    }
    return best;
  }

  // --- NLopt COBYLA over the continuous variables, x's other values held --------------------------
  struct NloptState {
    Search* self;
    Values base;
    std::optional<Scored>* best;
    std::optional<SearchStopped> stopped;
    std::string last_key;
    Assessment last;
    size_t constraint = 0;
    std::vector<Scored> tried;  // every point COBYLA asked for, for the response-surface step
  };

  Assessment at(NloptState& s, const double* u) {
    Values x = s.base;
    for (size_t k = 0; k < continuous_.size(); ++k) x[continuous_[k]] = spec_.variables[continuous_[k]].at_fraction(u[k]);
    const std::string key = candidate_key(x);
    if (key == s.last_key) return s.last;  // the objective and each constraint ask for the same point
    s.last = eval(x, "cobyla");
    s.last_key = key;
    s.tried.push_back(Scored{x, s.last});
    consider(*s.best, x, s.last);
    return s.last;
  }

  static double nlopt_objective(unsigned n, const double* u, double*, void* data) {
    auto& s = *static_cast<NloptState*>(data);
    (void)n;
    try {
      const Assessment a = s.self->at(s, u);
      const double v = s.self->objective_score(a);
      return std::isfinite(v) ? v : kFailedScore;
    } catch (const SearchStopped& e) {
      s.stopped = e;
      throw nlopt::forced_stop();
    }
  }

  struct ConstraintRef {
    NloptState* state;
    size_t index;
  };

  static double nlopt_constraint(unsigned, const double* u, double*, void* data) {
    auto& ref = *static_cast<ConstraintRef*>(data);
    auto& s = *ref.state;
    try {
      const Assessment a = s.self->at(s, u);
      const Constraint& c = s.self->spec_.constraints[ref.index];
      const Figure& f = a.constraints[ref.index];
      if (!std::isfinite(f.value)) return kFailedScore;
      // g <= 0 holds; scaled by the bound so that tolerances mean the same for every constraint.
      const double scale = std::max(std::fabs(c.bound), 1e-12);
      return (c.at_least ? c.bound - f.value : f.value - c.bound) / scale;
    } catch (const SearchStopped& e) {
      s.stopped = e;
      throw nlopt::forced_stop();
    }
  }

  // The continuous coordinates (unit box) of a candidate.
  std::vector<double> unit_coords(const Values& x) const {
    std::vector<double> u;
    for (size_t i : continuous_) {
      const Variable& v = spec_.variables[i];
      const double value = x[i].is_number() ? x[i].get<double>() : std::stod(x[i].get<std::string>());
      u.push_back(v.max > v.min ? (value - v.min) / (v.max - v.min) : 0.5);
    }
    return u;
  }

  // Response-surface step (Box and Wilson, 1951): a quadratic in the continuous coordinates fitted by
  // least squares (Eigen) to the feasible points COBYLA evaluated nearest the best one, and its
  // minimum evaluated. Simulated figures are noisy; near an optimum the surface is flat, so COBYLA's
  // best sample is as much luck as location, while the fitted minimum averages the noise of every
  // point. The fitted point is the sub-problem's answer when it is feasible and the fit is convex.
  void polish(const std::vector<Scored>& tried, std::optional<Scored>& best) {
    if (!best || tried.empty()) return;
    const size_t k = continuous_.size();
    const size_t terms = (k + 1) * (k + 2) / 2;
    std::vector<std::pair<double, const Scored*>> near;
    const auto b = unit_coords(best->values);
    for (const auto& t : tried) {
      if (!t.a.feasible) continue;
      const auto u = unit_coords(t.values);
      double d = 0;
      for (size_t i = 0; i < k; ++i) d += (u[i] - b[i]) * (u[i] - b[i]);
      near.emplace_back(d, &t);
    }
    const size_t want = std::max<size_t>(2 * terms, 8);
    if (near.size() < terms + 2) return;
    std::stable_sort(near.begin(), near.end(), [](const auto& a, const auto& c) { return a.first < c.first; });
    if (near.size() > want) near.resize(want);
    Eigen::MatrixXd A(static_cast<Eigen::Index>(near.size()), static_cast<Eigen::Index>(terms));
    Eigen::VectorXd y(static_cast<Eigen::Index>(near.size()));
    for (size_t r = 0; r < near.size(); ++r) {
      const auto u = unit_coords(near[r].second->values);
      Eigen::Index c = 0;
      A(static_cast<Eigen::Index>(r), c++) = 1;
      for (size_t i = 0; i < k; ++i) A(static_cast<Eigen::Index>(r), c++) = u[i];
      for (size_t i = 0; i < k; ++i)
        for (size_t j = i; j < k; ++j) A(static_cast<Eigen::Index>(r), c++) = u[i] * u[j];
      y(static_cast<Eigen::Index>(r)) = objective_score(near[r].second->a);
    }
    const Eigen::VectorXd coef = A.colPivHouseholderQr().solve(y);
    // score ~ c0 + g.u + u'Hu/2 with H symmetric: the quadratic terms give H's entries.
    Eigen::VectorXd g(static_cast<Eigen::Index>(k));
    Eigen::MatrixXd H(static_cast<Eigen::Index>(k), static_cast<Eigen::Index>(k));
    Eigen::Index c = 1;
    for (size_t i = 0; i < k; ++i) g(static_cast<Eigen::Index>(i)) = coef(c++);
    for (size_t i = 0; i < k; ++i)
      for (size_t j = i; j < k; ++j) {
        const double q = coef(c++);
        const auto ii = static_cast<Eigen::Index>(i), jj = static_cast<Eigen::Index>(j);
        if (i == j) H(ii, ii) = 2 * q;
        else H(ii, jj) = H(jj, ii) = q;
      }
    const Eigen::LLT<Eigen::MatrixXd> llt(H);
    if (llt.info() != Eigen::Success) return;  // not convex: no minimum to trust
    const Eigen::VectorXd u = llt.solve(-g);
    Values x = best->values;
    for (size_t i = 0; i < k; ++i) {
      const double ui = u(static_cast<Eigen::Index>(i));
      if (!(ui >= 0 && ui <= 1)) return;  // the minimum lies outside the box: COBYLA's answer stands
      x[continuous_[i]] = spec_.variables[continuous_[i]].at_fraction(ui);
    }
    const Assessment a = eval(x, "response surface");
    if (a.feasible) best = Scored{x, a};
  }

  void cobyla(const Values& x, std::optional<Scored>& best) {
    const unsigned n = static_cast<unsigned>(continuous_.size());
    nlopt::opt opt(nlopt::LN_COBYLA, n);
    opt.set_lower_bounds(std::vector<double>(n, 0.0));
    opt.set_upper_bounds(std::vector<double>(n, 1.0));
    NloptState state{this, x, &best, std::nullopt, "", {}, 0, {}};
    std::vector<ConstraintRef> refs;
    refs.reserve(spec_.constraints.size());
    opt.set_min_objective(&Search::nlopt_objective, &state);
    for (size_t i = 0; i < spec_.constraints.size(); ++i) {
      refs.push_back(ConstraintRef{&state, i});
      opt.add_inequality_constraint(&Search::nlopt_constraint, &refs.back(), 0.0);
    }
    opt.set_maxeval(static_cast<int>(spec_.continuous_budget));
    // Values are written with six significant digits (Variable::at_fraction), so finer steps in the
    // unit box would only revisit cached candidates.
    opt.set_xtol_abs(1e-5);
    opt.set_initial_step(0.25);
    std::vector<double> u(n, 0.5);
    double f = 0;
    try {
      (void)opt.optimize(u, f);
    } catch (const nlopt::forced_stop&) {
    } catch (const nlopt::roundoff_limited&) {
    } catch (const std::runtime_error&) {
      // NLopt gives up (for example all candidates failed): the best evaluated point stands.
    }
    if (state.stopped) throw *state.stopped;
    polish(state.tried, best);
  }

  // --- Pareto front (second objective) --------------------------------------------------------------
  std::vector<Scored> pareto_front(SearchResult& out) {
    std::map<std::string, size_t> latest;  // candidate -> its last path entry
    const auto& path = ev_.path();
    for (size_t i = 0; i < path.size(); ++i) latest[candidate_key(path[i].values)] = i;
    std::vector<size_t> feasible;
    for (const auto& [key, i] : latest)
      if (path[i].assessment.feasible) feasible.push_back(i);
    auto s1 = [&](size_t i) { return score(path[i].assessment.objective, spec_.objective); };
    auto s2 = [&](size_t i) { return score(path[i].assessment.second, *spec_.second); };
    for (size_t i : feasible) {
      bool dominated = false;
      for (size_t j : feasible)
        if (j != i && s1(j) <= s1(i) && s2(j) <= s2(i) && (s1(j) < s1(i) || s2(j) < s2(i))) dominated = true;
      if (!dominated) out.pareto.push_back(i);
    }
    std::sort(out.pareto.begin(), out.pareto.end(), [&](size_t a, size_t b) {
      return s1(a) != s1(b) ? s1(a) < s1(b) : s2(a) < s2(b);
    });
    std::vector<Scored> best;
    if (!out.pareto.empty()) best.push_back(Scored{path[out.pareto.front()].values, path[out.pareto.front()].assessment});
    return best;
  }

  // --- Successive halving across grid points, then the winner confirmed at the most seeds -----------
  void confirm(std::vector<Scored> finalists, SearchResult& out) {
    auto by_score = [&](const Scored& a, const Scored& b) { return objective_score(a.a) < objective_score(b.a); };
    std::stable_sort(finalists.begin(), finalists.end(), by_score);
    size_t n = spec_.seeds_min;
    while (finalists.size() > 1 && n < spec_.seeds_max) {
      n = std::min(spec_.seeds_max, 2 * n);
      const size_t keep = (finalists.size() + 1) / 2;
      finalists.resize(keep);
      for (auto& f : finalists) f.a = eval(f.values, "halving", n);
      std::erase_if(finalists, [](const Scored& f) { return !f.a.feasible; });
      std::stable_sort(finalists.begin(), finalists.end(), by_score);
    }
    // The winner at the most seeds; if the extra seeds show it fails, the next best evaluated
    // candidate is tried, a bounded number of times.
    // Finalists first (a sub-problem's answer may be a fitted optimum that a lucky sample beats on
    // its noisy figure), then every other feasible candidate by its figure.
    std::vector<Scored> order = finalists, others;
    for (const auto& p : ev_.path())
      if (p.assessment.feasible) others.push_back(Scored{p.values, p.assessment});
    std::stable_sort(others.begin(), others.end(), by_score);
    order.insert(order.end(), others.begin(), others.end());
    std::map<std::string, bool> tried;
    for (const auto& c : order) {
      if (tried.size() >= 10) break;
      if (!tried.emplace(candidate_key(c.values), true).second) continue;
      const Assessment a = eval(c.values, "final", spec_.seeds_max);
      if (!a.feasible) continue;
      out.found = true;
      out.best = c.values;
      out.best_assessment = a;
      break;
    }
    if (out.found) mark_binding(out);
  }

  // A constraint binds when the best plan sits on its bound (within its 95% interval, or 1% when
  // continuous variables were searched), or when one step down any monotone variable breaks it.
  void mark_binding(SearchResult& out) {
    out.binding.assign(spec_.constraints.size(), false);
    for (size_t i = 0; i < spec_.constraints.size(); ++i) {
      const Constraint& c = spec_.constraints[i];
      const Figure& f = out.best_assessment.constraints[i];
      const double margin = std::fabs(f.value - c.bound);
      const double hw = std::isfinite(f.half_width) ? f.half_width : 0.0;
      // Within 1% of the bound counts only where continuous variables were searched: there is no step
      // down to try, and COBYLA stops near an active constraint, not on it. A discrete plan has its
      // neighbours (below), and 1% of a bound such as 0.999 attainment is a band of ten times the
      // misses it allows.
      const double near = continuous_.empty() ? 0.0 : 0.01 * std::fabs(c.bound);
      out.binding[i] = margin <= std::max(hw, near);
    }
    for (size_t m : monotone_) {
      const size_t idx = level(out.best, m);
      if (idx == 0) continue;
      Values below = out.best;
      below[m] = at_level(m, idx - 1);
      // A failed candidate at or above `below` in every monotone variable (the search's own bisection
      // step usually is one) shows which constraints break there without running it again.
      const auto implied = implied_failure(below);
      const Assessment a = implied ? ev_.path()[*implied].assessment : eval(below, "binding check", out.best_assessment.seeds);
      for (size_t i = 0; i < a.constraints.size(); ++i)
        if (!a.constraints[i].satisfied) out.binding[i] = true;
    }
  }

  const PlanSpec& spec_;
  Candidates& ev_;
  std::vector<size_t> grid_, monotone_, continuous_;
  std::vector<size_t> order_;  // monotone_ for the frontier walk: fewest levels outermost
};

}  // namespace

double score(const Figure& f, const Objective& o) {
  if (!std::isfinite(f.value)) return kInf;
  return o.minimize ? f.value : -f.value;
}

SearchResult search(const PlanSpec& spec, Candidates& evaluator) { return Search(spec, evaluator).run(); }

}  // namespace fleetsim::planner
