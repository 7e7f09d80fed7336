// SPDX-License-Identifier: Apache-2.0
// EventQueue against a reference ordering: a std::priority_queue with the same tie rule (time, then
// phase | sequence | slot), over random and adversarial time patterns; the bucket storage's memory
// bound; remove_if and sort_and_visit over buckets of many blocks.
#include "sim/event_queue.hpp"
#include "sim/rng.hpp"

#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <functional>
#include <queue>
#include <set>
#include <string>
#include <utility>
#include <vector>

using fleetsim::EventQueue;
using fleetsim::QueueKey;
using fleetsim::Rng;

namespace {

struct Later {
  bool operator()(const QueueKey& a, const QueueKey& b) const { return b < a; }
};
using Reference = std::priority_queue<QueueKey, std::vector<QueueKey>, Later>;

// How far after `now` a pushed key lands: each pattern is one the queue's paths handle differently.
enum class Pattern { Dense, Exp1us, Exp1s, Const, Bimodal, Lognormal, HugeGaps, Bursts, Clusters };

const char* name(Pattern p) {
  switch (p) {
    case Pattern::Dense: return "dense (delays 0..3 ns)";
    case Pattern::Exp1us: return "exponential, mean 1 us";
    case Pattern::Exp1s: return "exponential, mean 1 s";
    case Pattern::Const: return "constant delay (FIFO)";
    case Pattern::Bimodal: return "bimodal 1 ns / 1 ms";
    case Pattern::Lognormal: return "lognormal, sigma 3";
    case Pattern::HugeGaps: return "huge gaps up to 2^62";
    case Pattern::Bursts: return "bursts at the current instant";
    case Pattern::Clusters: return "clusters of 1 to 1,500 keys far ahead";
  }
  return "";
}

class Driver {
 public:
  Driver(Pattern p, uint64_t seed) : pattern_(p), rng_(seed) {}

  // The times of the next keys to push (a cluster pattern pushes many at once).
  void next_times(uint64_t now, std::vector<uint64_t>& out) {
    out.clear();
    switch (pattern_) {
      case Pattern::Dense:
        out.push_back(now + rng_.uniform_int(uint64_t{4}));
        break;
      case Pattern::Exp1us:
        out.push_back(now + static_cast<uint64_t>(std::llround(rng_.exponential(1.0) * 1e3)));
        break;
      case Pattern::Exp1s:
        out.push_back(now + static_cast<uint64_t>(std::llround(rng_.exponential(1.0) * 1e9)));
        break;
      case Pattern::Const:
        out.push_back(now + 1000);
        break;
      case Pattern::Bimodal:
        out.push_back(now + (rng_.bernoulli(0.5) ? rng_.uniform_int(uint64_t{2}) : 1'000'000 + rng_.uniform_int(uint64_t{1000})));
        break;
      case Pattern::Lognormal:
        out.push_back(now + static_cast<uint64_t>(std::llround(std::min(rng_.lognormal(6.0, 3.0), 1e15))));
        break;
      case Pattern::HugeGaps:
        out.push_back(now + (rng_.bernoulli(0.3) ? rng_.uniform_int(uint64_t{1} << 62) : rng_.uniform_int(uint64_t{16})));
        break;
      case Pattern::Bursts:
        // Now and then many keys at the current instant (as events scheduling at now), some later.
        for (uint64_t i = 0, n = rng_.bernoulli(0.01) ? 1 + rng_.uniform_int(uint64_t{300}) : 1; i < n; ++i) {
          out.push_back(rng_.bernoulli(0.9) ? now : now + 1 + rng_.uniform_int(uint64_t{50}));
        }
        break;
      case Pattern::Clusters: {
        // A batch of keys in a narrow window far ahead, so one bucket holds exactly them: sizes around
        // the whole-bucket limits (64, 1,024) and the block size (127), equal times included.
        const uint64_t base = now + (uint64_t{1} << (20 + rng_.uniform_int(uint64_t{20})));
        const uint64_t n = 1 + rng_.uniform_int(uint64_t{1500});
        const uint64_t width = uint64_t{1} << rng_.uniform_int(uint64_t{16});
        // Half the batches also put keys at a few times far from the rest (one range of a counting
        // pass holds many keys: the sort must not go quadratic or wrong).
        const bool split = rng_.bernoulli(0.5);
        for (uint64_t i = 0; i < n; ++i) {
          out.push_back(split && rng_.bernoulli(0.5) ? base + (uint64_t{1} << 19) + rng_.uniform_int(uint64_t{3})
                                                     : base + rng_.uniform_int(width));
        }
        break;
      }
    }
  }

