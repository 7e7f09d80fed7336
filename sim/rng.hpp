// SPDX-License-Identifier: Apache-2.0
// Random numbers: independent named streams derived from (scenario seed, stream name), and portable
// distributions computed by our own code.
//
//   RngStreams streams(42);
//   Rng rng = streams.stream("failures/gpu");          // same (seed, name): same draws, always
//   Duration ttf = Duration::from_seconds(rng.exponential(1.0 / mtbf_s));
//   Rng node_rng = streams.stream("node", 17);          // indexed streams without string formatting
//
// Generator: xoshiro256** (Blackman and Vigna, "Scrambled linear pseudorandom number generators",
// ACM TOMS 2021). Chosen because it is among the fastest 64-bit generators (a few shifts, rotates and
// one multiply per draw, no 128-bit arithmetic as PCG64 needs), passes BigCrush and PractRand, has a
// period of 2^256 - 1 (so streams seeded at random points never overlap in practice), and is seeded
// cheaply: four SplitMix64 outputs, the seeding its authors recommend. Its known weakness (low
// linear complexity of the lowest bits of the ++/+ variants) does not affect the ** scrambler, and we
// take the upper 53 bits for doubles anyway.
//
// Streams: the 256-bit state of stream (seed, name) is SplitMix64 expanded from a 64-bit FNV-1a hash
// of the seed's eight bytes (little-endian) followed by the name's bytes. A stream depends on nothing
// but its own (seed, name), so adding a stream, or drawing from another one, never changes its draws.
//
// Distributions are written here, not taken from <random>, whose algorithms are implementation-defined
// (libstdc++ and libc++ give different normal draws for the same engine). The only platform inputs left
// are the C library's log, log1p, exp and pow (sqrt is exact by IEEE 754): they are not required to be
// correctly rounded, so a different C library could change a last bit. Same binary platform (Debian 12,
// glibc, x86-64): identical draws.
#pragma once

#include <bit>
#include <cmath>
#include <cstdint>
#include <iterator>
#include <limits>
#include <string_view>
#include <utility>

#include "sim/normal_ziggurat.hpp"

namespace fleetsim {

/// A xoshiro256** generator with portable distributions. Copyable: a copy continues the same sequence.
class Rng {
 public:
  /// Seeds from one 64-bit value through SplitMix64. Prefer RngStreams::stream for model code.
  explicit Rng(uint64_t seed);

  /// The next 64 random bits.
  uint64_t next_u64() {
    const uint64_t result = rotl(s_[1] * 5, 7) * 9;
    const uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return result;
  }

  /// Uniform in [0, 1), a multiple of 2^-53 (all 53 mantissa bits random).
  double uniform01() { return static_cast<double>(next_u64() >> 11) * 0x1.0p-53; }
  /// Uniform in (0, 1]: never 0, so log() of it is finite.
  double uniform01_open_low() { return static_cast<double>((next_u64() >> 11) + 1) * 0x1.0p-53; }
  /// Uniform in [lo, hi).
  double uniform(double lo, double hi) { return lo + (hi - lo) * uniform01(); }
  /// Uniform integer in [0, n), unbiased (Lemire's multiply-and-reject). n must be > 0.
  uint64_t uniform_int(uint64_t n) {
    // Inline for the common case (one draw, no rejection test); the rest is out of line.
    if (n == 0) [[unlikely]] throw_zero_range();
    const U128 m = static_cast<U128>(next_u64()) * n;
    if (static_cast<uint64_t>(m) < n) [[unlikely]] return uniform_int_retry(n, m);
    return static_cast<uint64_t>(m >> 64);
  }
  /// Uniform integer in [lo, hi], inclusive. Requires lo <= hi.
  int64_t uniform_int(int64_t lo, int64_t hi);
  /// True with probability p.
  bool bernoulli(double p) { return uniform01() < p; }

