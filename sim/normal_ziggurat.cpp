// SPDX-License-Identifier: Apache-2.0
// The ziggurat table of the standard normal (see normal_ziggurat.hpp).
#include "sim/normal_ziggurat.hpp"

#include <cmath>
#include <numbers>

namespace fleetsim {

NormalZiggurat::NormalZiggurat() {
  const double r = kR;
  const double fr = std::exp(-0.5 * r * r);
  // The base: the rectangle under f(r) up to r, and the tail, whose area is sqrt(pi / 2) erfc(r / sqrt 2).
  v = r * fr + std::sqrt(std::numbers::pi / 2.0) * std::erfc(r / std::numbers::sqrt2);
  x[0] = v / fr;
  f[0] = 0.0;
  x[1] = r;
  f[1] = fr;
  // Layer k has area v: x[k] (f(x[k+1]) - f(x[k])) = v.
  for (unsigned k = 1; k + 1 < kLayers; ++k) {
    f[k + 1] = f[k] + v / x[k];
    x[k + 1] = std::sqrt(-2.0 * std::log(f[k + 1]));
  }
  // The top layer reaches the peak: with r as published, its area is v to about 1e-10 (a test checks).
  x[kLayers] = 0.0;
  f[kLayers] = 1.0;
}

}  // namespace fleetsim
