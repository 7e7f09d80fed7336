// SPDX-License-Identifier: Apache-2.0
// The closed-form running schedule (models/training/schedule.hpp) against a walk of the same schedule
// interval by interval: steps of T, and after every K steps a stall of C whose checkpoint is durable W
// after it starts. The walk is the definition (docs/training.md, "Two fidelities, one timeline"); the
// closed form must give the same position at every instant, which is what lets segment mode skip the
// per-step events.
#include "models/training/schedule.hpp"

#include <catch2/catch.hpp>

#include <cmath>
#include <vector>

using namespace fleetsim;

namespace {

/// The position at `t` by walking the schedule from the anchor one step or stall at a time. An
/// interval (from, to] holds the instants whose events are not yet applied at `to`: a step ending at
/// exactly t has not ended for position t.
RunPosition walk(const RunAnchor& a, SimTime t) {
  RunPosition p;
  p.steps = a.steps;
  p.tokens = a.tokens;
  p.steps_since_checkpoint = a.steps_since_checkpoint;
  p.stall_total_ns = a.stall_total_ns;
  p.boundary = a.start;
  const int64_t target = (t - a.start).ticks();
  if (target <= 0) return p;
  std::vector<CheckpointMark> started;
  int64_t at = 0;
  for (;;) {
    if (p.steps_since_checkpoint >= a.steps_per_checkpoint) {
      CheckpointMark c{.steps = p.steps,
                       .tokens = p.tokens,
                       .durable_at = a.start + Duration::ns(at + a.durable_ns),
                       .resumed_at = a.start + Duration::ns(at + a.stall_ns),
                       .stall_total_ns = p.stall_total_ns + a.stall_ns};
      started.push_back(c);
      if (target <= at + a.stall_ns) {
        p.in_stall = true;
        p.steps_since_checkpoint = a.steps_per_checkpoint;
        p.stall_total_ns += target - at;
        p.boundary = a.start + Duration::ns(at + a.stall_ns);
        break;
      }
      at += a.stall_ns;
      p.stall_total_ns += a.stall_ns;
      p.steps_since_checkpoint = 0;
    } else {
      if (target <= at + a.step_ns) {
        p.boundary = a.start + Duration::ns(at + a.step_ns);
        break;
      }
      at += a.step_ns;
      ++p.steps;
      p.tokens += a.tokens_per_step;
      ++p.steps_since_checkpoint;
    }
  }
  p.checkpoints_started = started.size();
  if (!started.empty()) p.started = started.back();
  for (const CheckpointMark& c : started)
    if (c.durable_at < t) p.durable = c;
  return p;
}

/// When the walk's step count reaches a.done_steps.
SimTime walk_completion(const RunAnchor& a) {
  int64_t at = 0;
  uint64_t steps = a.steps, since = a.steps_since_checkpoint;
  while (steps < a.done_steps) {
    if (since >= a.steps_per_checkpoint) {
      at += a.stall_ns;
      since = 0;
    } else {
      at += a.step_ns;
      ++steps;
      ++since;
    }
  }
  return a.start + Duration::ns(at);
}

void same_mark(const std::optional<CheckpointMark>& x, const std::optional<CheckpointMark>& y) {
  REQUIRE(x.has_value() == y.has_value());
  if (!x) return;
  CHECK(x->steps == y->steps);
  CHECK(x->tokens == y->tokens);
  CHECK(x->durable_at == y->durable_at);
  CHECK(x->resumed_at == y->resumed_at);
  CHECK(x->stall_total_ns == y->stall_total_ns);
}

/// Everything but checkpoints_started, which counts from the anchor.
void same_progress(const RunPosition& x, const RunPosition& y) {
  CHECK(x.steps == y.steps);
  CHECK(x.tokens == y.tokens);
  CHECK(x.steps_since_checkpoint == y.steps_since_checkpoint);
  CHECK(x.stall_total_ns == y.stall_total_ns);
  CHECK(x.in_stall == y.in_stall);
  CHECK(x.boundary == y.boundary);
}

/// Anchors over the cases that matter: a checkpoint every step or every few, no stall or a stall,
/// durable at the stall's end, after it, or after the next checkpoint has started; an anchor at a
/// checkpoint, inside an interval, and past K (a checkpoint due at once).
std::vector<RunAnchor> anchors() {
  std::vector<RunAnchor> out;
  for (int64_t T : {3, 7})
    for (int64_t C : {0, 2, 5})
      for (uint64_t K : {1, 3})
        for (int64_t W : {C, C + 4, int64_t(K) * T + 2 * C + 1})
          for (uint64_t since : {uint64_t{0}, uint64_t{1}, K, K + 1}) {
            RunAnchor a;
            a.start = SimTime::zero() + Duration::ns(1000);
            a.steps = 40;
            a.tokens = 40.0 * 1024;
            a.steps_since_checkpoint = since;
            a.stall_total_ns = 77;
            a.step_ns = T;
            a.stall_ns = C;
            a.durable_ns = W;
            a.steps_per_checkpoint = K;
            a.tokens_per_step = 1024;  // a power of two: sums and products of tokens are exact
            a.done_steps = a.steps + 25;
            out.push_back(a);
          }
  return out;
}

}  // namespace

