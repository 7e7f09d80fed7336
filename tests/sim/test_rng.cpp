// SPDX-License-Identifier: Apache-2.0
// RNG streams: reproducibility, independence of streams, and the distributions' shapes.
#include "sim/rng.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

using fleetsim::Rng;
using fleetsim::RngStreams;

namespace {
std::vector<uint64_t> draws(Rng rng, int n) {
  std::vector<uint64_t> out;
  for (int i = 0; i < n; ++i) out.push_back(rng.next_u64());
  return out;
}
}  // namespace

TEST_CASE("same seed and name give the same sequence", "[rng]") {
  const RngStreams a(42);
  const RngStreams b(42);
  CHECK(draws(a.stream("failures/gpu"), 100) == draws(b.stream("failures/gpu"), 100));
  CHECK(draws(a.stream("node", 17), 100) == draws(b.stream("node", 17), 100));
}

TEST_CASE("different names indices or seeds give different sequences", "[rng]") {
  const RngStreams s(42);
  const auto base = draws(s.stream("failures/gpu"), 16);
  CHECK(base != draws(s.stream("failures/nic"), 16));
  CHECK(base != draws(s.stream("failures/gpu "), 16));
  CHECK(base != draws(RngStreams(43).stream("failures/gpu"), 16));
  CHECK(draws(s.stream("node", 1), 16) != draws(s.stream("node", 2), 16));
  CHECK(draws(s.stream("node", 1), 16) != draws(s.stream("node"), 16));
  // Seed 0 and an empty name are ordinary inputs, not degenerate ones.
  const auto zero = draws(RngStreams(0).stream(""), 4);
  CHECK(std::count(zero.begin(), zero.end(), uint64_t{0}) == 0);
}

TEST_CASE("adding or drawing from another stream leaves a stream unchanged", "[rng]") {
  const RngStreams s(2025);
  const auto alone = draws(s.stream("workload/train"), 64);
  // A run that also creates and uses other streams, before and in between.
  Rng other = s.stream("failures/rack");
  for (int i = 0; i < 1000; ++i) other.next_u64();
  Rng target = s.stream("workload/train");
  Rng third = s.stream("inference/arrivals");
  std::vector<uint64_t> interleaved;
  for (int i = 0; i < 64; ++i) {
    interleaved.push_back(target.next_u64());
    third.exponential(3.0);
    other.normal();
  }
  CHECK(interleaved == alone);
}

TEST_CASE("a copied generator continues the same sequence", "[rng]") {
  Rng a = RngStreams(1).stream("x");
  a.next_u64();
  Rng b = a;
  CHECK(draws(a, 10) == draws(b, 10));
}

TEST_CASE("uniform01 lies in the unit interval with mean one half", "[rng]") {
  Rng rng = RngStreams(3).stream("u");
  double sum = 0.0;
  const int n = 200000;
  for (int i = 0; i < n; ++i) {
    const double u = rng.uniform01();
    REQUIRE(u >= 0.0);
    REQUIRE(u < 1.0);
    sum += u;
  }
  // sd of the mean is sqrt(1/12 / n) = 0.000645; allow 5 sd.
  CHECK(std::abs(sum / n - 0.5) < 5 * 0.000645);
}

TEST_CASE("uniform integers are unbiased across buckets", "[rng]") {
  Rng rng = RngStreams(4).stream("int");
  CHECK(rng.uniform_int(uint64_t{1}) == 0);
  CHECK_THROWS_AS(rng.uniform_int(uint64_t{0}), std::invalid_argument);
  const uint64_t k = 7;
  const int n = 140000;
  std::vector<int> counts(k, 0);
  for (int i = 0; i < n; ++i) {
    const uint64_t v = rng.uniform_int(k);
    REQUIRE(v < k);
    ++counts[v];
  }
  // Chi-square with 6 degrees of freedom; P(X > 22.46) = 0.001.
  const double expected = static_cast<double>(n) / static_cast<double>(k);
  double chi2 = 0.0;
  for (int c : counts) chi2 += (c - expected) * (c - expected) / expected;
  CHECK(chi2 < 22.46);
  for (int i = 0; i < 1000; ++i) {
    const int64_t v = rng.uniform_int(int64_t{-3}, int64_t{3});
    REQUIRE(v >= -3);
    REQUIRE(v <= 3);
  }
  // A range near 2^64 exercises the rejection threshold.
  const uint64_t big = (uint64_t{1} << 63) + 12345;
  for (int i = 0; i < 1000; ++i) REQUIRE(rng.uniform_int(big) < big);
}

