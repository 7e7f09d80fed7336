// SPDX-License-Identifier: Apache-2.0
// The Kolmogorov-Smirnov statistic, for tests that compare draws with a distribution's CDF.
//
//   CHECK(fleetsim::test::ks_statistic(draws, cdf) < fleetsim::test::ks_critical_999(draws.size()));
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <vector>

namespace fleetsim::test {

/// The largest distance between the sample's empirical CDF and `cdf`.
template <class Cdf>
double ks_statistic(std::vector<double> xs, Cdf cdf) {
  std::sort(xs.begin(), xs.end());
  const auto n = static_cast<double>(xs.size());
  double d = 0.0;
  for (size_t i = 0; i < xs.size(); ++i) {
    const double f = cdf(xs[i]);
    d = std::max({d, static_cast<double>(i + 1) / n - f, f - static_cast<double>(i) / n});
  }
  return d;
}

/// The statistic's 0.999 quantile for n draws: 1.949 / sqrt(n), the Kolmogorov distribution's
/// (asymptotic; conservative from n in the hundreds).
inline double ks_critical_999(size_t n) { return 1.949 / std::sqrt(static_cast<double>(n)); }

}  // namespace fleetsim::test