TEST_CASE("schedule: the closed form gives the walked position at every instant", "[training][schedule]") {
  for (const RunAnchor& a : anchors()) {
    INFO("T=" << a.step_ns << " C=" << a.stall_ns << " W=" << a.durable_ns << " K=" << a.steps_per_checkpoint
              << " since=" << a.steps_since_checkpoint);
    for (int64_t offset = -2; offset <= 120; ++offset) {
      INFO("t = start + " << offset << " ns");
      const SimTime t = a.start + Duration::ns(offset);
      const RunPosition closed = position_at(a, t);
      const RunPosition walked = walk(a, t);
      same_progress(closed, walked);
      CHECK(closed.checkpoints_started == walked.checkpoints_started);
      same_mark(closed.started, walked.started);
      same_mark(closed.durable, walked.durable);
    }
  }
}

TEST_CASE("schedule: the completion time is the walked instant of the last step", "[training][schedule]") {
  for (RunAnchor a : anchors()) {
    for (uint64_t left = 1; left <= 12; ++left) {
      a.done_steps = a.steps + left;
      INFO("T=" << a.step_ns << " C=" << a.stall_ns << " K=" << a.steps_per_checkpoint << " since="
                << a.steps_since_checkpoint << " left=" << left);
      const SimTime end = completion_time(a);
      CHECK(end == walk_completion(a));
      // Just before it the last step is still running; at it (events at t not applied) too; after it,
      // the schedule has passed done_steps.
      CHECK(position_at(a, end).steps == a.done_steps - 1);
      CHECK(position_at(a, end + Duration::ns(1)).steps >= a.done_steps);
    }
  }
}