TEST_CASE("exponential mean lies within its confidence interval", "[rng]") {
  Rng rng = RngStreams(5).stream("exp");
  const double rate = 2.0;
  const int n = 400000;
  double sum = 0.0;
  for (int i = 0; i < n; ++i) {
    const double x = rng.exponential(rate);
    REQUIRE(x >= 0.0);
    REQUIRE(std::isfinite(x));
    sum += x;
  }
  // Mean 1/rate = 0.5, sd of the mean 0.5 / sqrt(n) = 0.00079; allow 5 sd.
  CHECK(std::abs(sum / n - 0.5) < 5 * 0.5 / std::sqrt(n));
  CHECK_THROWS_AS(rng.exponential(0.0), std::invalid_argument);
  CHECK_THROWS_AS(rng.exponential(-1.0), std::invalid_argument);
}

TEST_CASE("weibull draws follow the weibull CDF", "[rng]") {
  Rng rng = RngStreams(6).stream("weibull");
  const double shape = 1.5;
  const double scale = 3.0;
  const int n = 200000;
  std::vector<double> xs(n);
  for (auto& x : xs) x = rng.weibull(shape, scale);
  std::sort(xs.begin(), xs.end());
  // Empirical CDF against F(x) = 1 - exp(-(x/scale)^shape) at several points; the binomial sd of the
  // empirical CDF is sqrt(F(1-F)/n) <= 0.0011, allow 5 sd.
  for (double x : {0.5, 1.0, 2.0, 3.0, 4.5, 7.0}) {
    const double f = 1.0 - std::exp(-std::pow(x / scale, shape));
    const double emp =
        static_cast<double>(std::lower_bound(xs.begin(), xs.end(), x) - xs.begin()) / static_cast<double>(n);
    INFO("x " << x << " F " << f << " empirical " << emp);
    CHECK(std::abs(emp - f) < 5 * std::sqrt(f * (1 - f) / n));
  }
  CHECK_THROWS_AS(rng.weibull(0.0, 1.0), std::invalid_argument);
}

// The normal draw itself: tests/sim/test_rng_normal.cpp.
TEST_CASE("lognormal's median is exp(mu)", "[rng]") {
  Rng rng = RngStreams(8).stream("normal");
  const int n = 200000;
  std::vector<double> ys(n);
  for (auto& y : ys) y = rng.lognormal(1.0, 0.5);
  std::nth_element(ys.begin(), ys.begin() + n / 2, ys.end());
  CHECK(std::abs(ys[n / 2] - std::exp(1.0)) < 0.02);
}

TEST_CASE("shuffle is a deterministic permutation", "[rng]") {
  std::vector<int> a(50);
  for (int i = 0; i < 50; ++i) a[i] = i;
  std::vector<int> b = a;
  Rng r1 = RngStreams(9).stream("shuffle");
  Rng r2 = RngStreams(9).stream("shuffle");
  r1.shuffle(a.begin(), a.end());
  r2.shuffle(b.begin(), b.end());
  CHECK(a == b);
  std::vector<int> sorted = a;
  std::sort(sorted.begin(), sorted.end());
  for (int i = 0; i < 50; ++i) REQUIRE(sorted[i] == i);
  CHECK(a != sorted);
}

TEST_CASE("stream derivation is pinned so results stay reproducible across versions", "[rng]") {
  // Changing the hash, the seeding or the generator changes every scenario's results: this test makes
  // such a change deliberate. Values computed by this implementation (xoshiro256** matches the
  // reference outputs 11520, 0, 1509978240 ... for state {1, 2, 3, 4}).
  Rng rng = RngStreams(42).stream("golden");
  CHECK(rng.next_u64() == 0x1b62d2f8dee0c2a5ull);
  CHECK(rng.next_u64() == 0x74e82c83b6163d73ull);
  CHECK(rng.next_u64() == 0x45b56118eb8c7e96ull);
  CHECK(rng.exponential(1.0) == 0.42944521020064275);
}