  /// Exponential with the given rate (> 0; mean 1/rate), by inversion.
  double exponential(double rate) {
    if (!(rate > 0.0 && rate <= std::numeric_limits<double>::max())) [[unlikely]] throw_bad_rate(rate);
    // -log(U) with U in (0, 1]: finite, and 0 only when U == 1.
    return -std::log(uniform01_open_low()) / rate;
  }
  /// Weibull with shape k (> 0) and scale lambda (> 0): CDF 1 - exp(-(x/lambda)^k), by inversion.
  double weibull(double shape, double scale);
  /// Normal with the given mean and sd (>= 0, finite), by the ziggurat method: one 64-bit draw per
  /// value in about 99% of calls (see standard_normal).
  double normal(double mean = 0.0, double sd = 1.0) {
    if (!(sd >= 0.0 && sd <= std::numeric_limits<double>::max())) [[unlikely]] throw_bad_sd(sd);
    return mean + sd * standard_normal();
  }
  /// exp(normal(mu, sigma)): mu and sigma are the mean and sd of the logarithm.
  double lognormal(double mu, double sigma) { return std::exp(normal(mu, sigma)); }
  /// N(0, 1) by the ziggurat method (sim/normal_ziggurat.hpp). One draw gives the layer (bits 0-7),
  /// the sign (bit 8) and the point in the layer (bits 11-63, 53 bits), so they are independent.
  /// Marsaglia's polar method, used before, spent a logarithm, a division and a square root on every
  /// pair and rejected a fifth of its points: the lognormal draw took a third of PHOLD with lognormal
  /// delays (docs/PERFORMANCE.md, "A ziggurat for the normal draw").
  double standard_normal() {
    const NormalZiggurat& z = normal_ziggurat();
    const uint64_t u = next_u64();
    const unsigned layer = static_cast<unsigned>(u) & (NormalZiggurat::kLayers - 1);
    const double x = static_cast<double>(u >> 11) * 0x1.0p-53 * z.x[layer];
    if (x < z.x[layer + 1]) [[likely]] return with_sign(x, u);
    return normal_edge(u, x);
  }

  /// Fisher-Yates shuffle with uniform_int (std::shuffle's algorithm is implementation-defined).
  template <class RandomIt>
  void shuffle(RandomIt first, RandomIt last) {
    const auto n = static_cast<uint64_t>(std::distance(first, last));
    for (uint64_t i = n; i > 1; --i) {
      const uint64_t j = uniform_int(i);
      using std::swap;
      swap(first[static_cast<std::ptrdiff_t>(i - 1)], first[static_cast<std::ptrdiff_t>(j)]);
    }
  }

  // UniformRandomBitGenerator, for code that needs one (do not feed it to std:: distributions).
  using result_type = uint64_t;
  static constexpr uint64_t min() { return 0; }
  static constexpr uint64_t max() { return UINT64_MAX; }
  uint64_t operator()() { return next_u64(); }

 private:
  friend class RngStreams;
  Rng() = default;
  static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  __extension__ typedef unsigned __int128 U128;  // __extension__: a GCC/Clang type, quiet under -Wpedantic
  // The cold parts of the inline draws above.
  [[noreturn]] static void throw_zero_range();
  [[noreturn]] static void throw_bad_rate(double rate);
  [[noreturn]] static void throw_bad_sd(double sd);
  // x with the sign bit 8 of u gives (without a branch: the sign is a coin toss).
  static double with_sign(double x, uint64_t u) {
    return std::bit_cast<double>(std::bit_cast<uint64_t>(x) | ((u & 0x100) << 55));
  }
  // The rest of standard_normal: the point x of draw u is in a wedge or in the tail.
  double normal_edge(uint64_t u, double x);
  // Lemire's rejection: the first product's low word fell below n; 2^64 mod n decides.
  uint64_t uniform_int_retry(uint64_t n, U128 m);
  void seed_from(uint64_t key);

  uint64_t s_[4] = {0, 0, 0, 0};
};

/// The family of streams of one run: RngStreams(seed).stream(name) is a pure function of (seed, name).
class RngStreams {
 public:
  explicit RngStreams(uint64_t seed) : seed_(seed) {}
  uint64_t seed() const { return seed_; }
  /// The stream named `name` ("failures/gpu", "inference/chat/arrivals").
  Rng stream(std::string_view name) const;
  /// The stream for entity `index` of family `name`; equal to no string-named stream in practice.
  Rng stream(std::string_view name, uint64_t index) const;

 private:
  uint64_t seed_;
};

/// 64-bit FNV-1a over bytes, continuing from `h` (pass the offset basis to start).
uint64_t fnv1a64(std::string_view bytes, uint64_t h = 0xcbf29ce484222325ull);
/// The SplitMix64 step: advances `state` and returns a well-mixed 64-bit value.
uint64_t splitmix64(uint64_t& state);

}  // namespace fleetsim
