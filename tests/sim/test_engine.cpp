// SPDX-License-Identifier: Apache-2.0
// The engine: ordering, cancellation, horizons, stop, fingerprints, and agreement with a reference
// model built on std::set; plus EventFn, the callback type it stores.
#include "sim/engine.hpp"
#include "sim/event_queue.hpp"
#include "sim/rng.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <memory>
#include <set>
#include <stdexcept>
#include <string>
#include <tuple>
#include <vector>

using fleetsim::Duration;
using fleetsim::Engine;
using fleetsim::EngineTestAccess;
using fleetsim::EventFn;
using fleetsim::EventHandle;
using fleetsim::Phase;
using fleetsim::Rng;
using fleetsim::SimTime;
using fleetsim::StopReason;

namespace {
SimTime at_h(int64_t hours) { return SimTime::zero() + Duration::hours(hours); }
SimTime at_ns(int64_t ns) { return SimTime::from_ticks(ns); }
}  // namespace

TEST_CASE("events at one instant run in phase order", "[kernel]") {
  Engine eng;
  std::vector<Phase> ran;
  for (Phase p : {Phase::Sample, Phase::Arrival, Phase::Failure, Phase::Control, Phase::Repair, Phase::Completion}) {
    eng.schedule_at(at_h(1), p, [&ran, p] { ran.push_back(p); });
  }
  eng.run(SimTime::max());
  CHECK(ran == std::vector<Phase>{Phase::Failure, Phase::Repair, Phase::Completion, Phase::Arrival, Phase::Control,
                                  Phase::Sample});
}

TEST_CASE("events at one instant and phase run in scheduling order", "[kernel]") {
  Engine eng;
  std::vector<int> ran;
  for (int i = 0; i < 100; ++i) {
    // Interleave another phase and a later time so FIFO is not an accident of insertion order alone.
    eng.schedule_at(at_h(2), Phase::Arrival, [&ran, i] { ran.push_back(1000 + i); });
    eng.schedule_at(at_h(1), Phase::Completion, [&ran, i] { ran.push_back(i); });
  }
  eng.run(SimTime::max());
  REQUIRE(ran.size() == 200);
  for (int i = 0; i < 100; ++i) {
    CHECK(ran[static_cast<size_t>(i)] == i);
    CHECK(ran[static_cast<size_t>(100 + i)] == 1000 + i);
  }
}

TEST_CASE("an event at the current instant with an earlier phase runs next", "[kernel]") {
  Engine eng;
  std::vector<std::string> ran;
  eng.schedule_at(at_h(1), Phase::Arrival, [&] {
    ran.emplace_back("A");
    eng.schedule_in(Duration::zero(), Phase::Sample, [&] { ran.emplace_back("S"); });
    eng.schedule_in(Duration::zero(), Phase::Failure, [&] { ran.emplace_back("F"); });
  });
  eng.schedule_at(at_h(1), Phase::Arrival, [&] { ran.emplace_back("B"); });
  eng.run(SimTime::max());
  CHECK(ran == std::vector<std::string>{"A", "F", "B", "S"});
}

TEST_CASE("a cancelled event never runs", "[kernel]") {
  Engine eng;
  int runs = 0;
  const EventHandle h = eng.schedule_at(at_h(1), Phase::Failure, [&] { ++runs; });
  eng.schedule_at(at_h(2), Phase::Failure, [&] { runs += 10; });
  CHECK(eng.pending(h));
  CHECK(eng.pending_count() == 2);
  CHECK(eng.cancel(h));
  CHECK_FALSE(eng.pending(h));
  CHECK_FALSE(eng.cancel(h));  // twice
  CHECK(eng.pending_count() == 1);
  const auto r = eng.run(SimTime::max());
  CHECK(runs == 10);
  CHECK(r.events == 1);
  CHECK(eng.events_executed() == 1);
}