  unsigned phase() { return static_cast<unsigned>(rng_.uniform_int(uint64_t{6})); }
  bool coin(double p) { return rng_.bernoulli(p); }

 private:
  Pattern pattern_;
  Rng rng_;
};

}  // namespace

TEST_CASE("EventQueue pops in the order of a std::priority_queue with the same tie rule", "[kernel][event-queue]") {
  const auto pattern = GENERATE(Pattern::Dense, Pattern::Exp1us, Pattern::Exp1s, Pattern::Const, Pattern::Bimodal,
                                Pattern::Lognormal, Pattern::HugeGaps, Pattern::Bursts, Pattern::Clusters);
  INFO("pattern: " << name(pattern));
  EventQueue q;
  Reference ref;
  Driver driver(pattern, 1000 + static_cast<uint64_t>(pattern));
  uint64_t seq = 0;
  uint64_t now = 0;
  std::vector<uint64_t> times;
  auto push_some = [&] {
    driver.next_times(now, times);
    for (const uint64_t t : times) {
      const QueueKey k{t, QueueKey::pack(driver.phase(), seq, static_cast<uint32_t>(seq & QueueKey::kSlotMask))};
      ++seq;
      q.push(k);
      ref.push(k);
    }
  };
  const int initial = pattern == Pattern::Clusters || pattern == Pattern::Bursts ? 40 : 20000;
  for (int i = 0; i < initial; ++i) push_some();
  size_t popped = 0;
  size_t peek_checked = 0;
  for (int step = 0; step < 150000 && !ref.empty(); ++step) {
    // Mostly pop one and push its successor (a steady population, as in PHOLD), sometimes only pop or
    // only push so the population drifts.
    const QueueKey* top = q.top_until(UINT64_MAX);
    REQUIRE(top != nullptr);
    REQUIRE(top->time == ref.top().time);
    REQUIRE(top->order == ref.top().order);
    REQUIRE(top->time >= now);
    now = top->time;
    const QueueKey* ahead = q.peek_ahead(1);
    const QueueKey expected_next = ahead != nullptr ? *ahead : QueueKey{};
    q.pop();
    ref.pop();
    ++popped;
    if (ahead != nullptr && !ref.empty()) {
      // peek_ahead(1) named the key that comes next when nothing is pushed in between.
      const QueueKey* next = q.top_until(UINT64_MAX);
      REQUIRE(next != nullptr);
      REQUIRE(next->time == expected_next.time);
      REQUIRE(next->order == expected_next.order);
      ++peek_checked;
    }
    // Patterns that push several keys at a time are capped so the population stays bounded.
    const bool room = ref.size() < 60000;
    if (!driver.coin(0.02) && room) push_some();
    if (driver.coin(0.02) && room) push_some();
    REQUIRE(q.size() == ref.size());
  }
  CHECK(popped > 1000);
  CHECK(peek_checked > 0);
  while (!ref.empty()) {
    const QueueKey* top = q.top_until(UINT64_MAX);
    REQUIRE(top != nullptr);
    REQUIRE(top->order == ref.top().order);
    q.pop();
    ref.pop();
  }
  CHECK(q.empty());
  CHECK(q.top_until(UINT64_MAX) == nullptr);
}

TEST_CASE("EventQueue keeps tie order for thousands of keys at one time across blocks", "[kernel][event-queue]") {
  // More keys at one instant than a block holds and than a whole bucket may have, pushed in shuffled
  // phases: they must come out by (phase, sequence) exactly.
  EventQueue q;
  Reference ref;
  Rng rng(11);
  for (uint64_t seq = 0; seq < 5000; ++seq) {
    const QueueKey k{uint64_t{1} << 40, QueueKey::pack(static_cast<unsigned>(rng.uniform_int(uint64_t{6})), seq, 0)};
    q.push(k);
    ref.push(k);
  }
  for (uint64_t seq = 5000; seq < 6000; ++seq) {  // and some just after
    const QueueKey k{(uint64_t{1} << 40) + 1 + rng.uniform_int(uint64_t{3}), QueueKey::pack(0, seq, 0)};
    q.push(k);
    ref.push(k);
  }
  while (!ref.empty()) {
    const QueueKey* top = q.top_until(UINT64_MAX);
    REQUIRE(top != nullptr);
    REQUIRE(top->time == ref.top().time);
    REQUIRE(top->order == ref.top().order);
    q.pop();
    ref.pop();
  }
  CHECK(q.empty());
}

