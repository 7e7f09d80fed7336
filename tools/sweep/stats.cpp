// SPDX-License-Identifier: Apache-2.0
#include "tools/sweep/stats.hpp"

#include <cmath>
#include <limits>
#include <numbers>

namespace fleetsim::sweep {

double student_t_two_sided(double t, size_t df) {
  if (t <= 0) return 0.0;
  if (std::isinf(t)) return 1.0;
  const double theta = std::atan(t / std::sqrt(static_cast<double>(df)));
  const double c2 = std::cos(theta) * std::cos(theta);
  const double s = std::sin(theta);
  if (df % 2 == 1) {
    // A&S 26.7.3: A = 2/pi * (theta + sin cos (1 + 2/3 cos^2 + 2*4/(3*5) cos^4 + ... up to cos^(df-3))).
    double sum = 0;
    if (df > 1) {
      double term = 1;
      sum = 1;
      for (size_t k = 3; k + 0 <= df - 1; k += 2) {  // terms for cos^2 ... cos^(df-3)
        term *= c2 * static_cast<double>(k - 1) / static_cast<double>(k);
        sum += term;
      }
    }
    return 2 / std::numbers::pi * (theta + s * std::cos(theta) * sum);
  }
  // A&S 26.7.4: A = sin (1 + 1/2 cos^2 + 1*3/(2*4) cos^4 + ... up to cos^(df-2)).
  double term = 1, sum = 1;
  for (size_t k = 2; k + 0 <= df - 1; k += 2) {  // terms for cos^2 ... cos^(df-2)
    term *= c2 * static_cast<double>(k - 1) / static_cast<double>(k);
    sum += term;
  }
  return s * sum;
}

double student_t_975(size_t df) {
  if (df == 0) return std::numeric_limits<double>::quiet_NaN();
  // Bisection on the monotone two-sided probability: 200 halvings of [0, 1e3] reach the double's
  // resolution, and the result does not depend on a starting guess (so it is the same everywhere).
  double lo = 0, hi = 1e3;  // t(0.975, 1) = 12.7, well inside
  for (int i = 0; i < 200 && hi - lo > 0; ++i) {
    const double mid = 0.5 * (lo + hi);
    if (mid == lo || mid == hi) break;
    (student_t_two_sided(mid, df) < 0.95 ? lo : hi) = mid;
  }
  return 0.5 * (lo + hi);
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