TEST_CASE("cancel after the event ran returns false", "[kernel]") {
  Engine eng;
  const EventHandle h = eng.schedule_at(at_h(1), Phase::Failure, [] {});
  eng.run(SimTime::max());
  CHECK_FALSE(eng.pending(h));
  CHECK_FALSE(eng.cancel(h));
}

TEST_CASE("a default handle is a no-op to cancel", "[kernel]") {
  Engine eng;
  const EventHandle none;
  CHECK_FALSE(none.valid());
  CHECK_FALSE(eng.cancel(none));
  CHECK_FALSE(eng.pending(none));
  CHECK_FALSE(eng.cancel(EventHandle{12345, 0}));  // a slot that does not exist
}

TEST_CASE("a stale handle does not cancel the event that reuses its slot", "[kernel]") {
  Engine eng;
  int runs = 0;
  SECTION("after the first event ran") {
    const EventHandle first = eng.schedule_at(at_h(1), Phase::Arrival, [] {});
    eng.run(at_h(1));
    const EventHandle second = eng.schedule_at(at_h(2), Phase::Arrival, [&] { ++runs; });
    REQUIRE(second.slot == first.slot);  // the slot was recycled
    CHECK(second.generation != first.generation);
    CHECK_FALSE(eng.cancel(first));
    CHECK(eng.pending(second));
  }
  SECTION("after the first event was cancelled and its key dropped") {
    const EventHandle first = eng.schedule_at(at_h(1), Phase::Arrival, [] {});
    REQUIRE(eng.cancel(first));
    eng.run(at_h(1));
    const EventHandle second = eng.schedule_at(at_h(2), Phase::Arrival, [&] { ++runs; });
    REQUIRE(second.slot == first.slot);
    CHECK_FALSE(eng.cancel(first));
  }
  eng.run(SimTime::max());
  CHECK(runs == 1);
}

TEST_CASE("scheduling in the past throws and names both times", "[kernel]") {
  using Catch::Matchers::Contains;
  Engine eng;
  eng.schedule_at(at_h(5), Phase::Arrival, [] {});
  eng.run(SimTime::max());
  REQUIRE(eng.now() == at_h(5));
  CHECK_THROWS_AS(eng.schedule_at(at_h(3), Phase::Arrival, [] {}), std::logic_error);
  CHECK_THROWS_WITH(eng.schedule_at(at_h(3), Phase::Arrival, [] {}), Contains("3h") && Contains("5h"));
  CHECK_THROWS_WITH(eng.schedule_in(-Duration::s(1), Phase::Arrival, [] {}), Contains("negative delay -1s"));
  CHECK(eng.pending_count() == 0);
  // At now is fine.
  CHECK_NOTHROW(eng.schedule_at(at_h(5), Phase::Arrival, [] {}));
}

TEST_CASE("invalid callbacks and kinds are rejected", "[kernel]") {
  Engine eng;
  CHECK_THROWS_AS(eng.schedule_at(at_h(1), Phase::Arrival, EventFn{}), std::invalid_argument);
  CHECK_THROWS_AS(eng.schedule_at(at_h(1), Phase::Arrival, [] {}, fleetsim::EventKind{7}), std::invalid_argument);
  CHECK(eng.pending_count() == 0);
}

TEST_CASE("run stops at the horizon and can resume", "[kernel]") {
  Engine eng;
  std::vector<int64_t> ran;
  for (int h : {1, 2, 3}) eng.schedule_at(at_h(h), Phase::Arrival, [&eng, &ran] { ran.push_back(eng.now().ticks()); });

  auto r = eng.run(at_h(2));  // an event exactly at the horizon runs
  CHECK(r.reason == StopReason::Horizon);
  CHECK(r.events == 2);
  CHECK(r.reached == at_h(2));
  CHECK(eng.now() == at_h(2));

  r = eng.run(at_h(2) + Duration::minutes(30));  // nothing due: time still advances to the horizon
  CHECK(r.reason == StopReason::Horizon);
  CHECK(r.events == 0);
  CHECK(eng.now() == at_h(2) + Duration::minutes(30));

  // Between runs, an event may be scheduled before the next pending one.
  eng.schedule_at(at_h(2) + Duration::minutes(40), Phase::Arrival,
                  [&eng, &ran] { ran.push_back(eng.now().ticks()); });

  r = eng.run(at_h(10));
  CHECK(r.reason == StopReason::Empty);
  CHECK(r.events == 2);
  CHECK(eng.now() == at_h(3));  // an empty queue leaves now at the last event
  CHECK(ran == std::vector<int64_t>{at_h(1).ticks(), at_h(2).ticks(),
                                    (at_h(2) + Duration::minutes(40)).ticks(), at_h(3).ticks()});
  CHECK_THROWS_AS(eng.run(at_h(1)), std::logic_error);
}

