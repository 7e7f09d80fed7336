// SPDX-License-Identifier: Apache-2.0
// IndexBitset (sim/index_bitset.hpp) against std::set<uint32_t>, the structure it stands in for: the
// same members, the same answers to "first member at or after i", the same order of iteration.
#include "sim/index_bitset.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <random>
#include <set>
#include <vector>

namespace fleetsim {

TEST_CASE("index bitset: agrees with std::set under random inserts, erases and scans", "[sim][index_bitset]") {
  constexpr uint32_t n = 1000;  // not a multiple of 64: the last word is partial
  IndexBitset bits(n);
  std::set<uint32_t> ref;
  std::mt19937 gen(7);
  std::uniform_int_distribution<uint32_t> pick(0, n - 1);
  for (int step = 0; step < 20000; ++step) {
    const uint32_t i = pick(gen);
    if (step % 3 == 0) {
      CHECK(bits.erase(i) == (ref.erase(i) != 0));
    } else {
      CHECK(bits.insert(i) == ref.insert(i).second);
    }
    const uint32_t from = pick(gen);
    const auto it = ref.lower_bound(from);
    CHECK(bits.next(from) == (it == ref.end() ? IndexBitset::npos : *it));
    CHECK(bits.contains(from) == (ref.count(from) != 0));
  }
  const std::vector<uint32_t> got(bits.begin(), bits.end());
  CHECK(got == std::vector<uint32_t>(ref.begin(), ref.end()));
  CHECK(bits.next(n) == IndexBitset::npos);
}

TEST_CASE("index bitset: a sparse set over many words skips the empty ones exactly", "[sim][index_bitset]") {
  // 300,001 indices: 4,688 words and 74 summary words (the second level), a few hundred members, so
  // next() mostly crosses empty words and summary words. Members cluster in runs, as a pool's nodes do.
  constexpr uint32_t n = 300'001;
  IndexBitset bits(n);
  std::set<uint32_t> ref;
  std::mt19937 gen(11);
  std::uniform_int_distribution<uint32_t> pick(0, n - 1), run(1, 70);
  for (int step = 0; step < 4000; ++step) {
    const uint32_t i = pick(gen);
    const uint32_t len = run(gen);
    for (uint32_t k = i; k < std::min(n, i + len); ++k) {
      if (step % 2 == 0) {
        CHECK(bits.erase(k) == (ref.erase(k) != 0));
      } else {
        CHECK(bits.insert(k) == ref.insert(k).second);
      }
    }
    for (int q = 0; q < 4; ++q) {
      const uint32_t from = q == 0 ? 0 : pick(gen);
      const auto it = ref.lower_bound(from);
      CHECK(bits.next(from) == (it == ref.end() ? IndexBitset::npos : *it));
    }
  }
  CHECK(std::vector<uint32_t>(bits.begin(), bits.end()) == std::vector<uint32_t>(ref.begin(), ref.end()));
  CHECK(bits.insert(n - 1));
  CHECK(bits.next(n - 1) == n - 1);
  CHECK(bits.erase(n - 1));
  CHECK(bits.next(n - 1) == IndexBitset::npos);
}

TEST_CASE("index bitset: an empty set and the ends of words", "[sim][index_bitset]") {
  IndexBitset bits(128);
  CHECK(bits.begin() == bits.end());
  CHECK(bits.next(0) == IndexBitset::npos);
  CHECK(bits.insert(63));
  CHECK(bits.insert(64));
  CHECK_FALSE(bits.insert(64));
  CHECK(bits.next(0) == 63);
  CHECK(bits.next(64) == 64);
  CHECK(bits.next(65) == IndexBitset::npos);
  auto u = bits.lower_bound(10);
  CHECK(*u == 63);
  ++u;
  CHECK(*u == 64);
  ++u;
  CHECK(u == bits.end());
}

}  // namespace fleetsim
