// SPDX-License-Identifier: Apache-2.0
// Stream derivation and distributions for Rng (see rng.hpp).
#include "sim/rng.hpp"

#include <fmt/format.h>

#include <cmath>
#include <stdexcept>

namespace fleetsim {

namespace {

// Feeds the eight bytes of v, least significant first, so the hash does not depend on host byte order.
uint64_t fnv1a64_u64(uint64_t v, uint64_t h) {
  for (int i = 0; i < 8; ++i) {
    h ^= (v >> (8 * i)) & 0xffu;
    h *= 0x100000001b3ull;
  }
  return h;
}
}  // namespace

uint64_t fnv1a64(std::string_view bytes, uint64_t h) {
  for (char c : bytes) {
    h ^= static_cast<unsigned char>(c);
    h *= 0x100000001b3ull;  // the 64-bit FNV prime
  }
  return h;
}

uint64_t splitmix64(uint64_t& state) {
  uint64_t z = (state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

Rng::Rng(uint64_t seed) { seed_from(seed); }

void Rng::seed_from(uint64_t key) {
  uint64_t sm = key;
  for (auto& word : s_) word = splitmix64(sm);
  // An all-zero state would be a fixed point; SplitMix64 cannot output four zeros in a row, but be sure.
  if ((s_[0] | s_[1] | s_[2] | s_[3]) == 0) s_[0] = 1;
}

void Rng::throw_zero_range() { throw std::invalid_argument("Rng::uniform_int: n must be positive"); }

void Rng::throw_bad_rate(double rate) {
  throw std::invalid_argument(fmt::format("Rng::exponential: rate must be positive and finite, got {}", rate));
}

// Lemire, "Fast random integer generation in an interval" (ACM TOMACS 2019): the high word of x * n is
// uniform on [0, n) once the low word avoids the first 2^64 mod n values. uniform_int (rng.hpp) takes
// the high word at once when the low word is n or more, which no threshold can exceed.
uint64_t Rng::uniform_int_retry(uint64_t n, U128 m) {
  auto low = static_cast<uint64_t>(m);
  const uint64_t threshold = (0 - n) % n;  // 2^64 mod n
  while (low < threshold) {
    m = static_cast<U128>(next_u64()) * n;
    low = static_cast<uint64_t>(m);
  }
  return static_cast<uint64_t>(m >> 64);
}

int64_t Rng::uniform_int(int64_t lo, int64_t hi) {
  if (lo > hi) throw std::invalid_argument(fmt::format("Rng::uniform_int: empty range [{}, {}]", lo, hi));
  const uint64_t span = static_cast<uint64_t>(hi) - static_cast<uint64_t>(lo);
  const uint64_t r = span == UINT64_MAX ? next_u64() : uniform_int(span + 1);
  return static_cast<int64_t>(static_cast<uint64_t>(lo) + r);
}

double Rng::weibull(double shape, double scale) {
  if (!(shape > 0.0) || !(scale > 0.0) || !std::isfinite(shape) || !std::isfinite(scale)) {
    throw std::invalid_argument(
        fmt::format("Rng::weibull: shape and scale must be positive and finite, got shape {} scale {}", shape, scale));
  }
  // Inverse CDF: x = lambda * (-log(U))^(1/k).
  const double e = -std::log(uniform01_open_low());
  return shape == 1.0 ? scale * e : scale * std::pow(e, 1.0 / shape);
}

void Rng::throw_bad_sd(double sd) {
  throw std::invalid_argument(fmt::format("Rng::normal: sd must be non-negative and finite, got {}", sd));
}

double Rng::normal_edge(uint64_t u, double x) {
  const NormalZiggurat& z = normal_ziggurat();
  const unsigned layer = static_cast<unsigned>(u) & (NormalZiggurat::kLayers - 1);
  if (layer == 0) {
    // Beyond r in the base: the tail of the normal by Marsaglia's method ("Generating a variable
    // from the tail of the normal distribution", Technometrics 6(1), 1964), as in the ziggurat paper.
    const double r = z.x[1];
    double t = 0.0;
    double y = 0.0;
    do {
      t = -std::log(uniform01_open_low()) / r;
      y = -std::log(uniform01_open_low());
    } while (y + y < t * t);
    return with_sign(r + t, u);
  }
  // In the wedge between the curve and the layer's rectangle: accept x with the probability that a
  // uniform height in the layer falls under f(x).
  if (z.f[layer] + uniform01() * (z.f[layer + 1] - z.f[layer]) < std::exp(-0.5 * x * x)) return with_sign(x, u);
  // Rejected (0.7% of draws: 1 - sqrt(pi / 2) / (256 v)): a new draw from the start, whose own
  // rejection is as rare, so the calls nest only a level or two deep.
  return standard_normal();
}

Rng RngStreams::stream(std::string_view name) const {
  Rng r;
  r.seed_from(fnv1a64(name, fnv1a64_u64(seed_, 0xcbf29ce484222325ull)));
  return r;
}

Rng RngStreams::stream(std::string_view name, uint64_t index) const {
  // A separator byte that cannot occur in a name's text keeps ("a", 1) apart from any string name.
  uint64_t h = fnv1a64(name, fnv1a64_u64(seed_, 0xcbf29ce484222325ull));
  h = fnv1a64(std::string_view("\xff#", 2), h);
  h = fnv1a64_u64(index, h);
  Rng r;
  r.seed_from(h);
  return r;
}

}  // namespace fleetsim
