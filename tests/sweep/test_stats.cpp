// SPDX-License-Identifier: Apache-2.0
// Student t intervals against printed tables and a hand-computed example.
#include "tools/sweep/stats.hpp"

#include <catch2/catch.hpp>

#include <cmath>
#include <vector>

using namespace fleetsim::sweep;

TEST_CASE("sweep: t quantile 0.975 matches the printed table", "[sweep][stats]") {
  // Two-sided 95% critical values of Student's t (NIST/SEMATECH e-Handbook of Statistical Methods,
  // table 1.3.6.7.2, column 0.975; the same figures as Abramowitz & Stegun table 26.10), to the
  // table's three decimals.
  const std::vector<std::pair<size_t, double>> table = {
      {1, 12.706}, {2, 4.303}, {3, 3.182}, {4, 2.776}, {5, 2.571}, {9, 2.262},
      {10, 2.228}, {20, 2.086}, {29, 2.045}, {30, 2.042}, {60, 2.000}, {100, 1.984}};
  for (const auto& [df, t] : table) {
    INFO("df " << df);
    CHECK(student_t_975(df) == Approx(t).margin(0.0005));
  }
  // Towards the normal quantile 1.959964 as df grows.
  CHECK(student_t_975(100000) == Approx(1.959964).margin(1e-4));
}

TEST_CASE("sweep: t distribution closed forms agree with known values", "[sweep][stats]") {
  // df 1 is the Cauchy distribution: P(|T| <= 1) = 2 atan(1) / pi = 0.5.
  CHECK(student_t_two_sided(1.0, 1) == Approx(0.5).epsilon(1e-12));
  // df 2: P(|T| <= t) = t / sqrt(2 + t^2).
  CHECK(student_t_two_sided(3.0, 2) == Approx(3.0 / std::sqrt(11.0)).epsilon(1e-12));
  CHECK(student_t_two_sided(0.0, 7) == 0.0);
  // Monotone in t for odd and even df.
  for (size_t df : {3u, 8u}) CHECK(student_t_two_sided(1.0, df) < student_t_two_sided(1.1, df));
}

TEST_CASE("sweep: 95% interval of 1, 2, 3, 4, 5 computed by hand", "[sweep][stats]") {
  // mean = 15 / 5 = 3; squared deviations 4 + 1 + 0 + 1 + 4 = 10; s^2 = 10 / 4 = 2.5, s = 1.5811388;
  // standard error s / sqrt(5) = 0.7071068; t(0.975, 4) = 2.7764451;
  // half width = 2.7764451 * 0.7071068 = 1.9632432; interval [1.0367568, 4.9632432].
  const std::vector<double> xs = {1, 2, 3, 4, 5};
  const CellStats s = summarize(xs);
  CHECK(s.n == 5);
  CHECK(s.mean == 3.0);
  CHECK(s.stddev == Approx(1.5811388).epsilon(1e-7));
  CHECK(s.half_width == Approx(1.9632432).epsilon(1e-6));
  CHECK(s.low() == Approx(1.0367568).epsilon(1e-6));
  CHECK(s.high() == Approx(4.9632432).epsilon(1e-6));
}

TEST_CASE("sweep: two replications use t with one degree of freedom", "[sweep][stats]") {
  // 10 and 12: mean 11, s = sqrt(2), se = s / sqrt(2) = 1, half width = t(0.975, 1) = 12.7062.
  const std::vector<double> xs = {10, 12};
  const CellStats s = summarize(xs);
  CHECK(s.mean == 11.0);
  CHECK(s.half_width == Approx(12.7062).epsilon(1e-5));
}

TEST_CASE("sweep: equal replications have exactly their value and no spread", "[sweep][stats]") {
  const std::vector<double> xs = {1876.67079924, 1876.67079924, 1876.67079924};
  const CellStats s = summarize(xs);
  CHECK(s.mean == 1876.67079924);
  CHECK(s.stddev == 0.0);
  CHECK(s.half_width == 0.0);
}

TEST_CASE("sweep: one replication has a mean but no interval", "[sweep][stats]") {
  const std::vector<double> xs = {4.5};
  const CellStats s = summarize(xs);
  CHECK(s.mean == 4.5);
  CHECK(std::isnan(s.stddev));
  CHECK(std::isnan(s.half_width));
}
