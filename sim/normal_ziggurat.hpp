// SPDX-License-Identifier: Apache-2.0
// The table of the ziggurat method for the standard normal (Marsaglia and Tsang, "The Ziggurat Method
// for Generating Random Variables", Journal of Statistical Software 5(8), 2000), used by Rng::normal.
//
// The curve f(x) = exp(-x^2 / 2), x >= 0, is covered by kLayers horizontal layers of equal area v:
// layer 0 is the base, the rectangle [0, r] x [0, f(r)] together with the tail beyond r (given the
// width x[0] = v / f(r) so that its area is v too); layer k >= 1 is the rectangle [0, x[k]] x
// [f(x[k]), f(x[k+1])], with x[1] = r > x[2] > ... > x[kLayers] = 0. A draw picks a layer and a point
// x uniform in [0, x[k]): when x < x[k+1] the whole column at x lies under the curve and x is taken
// at once, which happens in about 99% of draws; otherwise the point is in the wedge beside the curve,
// or in the tail (Rng::normal_edge).
//
// r is the paper's value for 256 layers; v follows from it (r f(r) plus the tail's area), and each
// x[k+1] from x[k] (the layer's area is v). The table is computed once, on first use, with the C
// library's exp, log and erfc: the same portability as the other distributions (sim/rng.hpp).
#pragma once

namespace fleetsim {

struct NormalZiggurat {
  static constexpr unsigned kLayers = 256;
  static constexpr double kR = 3.6541528853610088;  // Marsaglia and Tsang (2000), 256 layers

  NormalZiggurat();

  double v = 0.0;               // the area of each layer
  double x[kLayers + 1] = {};   // layer k spans [0, x[k]); x[kLayers] = 0
  double f[kLayers + 1] = {};   // exp(-x[k]^2 / 2); f[0] = 0 (the base reaches the axis)
};

/// The table, built on first use (thread-safe).
inline const NormalZiggurat& normal_ziggurat() {
  static const NormalZiggurat table;
  return table;
}

}  // namespace fleetsim
