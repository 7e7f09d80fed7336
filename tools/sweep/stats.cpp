// SPDX-License-Identifier: Apache-2.0
#include "tools/sweep/stats.hpp"

#include <boost/math/distributions/students_t.hpp>

#include <cmath>
#include <limits>

namespace fleetsim::sweep {

// Both by Boost.Math's students_t distribution (a well-kept library: its quantile is accurate to a
// few ulps and tested against high-precision tables), rather than the hand-written closed forms and
// bisection this file once held. The default policy raises on bad arguments; df >= 1 here.
double student_t_two_sided(double t, size_t df) {
  if (t <= 0) return 0.0;
  if (std::isinf(t)) return 1.0;
  const boost::math::students_t dist(static_cast<double>(df));
  // P(|T| <= t) = 1 - 2 P(T > t); the complement keeps the tail's precision for large t.
  return 1.0 - 2.0 * boost::math::cdf(boost::math::complement(dist, t));
}

double student_t_975(size_t df) {
  if (df == 0) return std::numeric_limits<double>::quiet_NaN();
  return boost::math::quantile(boost::math::students_t(static_cast<double>(df)), 0.975);
}

CellStats summarize(std::span<const double> values) {
  CellStats s;
  s.n = values.size();
  if (s.n == 0) {
    s.mean = s.stddev = s.half_width = std::numeric_limits<double>::quiet_NaN();
    return s;
  }
  // The mean as the first value plus the mean deviation from it, then squared deviations in a second
  // pass: replications that agree exactly (a metric the seed does not touch) get exactly their value
  // and a standard deviation of exactly 0, where sum / n can be off in the last bit.
  double dev = 0;
  for (double v : values) dev += v - values[0];
  s.mean = values[0] + dev / static_cast<double>(s.n);
  if (s.n == 1) {
    s.stddev = s.half_width = std::numeric_limits<double>::quiet_NaN();
    return s;
  }
  double ss = 0;
  for (double v : values) ss += (v - s.mean) * (v - s.mean);
  s.stddev = std::sqrt(ss / static_cast<double>(s.n - 1));
  s.half_width = student_t_975(s.n - 1) * s.stddev / std::sqrt(static_cast<double>(s.n));
  return s;
}

}  // namespace fleetsim::sweep