TEST_CASE("stop from inside an event returns after that event", "[kernel]") {
  Engine eng;
  std::vector<int> ran;
  eng.schedule_at(at_h(1), Phase::Arrival, [&] {
    ran.push_back(1);
    eng.stop();
  });
  eng.schedule_at(at_h(1), Phase::Arrival, [&] { ran.push_back(2); });
  eng.schedule_at(at_h(2), Phase::Arrival, [&] { ran.push_back(3); });
  auto r = eng.run(SimTime::max());
  CHECK(r.reason == StopReason::Stopped);
  CHECK(r.events == 1);
  CHECK(eng.now() == at_h(1));
  CHECK(ran == std::vector<int>{1});
  r = eng.run(SimTime::max());
  CHECK(r.reason == StopReason::Empty);
  CHECK(ran == std::vector<int>{1, 2, 3});
}

TEST_CASE("the periodic hook runs every N events and can stop the run", "[kernel]") {
  Engine eng;
  int fired = 0;
  for (int i = 0; i < 100; ++i) eng.schedule_at(at_ns(i), Phase::Arrival, [] {});
  eng.set_periodic_hook(10, [&] {
    ++fired;
    if (eng.events_executed() == 30) eng.stop();
  });
  const auto r = eng.run(SimTime::max());
  CHECK(r.reason == StopReason::Stopped);
  CHECK(r.events == 30);
  CHECK(fired == 4);  // at 10, 20 and 30 events, and once as run() returns
  eng.set_periodic_hook(0, nullptr);
  eng.run(SimTime::max());
  CHECK(fired == 4);
  CHECK(eng.events_executed() == 100);
}

TEST_CASE("an exception from an event propagates and the engine stays usable", "[kernel]") {
  Engine eng;
  int runs = 0;
  eng.schedule_at(at_h(1), Phase::Arrival, [] { throw std::runtime_error("boom"); });
  eng.schedule_at(at_h(2), Phase::Arrival, [&] { ++runs; });
  CHECK_THROWS_WITH(eng.run(SimTime::max()), "boom");
  CHECK(eng.now() == at_h(1));
  CHECK(eng.pending_count() == 1);
  eng.run(SimTime::max());
  CHECK(runs == 1);
}

TEST_CASE("event kinds are interned by name", "[kernel]") {
  Engine eng;
  const auto a = eng.register_kind("failure");
  const auto b = eng.register_kind("repair");
  CHECK(a != b);
  CHECK(eng.register_kind("failure") == a);
  CHECK(eng.kind_name(a) == "failure");
  CHECK(eng.kind_name(b) == "repair");
  CHECK(eng.kind_name(0) == "event");
  CHECK_NOTHROW(eng.schedule_at(at_h(1), Phase::Failure, [] {}, b));
}

namespace {
// Runs a fixed script of events and returns the fingerprint.
uint64_t script_fingerprint(bool swap_two, bool change_kind) {
  Engine eng;
  const auto fail = eng.register_kind("failure");
  const auto done = eng.register_kind("done");
  for (int i = 0; i < 50; ++i) {
    int64_t t = i;
    if (swap_two && i == 10) t = 11;
    if (swap_two && i == 11) t = 10;
    eng.schedule_at(at_ns(t * 1000), i % 2 == 0 ? Phase::Failure : Phase::Completion, [] {},
                    (change_kind && i == 20) ? done : (i % 2 == 0 ? fail : done));
  }
  eng.run(SimTime::max());
  return eng.fingerprint();
}
}  // namespace

