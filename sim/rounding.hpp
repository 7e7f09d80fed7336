// SPDX-License-Identifier: Apache-2.0
// round_half_away: std::llround's result without the libm call, for hot paths that turn seconds or
// nanoseconds held in a double into whole ticks.
//
//   int64_t ns = round_half_away(seconds * 1e9);   // the caller ensures a finite x in [-2^63, 2^63)
//
// Why not std::llround: it is a call into libm on every use (GCC inlines it only under -ffast-math),
// and it showed up as 4.6% of PHOLD's run and a fifth of the request-level week's
// (docs/PERFORMANCE.md). The arithmetic here is exact, so the result is llround's for every x in range:
//   - truncation toward zero is exact for |x| < 2^63 (a double of magnitude 2^53 or more is already an
//     integer);
//   - x - trunc(x) is exact: for |x| < 1 it is x itself, for |x| >= 1 trunc(x) lies within a factor of
//     two of x (Sterbenz's lemma), and beyond 2^52 it is 0;
//   - a fraction of one half or more rounds away from zero, as llround does (not to even).
#pragma once

#include <cstdint>

namespace fleetsim {

/// The integer nearest to x, halves away from zero (std::llround). x must be finite and in
/// [-2^63, 2^63); callers check their range first.
inline int64_t round_half_away(double x) {
  const auto r = static_cast<int64_t>(x);
  const double fraction = x - static_cast<double>(r);
  // Without branches: the fraction of a random draw is as likely below one half as above, and a
  // mispredicted branch per call cost more than the libm call saved.
  return r + static_cast<int64_t>(fraction >= 0.5) - static_cast<int64_t>(fraction <= -0.5);
}

}  // namespace fleetsim
