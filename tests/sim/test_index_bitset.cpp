// SPDX-License-Identifier: Apache-2.0
// IndexBitset (sim/index_bitset.hpp) against std::set<uint32_t>, the structure it stands in for: the
// same members, the same answers to "first member at or after i", the same order of iteration.
#include "sim/index_bitset.hpp"

#include <catch2/catch.hpp>

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