TEST_CASE("the fingerprint identifies the executed event sequence", "[kernel]") {
  const uint64_t base = script_fingerprint(false, false);
  CHECK(base == script_fingerprint(false, false));
  CHECK(base != script_fingerprint(true, false));   // two events in the other order
  CHECK(base != script_fingerprint(false, true));   // one event of another kind
  Engine empty;
  CHECK(empty.fingerprint() != base);
}

TEST_CASE("random schedules and cancellations run in time phase sequence order", "[kernel]") {
  Rng rng(2024);
  Engine eng;
  struct Planned {
    int64_t time;
    unsigned phase;
    uint64_t seq;
    bool cancelled;
  };
  std::vector<Planned> plan;
  std::vector<EventHandle> handles;
  std::vector<uint64_t> ran;
  const int n = 20000;
  for (int i = 0; i < n; ++i) {
    // Few distinct times and every phase, so most events tie on time with many others.
    const auto t = static_cast<int64_t>(rng.uniform_int(uint64_t{500}) * 1000 + rng.uniform_int(uint64_t{3}));
    const auto p = static_cast<unsigned>(rng.uniform_int(uint64_t{6}));
    plan.push_back({t, p, static_cast<uint64_t>(i), false});
    const auto id = static_cast<uint64_t>(i);
    handles.push_back(eng.schedule_at(at_ns(t), static_cast<Phase>(p), [&ran, id] { ran.push_back(id); }));
  }
  for (int i = 0; i < n; ++i) {
    if (rng.bernoulli(0.3)) {
      REQUIRE(eng.cancel(handles[static_cast<size_t>(i)]));
      plan[static_cast<size_t>(i)].cancelled = true;
    }
  }
  eng.run(SimTime::max());
  std::vector<Planned> expected;
  for (const auto& p : plan) {
    if (!p.cancelled) expected.push_back(p);
  }
  std::sort(expected.begin(), expected.end(), [](const Planned& a, const Planned& b) {
    return std::tie(a.time, a.phase, a.seq) < std::tie(b.time, b.phase, b.seq);
  });
  REQUIRE(ran.size() == expected.size());
  for (size_t i = 0; i < ran.size(); ++i) REQUIRE(ran[i] == expected[i].seq);
}

namespace {
// A model run twice: on Engine and on a plain std::set reference. Each event, when it runs, draws
// from one RNG how many children to schedule (at now or later, any phase) and whether to cancel a
// random earlier event. The draws stay in step only while both execute the same sequence.
struct Script {
  Rng rng{99};
  std::vector<uint64_t> ran;
  std::vector<int> cancel_results;
  uint64_t scheduled = 0;
  static constexpr uint64_t kLimit = 30000;

  template <class Schedule, class Cancel>
  void on_event(uint64_t id, int64_t now, Schedule schedule, Cancel cancel) {
    ran.push_back(id);
    const uint64_t children = rng.uniform_int(uint64_t{3});
    for (uint64_t c = 0; c < children && scheduled < kLimit; ++c) {
      const int64_t delay = rng.bernoulli(0.3) ? 0 : static_cast<int64_t>(rng.uniform_int(uint64_t{4000}));
      const auto phase = static_cast<unsigned>(rng.uniform_int(uint64_t{6}));
      schedule(now + delay, phase, scheduled++);
    }
    if (rng.bernoulli(0.15) && scheduled > 0) cancel_results.push_back(cancel(rng.uniform_int(scheduled)) ? 1 : 0);
  }
};

struct EngineRun {
  Engine eng;
  Script script;
  std::vector<EventHandle> handles;

