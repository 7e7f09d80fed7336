// SPDX-License-Identifier: Apache-2.0
// Mean and 95% confidence interval of a cell's replications (Student t, two-sided).
//
//   CellStats s = summarize({1, 2, 3, 4, 5});
//   // s.mean == 3, s.stddev == sqrt(2.5), s.half_width == t(0.975, 4) * s.stddev / sqrt(5) ~ 1.9632
//
// The interval assumes the replications are independent draws of a roughly normal outcome (a mean of
// many events usually is): mean +- t(0.975, n-1) * s / sqrt(n), with s the sample standard deviation.
// One replication has no interval (n = 1: stddev and half_width are NaN, written as empty fields).
#pragma once

#include <cstddef>
#include <span>

namespace fleetsim::sweep {

struct CellStats {
  size_t n = 0;
  double mean = 0;
  double stddev = 0;      ///< sample standard deviation (n - 1 in the denominator)
  double half_width = 0;  ///< of the 95% confidence interval of the mean
  double low() const { return mean - half_width; }
  double high() const { return mean + half_width; }
};

CellStats summarize(std::span<const double> values);

/// P(|T| <= t) for Student's t with `df` degrees of freedom (df >= 1), by Boost.Math.
double student_t_two_sided(double t, size_t df);

/// The t with P(|T| <= t) = 0.95, i.e. the 0.975 quantile: 12.706 for df 1, 2.776 for df 4, -> 1.960
/// (Boost.Math's students_t quantile).
double student_t_975(size_t df);

}  // namespace fleetsim::sweep