TEST_CASE("EventQueue's bucket storage stays bounded by the pending keys over a long run", "[kernel][event-queue]") {
  // Blocks return to the pool when a bucket drains or is redistributed; a leak, or buckets keeping
  // their peak storage as they take turns holding most keys, would grow the pool past this bound.
  constexpr size_t kPending = 20000;
  for (const double mean : {1e3, 1e6, 1e9}) {
    EventQueue q;
    Rng rng(static_cast<uint64_t>(mean));
    uint64_t seq = 0;
    uint64_t now = 0;
    auto delay = [&] { return static_cast<uint64_t>(std::llround(rng.exponential(1.0) * mean)); };
    for (size_t i = 0; i < kPending; ++i) q.push(QueueKey{delay(), QueueKey::pack(3, seq++, 0)});
    for (int step = 0; step < 1'000'000; ++step) {
      const QueueKey* top = q.top_until(UINT64_MAX);
      REQUIRE(top != nullptr);
      now = top->time;
      q.pop();
      q.push(QueueKey{now + delay(), QueueKey::pack(3, seq++, 0)});
    }
    // One block per block_keys() pending keys, one partly filled block per bucket (16 levels of 16),
    // one slab of 64 blocks of growth.
    const size_t bound = kPending / EventQueue::block_keys() + 1 + 256 + 64;
    INFO("mean delay " << mean << " ns: " << q.pool_blocks() << " blocks");
    CHECK(q.pool_blocks() <= bound);
  }
}

TEST_CASE("EventQueue remove_if and sort_and_visit over buckets of many blocks", "[kernel][event-queue]") {
  EventQueue q;
  std::set<std::pair<uint64_t, uint64_t>> ref;
  Rng rng(5);
  uint64_t seq = 0;
  for (int i = 0; i < 30000; ++i) {
    // Half the keys in one narrow window (one bucket of many blocks), the rest spread widely.
    const uint64_t t = rng.bernoulli(0.5) ? (uint64_t{1} << 30) + rng.uniform_int(uint64_t{1} << 12)
                                          : rng.uniform_int(uint64_t{1} << 44);
    const QueueKey k{t, QueueKey::pack(static_cast<unsigned>(rng.uniform_int(uint64_t{6})), seq++, 0)};
    q.push(k);
    ref.emplace(k.time, k.order);
  }
  // Pop a few so the front is part-consumed, then drop every third sequence.
  for (int i = 0; i < 100; ++i) {
    const QueueKey* top = q.top_until(UINT64_MAX);
    REQUIRE(top != nullptr);
    REQUIRE(std::make_pair(top->time, top->order) == *ref.begin());
    q.pop();
    ref.erase(ref.begin());
  }
  size_t calls = 0;
  q.remove_if([&calls](const QueueKey& k) {
    ++calls;
    return k.seq() % 3 == 0;
  });
  CHECK(calls == ref.size());
  for (auto it = ref.begin(); it != ref.end();) {
    it = ((it->second >> QueueKey::kSlotBits) & QueueKey::kSeqMask) % 3 == 0 ? ref.erase(it) : std::next(it);
  }
  REQUIRE(q.size() == ref.size());
  // sort_and_visit sees every key once, in order; renumbering by rank keeps the order.
  std::vector<std::pair<uint64_t, uint64_t>> visited;
  q.sort_and_visit([&visited](QueueKey& k, size_t rank) {
    visited.emplace_back(k.time, k.order);
    k.set_seq(rank);
  });
  CHECK(std::equal(visited.begin(), visited.end(), ref.begin(), ref.end()));
  size_t rank = 0;
  auto it = ref.begin();
  while (const QueueKey* top = q.top_until(UINT64_MAX)) {
    REQUIRE(it != ref.end());
    REQUIRE(top->time == it->first);
    REQUIRE(top->seq() == rank);
    REQUIRE(top->phase() == (it->second >> QueueKey::kPhaseShift));
    q.pop();
    ++it;
    ++rank;
  }
  CHECK(it == ref.end());
}