  void schedule(int64_t t, unsigned phase, uint64_t id) {
    REQUIRE(handles.size() == id);
    if (id % 3 == 0) {
      // Every third event with captures too large for a small slot, so both pools are exercised.
      const uint64_t pad[2] = {id, ~id};
      handles.push_back(eng.schedule_at(at_ns(t), static_cast<Phase>(phase), [this, id, pad] {
        REQUIRE(pad[0] == ~pad[1]);
        fire(id);
      }));
      REQUIRE_FALSE(EngineTestAccess::in_small_slot(handles.back()));
    } else {
      handles.push_back(eng.schedule_at(at_ns(t), static_cast<Phase>(phase), [this, id] { fire(id); }));
      REQUIRE(EngineTestAccess::in_small_slot(handles.back()));
    }
  }
  void fire(uint64_t id) {
    script.on_event(
        id, eng.now().ticks(), [this](int64_t t, unsigned p, uint64_t i) { schedule(t, p, i); },
        [this](uint64_t i) { return eng.cancel(handles[i]); });
  }
};

struct ReferenceRun {
  using Key = std::tuple<int64_t, unsigned, uint64_t>;  // (time, phase, id); ids are scheduling order
  std::set<Key> queue;
  std::vector<Key> keys;
  Script script;

  void schedule(int64_t t, unsigned phase, uint64_t id) {
    keys.emplace_back(t, phase, id);
    queue.insert(keys.back());
  }
  void run() {
    while (!queue.empty()) {
      const Key k = *queue.begin();
      queue.erase(queue.begin());
      script.on_event(
          std::get<2>(k), std::get<0>(k), [this](int64_t t, unsigned p, uint64_t i) { schedule(t, p, i); },
          [this](uint64_t i) { return queue.erase(keys[i]) == 1; });
    }
  }
};
}  // namespace

TEST_CASE("dynamic scheduling and cancelling match a reference model", "[kernel]") {
  EngineRun a;
  ReferenceRun b;
  // Seed events spread over a few distinct times and all phases.
  Rng seed_rng(5);
  for (uint64_t i = 0; i < 200; ++i) {
    const auto t = static_cast<int64_t>(seed_rng.uniform_int(uint64_t{50}) * 100);
    const auto p = static_cast<unsigned>(seed_rng.uniform_int(uint64_t{6}));
    a.schedule(t, p, i);
    b.schedule(t, p, i);
  }
  a.script.scheduled = b.script.scheduled = 200;
  a.eng.run(SimTime::max());
  b.run();
  CHECK(a.script.ran.size() > 10000);
  REQUIRE(a.script.ran.size() == b.script.ran.size());
  CHECK(a.script.ran == b.script.ran);
  CHECK(a.script.cancel_results == b.script.cancel_results);
  CHECK(a.eng.pending_count() == 0);
}

TEST_CASE("sequence renumbering keeps scheduling order across the limit", "[kernel]") {
  Engine eng;
  std::vector<int> ran;
  for (int i = 0; i < 10; ++i) eng.schedule_at(at_h(5), Phase::Arrival, [&ran, i] { ran.push_back(i); });
  eng.schedule_at(at_h(1), Phase::Arrival, [&] {
    // Scheduled while running, as in a long simulation, across the renumbering.
    for (int i = 10; i < 20; ++i) eng.schedule_at(at_h(5), Phase::Arrival, [&ran, i] { ran.push_back(i); });
  });
  EngineTestAccess::set_next_sequence(eng, EngineTestAccess::sequence_limit() - 3);
  for (int i = 20; i < 30; ++i) eng.schedule_at(at_h(5), Phase::Arrival, [&ran, i] { ran.push_back(i); });
  eng.run(SimTime::max());
  std::vector<int> expected(30);
  for (int i = 0; i < 30; ++i) expected[static_cast<size_t>(i)] = i < 10 ? i : (i < 20 ? i + 10 : i - 10);
  // Order: the first 10, then 20..29 (scheduled before the run), then 10..19 (scheduled at 1h).
  CHECK(ran == expected);
}

