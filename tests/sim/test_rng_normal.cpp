// SPDX-License-Identifier: Apache-2.0
// The normal draw (ziggurat, sim/normal_ziggurat.hpp) against the normal distribution as Boost.Math
// computes it: the whole shape, the wedges and the tail, each at a stated significance.
#include <boost/math/distributions/chi_squared.hpp>
#include <boost/math/distributions/normal.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <vector>

#include "sim/normal_ziggurat.hpp"
#include "sim/rng.hpp"
#include "tests/support/ks.hpp"

using fleetsim::NormalZiggurat;
using fleetsim::Rng;
using fleetsim::RngStreams;

using fleetsim::test::ks_statistic;

TEST_CASE("the ziggurat's layers have equal areas and reach the peak", "[rng]") {
  const NormalZiggurat& z = fleetsim::normal_ziggurat();
  const auto f = [](double x) { return std::exp(-0.5 * x * x); };
  // The base: the rectangle up to r and the tail beyond it (Boost.Math's normal, scaled to f).
  const double tail = std::sqrt(2.0 * M_PI) * boost::math::cdf(boost::math::complement(boost::math::normal(), z.x[1]));
  CHECK(z.v == Approx(z.x[1] * f(z.x[1]) + tail).epsilon(1e-12));
  CHECK(z.x[0] * z.f[1] == Approx(z.v).epsilon(1e-12));
  for (unsigned k = 1; k < NormalZiggurat::kLayers; ++k) {
    INFO("layer " << k);
    CHECK(z.x[k] > z.x[k + 1]);
    CHECK(z.f[k] == Approx(f(z.x[k])).epsilon(1e-12));
    // Each layer's area is v; the top one closes on the peak only if r is right (to about 1e-10).
    CHECK(z.x[k] * (z.f[k + 1] - z.f[k]) == Approx(z.v).epsilon(1e-8));
  }
}

TEST_CASE("normal draws follow the normal distribution", "[rng]") {
  Rng rng = RngStreams(11).stream("normal/shape");
  const boost::math::normal dist(3.0, 0.5);
  const size_t n = 400000;
  std::vector<double> xs(n);
  for (double& x : xs) x = rng.normal(3.0, 0.5);

  SECTION("the whole distribution: Kolmogorov-Smirnov at 0.001") {
    CHECK(ks_statistic(xs, [&](double x) { return boost::math::cdf(dist, x); }) < fleetsim::test::ks_critical_999(n));
  }
  SECTION("200 equally likely bins: chi-square at 0.001, so a wrong wedge shows") {
    // The layers' edges are at 256 places in |x|; 200 bins of probability 1/200 cut across them.
    const int bins = 200;
    std::vector<double> edges(bins - 1);
    for (int b = 1; b < bins; ++b) edges[b - 1] = boost::math::quantile(dist, static_cast<double>(b) / bins);
    std::vector<double> count(bins, 0.0);
    for (double x : xs) count[std::upper_bound(edges.begin(), edges.end(), x) - edges.begin()] += 1.0;
    const double expected = static_cast<double>(n) / bins;
    double chi2 = 0.0;
    for (double c : count) chi2 += (c - expected) * (c - expected) / expected;
    CHECK(chi2 < boost::math::quantile(boost::math::chi_squared(bins - 1), 0.999));
  }
  SECTION("the two signs are equally likely and symmetric") {
    const auto below = std::count_if(xs.begin(), xs.end(), [](double x) { return x < 3.0; });
    CHECK(std::abs(static_cast<double>(below) - n / 2.0) < 3.3 * std::sqrt(n / 4.0));  // 0.001, two-sided
  }
}

TEST_CASE("normal draws have the normal's second and fourth moments", "[rng]") {
  // The wedges beside the curve hold under 1% of the mass, too little for the tests above to see a
  // wrong wedge test; the moments do: a wedge that accepts every point gives E[x^2] = 1.0068 and
  // E[x^4] = 3.069 (measured with 20 M draws). Standard errors: sqrt(2 / n) and sqrt(96 / n).
  Rng rng = RngStreams(14).stream("normal/moments");
  const int n = 2000000;
  double m2 = 0.0;
  double m4 = 0.0;
  for (int i = 0; i < n; ++i) {
    const double x = rng.standard_normal();
    m2 += x * x;
    m4 += x * x * x * x;
  }
  m2 /= n;
  m4 /= n;
  CHECK(std::abs(m2 - 1.0) < 4.0 * std::sqrt(2.0 / n));   // 0.0040
  CHECK(std::abs(m4 - 3.0) < 4.0 * std::sqrt(96.0 / n));  // 0.028
}

TEST_CASE("normal draws beyond the ziggurat's base follow the normal tail", "[rng]") {
  // Draws with |x| > r come from the tail method (or from the base layer's last column): their share
  // and their distribution given |x| > r, against the normal's complement.
  Rng rng = RngStreams(12).stream("normal/tail");
  const double r = fleetsim::normal_ziggurat().x[1];
  const boost::math::normal std_normal;
  const double p_tail = 2.0 * boost::math::cdf(boost::math::complement(std_normal, r));  // about 2.6e-4
  const size_t n = 8000000;
  std::vector<double> tail;
  for (size_t i = 0; i < n; ++i) {
    const double x = rng.standard_normal();
    if (std::abs(x) > r) tail.push_back(std::abs(x));
  }
  const double expected = p_tail * static_cast<double>(n);
  CHECK(std::abs(static_cast<double>(tail.size()) - expected) < 3.3 * std::sqrt(expected));
  const double q_r = boost::math::cdf(boost::math::complement(std_normal, r));
  CHECK(ks_statistic(tail, [&](double x) { return 1.0 - boost::math::cdf(boost::math::complement(std_normal, x)) / q_r; }) <
        fleetsim::test::ks_critical_999(tail.size()));
}

TEST_CASE("normal rejects a negative or infinite sd and takes sd 0", "[rng]") {
  Rng rng = RngStreams(13).stream("normal/sd");
  CHECK_THROWS_AS(rng.normal(0.0, -1.0), std::invalid_argument);
  CHECK_THROWS_AS(rng.normal(0.0, std::nan("")), std::invalid_argument);
  CHECK_THROWS_AS(rng.normal(0.0, INFINITY), std::invalid_argument);
  CHECK(rng.normal(5.0, 0.0) == 5.0);
  CHECK(rng.lognormal(0.0, 0.0) == 1.0);
}