TEST_CASE("schedule: a completion beyond the time range saturates instead of overflowing", "[training][schedule]") {
  RunAnchor a;
  a.step_ns = 1'000'000'000'000'000;  // 11.6 days a step
  a.steps_per_checkpoint = 1000;
  a.stall_ns = 1;
  a.tokens_per_step = 1;
  a.done_steps = 1'000'000;  // 31,700 years
  CHECK(completion_time(a) == SimTime::max());
  a.done_steps = 3;
  CHECK(completion_time(a) == SimTime::zero() + Duration::ns(3'000'000'000'000'000));
  a.start = SimTime::max() - Duration::ns(10);  // a near end that still overflows the range
  CHECK(completion_time(a) == SimTime::max());
}

TEST_CASE("schedule: re-anchoring at the next boundary at the same pace continues the same schedule",
          "[training][schedule]") {
  for (const RunAnchor& a : anchors()) {
    for (int64_t offset : {1, 4, 9, 17, 33}) {
      const RunPosition p = position_at(a, a.start + Duration::ns(offset));
      const RunAnchor b = anchor_at_next_boundary(a, p, a.step_ns);
      INFO("T=" << a.step_ns << " C=" << a.stall_ns << " K=" << a.steps_per_checkpoint << " since="
                << a.steps_since_checkpoint << " re-anchored at start + " << offset);
      CHECK(b.start == p.boundary);
      for (int64_t later = 1; later <= 60; ++later) {
        const SimTime t = b.start + Duration::ns(later);
        same_progress(position_at(b, t), position_at(a, t));
      }
      CHECK(completion_time(b) == completion_time(a));
    }
  }
}

TEST_CASE("schedule: a pace change applies from the next step boundary", "[training][schedule]") {
  RunAnchor a;
  a.step_ns = 10;
  a.stall_ns = 4;
  a.durable_ns = 4;
  a.steps_per_checkpoint = 3;
  a.tokens_per_step = 8;
  a.done_steps = 100;
  // At t = 25 the third step (20, 30] is running: it keeps its end, the next steps take 20.
  const RunPosition p = position_at(a, SimTime::zero() + Duration::ns(25));
  REQUIRE(p.steps == 2);
  const RunAnchor b = anchor_at_next_boundary(a, p, 20);
  CHECK(b.start == SimTime::zero() + Duration::ns(30));
  CHECK(b.steps == 3);
  CHECK(b.tokens == 24);
  CHECK(b.steps_since_checkpoint == 3);
  // The checkpoint due after step 3 stalls (30, 34], then steps of 20: step 4 ends at 54.
  CHECK(position_at(b, SimTime::zero() + Duration::ns(54)).steps == 3);
  CHECK(position_at(b, SimTime::zero() + Duration::ns(55)).steps == 4);
  // Inside a stall the new anchor starts where the stall ends, with the checkpoint's cumulative stall.
  const RunPosition in_stall = position_at(a, SimTime::zero() + Duration::ns(32));
  REQUIRE(in_stall.in_stall);
  const RunAnchor c = anchor_at_next_boundary(a, in_stall, 20);
  CHECK(c.start == SimTime::zero() + Duration::ns(34));
  CHECK(c.steps == 3);
  CHECK(c.steps_since_checkpoint == 0);
  CHECK(c.stall_total_ns == 4);
}

TEST_CASE("schedule: steps per checkpoint round the interval and leave time for a write", "[training][schedule]") {
  const Duration step = Duration::s(1);
  // A fixed 30-minute interval at one step a second.
  CHECK(steps_per_checkpoint(Duration::minutes(30), step, Duration::s(5), Duration::s(5), 1'000'000) == 1800);
  // Rounded to the nearest step: 2.4 steps -> 2, 2.6 -> 3.
  CHECK(steps_per_checkpoint(Duration::ms(2400), step, Duration::zero(), Duration::zero(), 100) == 2);
  CHECK(steps_per_checkpoint(Duration::ms(2600), step, Duration::zero(), Duration::zero(), 100) == 3);
  // At least one step, at most one more than the steps left (a short job takes no checkpoint).
  CHECK(steps_per_checkpoint(Duration::ms(100), step, Duration::zero(), Duration::zero(), 100) == 1);
  CHECK(steps_per_checkpoint(Duration::hours(10), step, Duration::zero(), Duration::zero(), 100) == 101);
  // An asynchronous write of 61.5 s after a 1 s stall needs 60.5 steps, so 61, before the next
  // checkpoint starts.
  CHECK(steps_per_checkpoint(Duration::s(10), step, Duration::s(1), Duration::ms(61500), 1'000'000) == 61);
}

TEST_CASE("schedule: bounded_seconds turns unknown or beyond-a-century runtimes into the maximum",
          "[training][schedule]") {
  CHECK(bounded_seconds(90) == Duration::s(90));
  CHECK(bounded_seconds(-1) == Duration::max());
  CHECK(bounded_seconds(std::nan("")) == Duration::max());
  CHECK(bounded_seconds(101.0 * 365 * 86400) == Duration::max());
}