TEST_CASE("cancelled keys are compacted when they outnumber live events", "[kernel]") {
  Engine eng;
  std::vector<EventHandle> handles;
  for (int i = 0; i < 20000; ++i) handles.push_back(eng.schedule_at(at_h(100 + i), Phase::Arrival, [] {}));
  for (auto h : handles) REQUIRE(eng.cancel(h));
  CHECK(eng.pending_count() == 0);
  CHECK(EngineTestAccess::queued_keys(eng) < 10000);
  // Slots of compacted keys are reused.
  const EventHandle h = eng.schedule_at(at_h(1), Phase::Arrival, [] {});
  CHECK(h.slot < 20000);
  const auto r = eng.run(SimTime::max());
  CHECK(r.events == 1);
  CHECK(r.reason == StopReason::Empty);
}

TEST_CASE("small trivially copyable callbacks take 32-byte slots, others 64-byte ones, in one order", "[kernel]") {
  Engine eng;
  std::vector<int> ran;
  auto token = std::make_shared<int>(0);
  const uint64_t wide[3] = {1, 2, 3};
  // Alternate the two kinds of slot at one instant: they still run in scheduling order.
  std::vector<EventHandle> handles;
  for (int i = 0; i < 6; ++i) {
    if (i % 2 == 0) {
      handles.push_back(eng.schedule_at(at_h(1), Phase::Arrival, [&ran, i] { ran.push_back(i); }));
    } else {
      handles.push_back(eng.schedule_at(at_h(1), Phase::Arrival, [&ran, i, wide] {
        ran.push_back(i + static_cast<int>(wide[0] + wide[1] + wide[2]) - 6);
      }));
    }
  }
  for (size_t i = 0; i < handles.size(); ++i) CHECK(EngineTestAccess::in_small_slot(handles[i]) == (i % 2 == 0));
  // Not trivially copyable (owns a reference count), though 16 bytes: a 64-byte slot.
  const EventHandle owning = eng.schedule_at(at_h(2), Phase::Arrival, [token, &ran] { ran.push_back(*token); });
  CHECK_FALSE(EngineTestAccess::in_small_slot(owning));
  // An EventFn is type-erased: always a 64-byte slot.
  const EventHandle erased = eng.schedule_at(at_h(2), Phase::Arrival, EventFn([&ran] { ran.push_back(99); }));
  CHECK_FALSE(EngineTestAccess::in_small_slot(erased));
  // Cancelling one of each; a slot index shared by the two pools does not confuse the handles.
  REQUIRE(handles[0].slot != handles[1].slot);
  CHECK(eng.cancel(handles[2]));
  CHECK(eng.cancel(handles[3]));
  CHECK_FALSE(eng.pending(handles[2]));
  CHECK(eng.pending(handles[4]));
  CHECK(eng.pending(handles[5]));
  CHECK_FALSE(eng.cancel(handles[2]));
  eng.run(SimTime::max());
  CHECK(ran == std::vector<int>{0, 1, 4, 5, 0, 99});
  for (const EventHandle& h : handles) CHECK_FALSE(eng.pending(h));
  // Stale handles of both kinds do not cancel the events that reuse their slots.
  const EventHandle small_again = eng.schedule_in(Duration::hours(1), Phase::Arrival, [&ran] { ran.push_back(7); });
  const EventHandle large_again = eng.schedule_in(Duration::hours(1), Phase::Arrival,
                                                 [&ran, wide] { ran.push_back(static_cast<int>(wide[2]) + 5); });
  CHECK_FALSE(eng.cancel(handles[4]));
  CHECK_FALSE(eng.cancel(handles[5]));
  CHECK(eng.pending(small_again));
  CHECK(eng.pending(large_again));
  // A throwing small callback is reported like any other, and the engine goes on.
  eng.schedule_in(Duration::hours(1), Phase::Failure, [] { throw std::runtime_error("small boom"); });
  CHECK_THROWS_WITH(eng.run(SimTime::max()), Catch::Contains("small boom"));
  eng.run(SimTime::max());
  CHECK(ran == std::vector<int>{0, 1, 4, 5, 0, 99, 7, 8});
  CHECK(eng.pending_count() == 0);
}

TEST_CASE("times far apart and near the end of the range keep their order", "[kernel]") {
  Engine eng;
  std::vector<int> ran;
  eng.schedule_at(SimTime::max(), Phase::Sample, [&] { ran.push_back(4); });
  eng.schedule_at(at_ns(1), Phase::Arrival, [&] { ran.push_back(0); });
  eng.schedule_at(SimTime::max() - Duration::ns(1), Phase::Arrival, [&] { ran.push_back(3); });
  eng.schedule_at(SimTime::zero() + Duration::days(365 * 200), Phase::Arrival, [&] { ran.push_back(2); });
  eng.schedule_at(at_ns(2), Phase::Arrival, [&] { ran.push_back(1); });
  eng.run(SimTime::max());
  CHECK(ran == std::vector<int>{0, 1, 2, 3, 4});
  CHECK(eng.now() == SimTime::max());
}

TEST_CASE("callbacks with owning captures are destroyed when run or cancelled", "[kernel]") {
  auto token = std::make_shared<int>(7);
  Engine eng;
  const EventHandle a = eng.schedule_at(at_h(1), Phase::Arrival, [token] { CHECK(*token == 7); });
  eng.schedule_at(at_h(2), Phase::Arrival, [token, s = std::string(30, 'x')] { CHECK(s.size() == 30); });
  eng.schedule_at(at_h(3), Phase::Arrival, [token] {});
  CHECK(token.use_count() == 4);
  eng.cancel(a);
  CHECK(token.use_count() == 3);
  eng.run(at_h(2));
  CHECK(token.use_count() == 2);
  eng.run(SimTime::max());
  CHECK(token.use_count() == 1);
}

TEST_CASE("EventFn moves its callable and rejects calls when empty", "[kernel]") {
  auto token = std::make_shared<int>(0);
  EventFn f = [token] { ++*token; };
  f();
  EventFn g = std::move(f);
  CHECK_FALSE(static_cast<bool>(f));  // NOLINT(bugprone-use-after-move): moved-from is empty by contract
  g();
  CHECK(*token == 2);
  CHECK(token.use_count() == 2);
  g.reset();
  CHECK(token.use_count() == 1);
  CHECK_THROWS_AS(g(), std::logic_error);
  EventFn h;
  h = [] {};
  CHECK(static_cast<bool>(h));
  CHECK(sizeof(EventFn) == 56);
}

TEST_CASE("EventQueue pops keys in order after pushes before the current instant", "[kernel]") {
  fleetsim::EventQueue q;
  using fleetsim::QueueKey;
  for (uint64_t i = 0; i < 100; ++i) q.push(QueueKey{1000 + i * 7 % 50, QueueKey::pack(0, i, 0)});
  const QueueKey* top = q.top_until(UINT64_MAX);
  REQUIRE(top != nullptr);
  CHECK(top->time == 1000);
  q.pop();
  // Accepted although the engine never does it: a key before the current instant (rebuild path).
  q.push(QueueKey{10, QueueKey::pack(0, 1000, 0)});
  uint64_t prev_time = 0;
  size_t n = 0;
  while (const QueueKey* k = q.top_until(UINT64_MAX)) {
    CHECK(k->time >= prev_time);
    prev_time = k->time;
    q.pop();
    ++n;
  }
  CHECK(n == 100);
  CHECK(q.empty());
}

TEST_CASE("EventQueue matches a sorted reference under random monotone pushes", "[kernel]") {
  using fleetsim::QueueKey;
  // Mixes dense instants (many keys per time), sparse times over a wide range and pushes inside the
  // front's range, so every path runs: level-0 buckets, whole small buckets, redistribution, inserts.
  for (const uint64_t spread : {uint64_t{3}, uint64_t{1000}, uint64_t{1} << 40}) {
    fleetsim::EventQueue q;
    std::set<std::pair<uint64_t, uint64_t>> ref;
    Rng rng(spread);
    uint64_t seq = 0;
    uint64_t now = 0;
    auto push = [&] {
      const uint64_t t = now + (rng.bernoulli(0.2) ? 0 : rng.uniform_int(spread));
      const QueueKey k{t, QueueKey::pack(static_cast<unsigned>(rng.uniform_int(uint64_t{6})), seq++, 0)};
      q.push(k);
      ref.emplace(k.time, k.order);
    };
    for (int i = 0; i < 5000; ++i) push();
    for (int step = 0; step < 40000; ++step) {
      if (rng.bernoulli(0.5) || ref.empty()) {
        push();
        continue;
      }
      const QueueKey* top = q.top_until(UINT64_MAX);
      REQUIRE(top != nullptr);
      REQUIRE(top->time == ref.begin()->first);
      REQUIRE(top->order == ref.begin()->second);
      now = top->time;
      q.pop();
      ref.erase(ref.begin());
    }
    REQUIRE(q.size() == ref.size());
  }
}

TEST_CASE("EventQueue keeps the next events in view when times are sparse", "[kernel]") {
  // The engine prefetches the callback of the event 4 places ahead (peek_ahead); with one key per time
  // the front once held a single small bucket, so the next events were often unknown and every such
  // event waited on a cache miss (docs/PERFORMANCE.md, "Sparse event times").
  using fleetsim::QueueKey;
  fleetsim::EventQueue q;
  Rng rng(7);
  uint64_t seq = 0;
  for (int i = 0; i < 20000; ++i) q.push(QueueKey{rng.uniform_int(uint64_t{1} << 40), QueueKey::pack(3, seq++, 0)});
  size_t unseen = 0;
  uint64_t now = 0;
  for (int step = 0; step < 100000; ++step) {
    const QueueKey* top = q.top_until(UINT64_MAX);
    REQUIRE(top != nullptr);
    REQUIRE(top->time >= now);
    now = top->time;
    q.pop();
    if (q.peek_ahead(4) == nullptr) ++unseen;
    q.push(QueueKey{now + rng.uniform_int(uint64_t{1} << 40), QueueKey::pack(3, seq++, 0)});
  }
  CHECK(unseen == 0);
}

TEST_CASE("EventQueue with a limit returns only keys up to it and accepts pushes down to now", "[kernel]") {
  using fleetsim::QueueKey;
  for (const uint64_t spread : {uint64_t{5}, uint64_t{100000}, uint64_t{1} << 36}) {
    fleetsim::EventQueue q;
    std::set<std::pair<uint64_t, uint64_t>> ref;
    Rng rng(spread + 1);
    uint64_t seq = 0;
    uint64_t now = 0;
    auto push = [&] {
      const uint64_t t = now + (rng.bernoulli(0.1) ? 0 : rng.uniform_int(spread));
      const QueueKey k{t, QueueKey::pack(static_cast<unsigned>(rng.uniform_int(uint64_t{6})), seq++, 0)};
      q.push(k);
      ref.emplace(k.time, k.order);
    };
    for (int i = 0; i < 3000; ++i) push();
    for (int step = 0; step < 30000; ++step) {
      if (rng.bernoulli(0.5) || ref.empty()) {
        push();
        continue;
      }
      // As the engine's run(horizon): a horizon somewhere ahead; when nothing is due, time moves to it
      // without popping and later pushes may fall anywhere from there on.
      const uint64_t limit = now + rng.uniform_int(spread);
      const QueueKey* top = q.top_until(limit);
      if (ref.begin()->first > limit) {
        REQUIRE(top == nullptr);
        now = limit;
        continue;
      }
      REQUIRE(top != nullptr);
      REQUIRE(top->time == ref.begin()->first);
      REQUIRE(top->order == ref.begin()->second);
      now = top->time;
      q.pop();
      ref.erase(ref.begin());
    }
    REQUIRE(q.size() == ref.size());
  }
}
