// SPDX-License-Identifier: Apache-2.0
// The closed-form running schedule (schedule.hpp). Offsets are integer nanoseconds from the anchor, so
// both fidelities land on the same instants; T, C, W and K are the symbols of docs/training.md.
#include "models/training/schedule.hpp"

#include <algorithm>
#include <cmath>

namespace fleetsim {

namespace {

/// Steps before the anchor's first checkpoint: what is left of the current interval.
int64_t steps_to_first_checkpoint(const RunAnchor& a) {
  return static_cast<int64_t>(a.steps_per_checkpoint - std::min(a.steps_per_checkpoint, a.steps_since_checkpoint));
}

}  // namespace

RunPosition position_at(const RunAnchor& a, SimTime t) {
  RunPosition p;
  p.steps = a.steps;
  p.tokens = a.tokens;
  p.steps_since_checkpoint = a.steps_since_checkpoint;
  p.stall_total_ns = a.stall_total_ns;
  p.boundary = a.start;
  const int64_t elapsed = (t - a.start).ticks();
  if (elapsed <= 0) return p;
  // The last nanosecond before t: an event at exactly t has not happened yet.
  const int64_t x = elapsed - 1;
  const int64_t T = a.step_ns, C = a.stall_ns, W = a.durable_ns;
  const auto K = static_cast<int64_t>(a.steps_per_checkpoint);
  const int64_t n1 = steps_to_first_checkpoint(a);
  const int64_t first = n1 * T;  // offset of the first checkpoint's start
  const int64_t period = K * T + C;
  // The j-th checkpoint from the anchor (0-based): it starts at first + j * period.
  auto checkpoint = [&](int64_t j) {
    CheckpointMark c;
    const int64_t begins = first + j * period;
    c.steps = a.steps + static_cast<uint64_t>(n1 + j * K);
    c.tokens = a.tokens + double(n1 + j * K) * a.tokens_per_step;
    c.durable_at = a.start + Duration::ns(begins + W);
    c.resumed_at = a.start + Duration::ns(begins + C);
    c.stall_total_ns = a.stall_total_ns + (j + 1) * C;
    return c;
  };
  if (x < first) {
    const int64_t k = x / T;
    p.steps += static_cast<uint64_t>(k);
    p.tokens += double(k) * a.tokens_per_step;
    p.steps_since_checkpoint += static_cast<uint64_t>(k);
    p.boundary = a.start + Duration::ns((k + 1) * T);
    return p;
  }
  const int64_t y = x - first;
  const int64_t j = y / period;          // the checkpoint whose period holds x
  const int64_t into = y - j * period;   // offset inside that period (stall first, then K steps)
  const int64_t begins = first + j * period;
  p.checkpoints_started = static_cast<uint64_t>(j + 1);
  p.started = checkpoint(j);
  int64_t k = n1 + j * K;
  if (into < C) {
    p.in_stall = true;
    p.steps_since_checkpoint = a.steps_per_checkpoint;
    p.stall_total_ns = a.stall_total_ns + j * C + (into + 1);
    p.boundary = a.start + Duration::ns(begins + C);
  } else {
    const int64_t q = (into - C) / T;
    k += q;
    p.steps_since_checkpoint = static_cast<uint64_t>(q);
    p.stall_total_ns = a.stall_total_ns + (j + 1) * C;
    p.boundary = a.start + Duration::ns(begins + C + (q + 1) * T);
  }
  p.steps = a.steps + static_cast<uint64_t>(k);
  p.tokens = a.tokens + double(k) * a.tokens_per_step;
  if (x - W >= first) p.durable = checkpoint(std::min(j, (x - W - first) / period));
  return p;
}

SimTime completion_time(const RunAnchor& a) {
  const auto R = static_cast<int64_t>(a.done_steps - a.steps);
  const auto K = static_cast<int64_t>(a.steps_per_checkpoint);
  const int64_t n1 = steps_to_first_checkpoint(a);
  // Overflow-checked: a job whose end lies beyond the simulated time range saturates.
  int64_t span = 0;
  const auto add_mul = [&span](int64_t n, int64_t d) {
    int64_t prod = 0;
    return !__builtin_mul_overflow(n, d, &prod) && !__builtin_add_overflow(span, prod, &span);
  };
  bool ok = true;
  if (R <= n1) {
    ok = add_mul(R, a.step_ns);
  } else {
    // The last step falls in the period of checkpoint j: n1 steps, j whole periods, that stall, i steps.
    const int64_t q = R - n1;
    const int64_t j = (q - 1) / K;
    const int64_t i = q - j * K;
    int64_t period = 0;
    ok = !__builtin_mul_overflow(K, a.step_ns, &period) && !__builtin_add_overflow(period, a.stall_ns, &period) &&
         add_mul(n1, a.step_ns) && add_mul(j, period) && add_mul(1, a.stall_ns) && add_mul(i, a.step_ns);
  }
  if (!ok || span > SimTime::max().ticks() - a.start.ticks()) return SimTime::max();
  return a.start + Duration::ns(span);
}

RunAnchor anchor_at_next_boundary(const RunAnchor& a, const RunPosition& p, int64_t step_ns) {
  RunAnchor b = a;
  b.start = p.boundary;
  if (p.in_stall) {
    // The stall ends at the boundary: the checkpoint's steps, none since.
    b.steps = p.steps;
    b.tokens = p.tokens;
    b.steps_since_checkpoint = 0;
    b.stall_total_ns = p.started->stall_total_ns;
  } else {
    // The step in progress ends at the boundary.
    b.steps = p.steps + 1;
    b.tokens = p.tokens + a.tokens_per_step;
    b.steps_since_checkpoint = p.steps_since_checkpoint + 1;
    b.stall_total_ns = p.stall_total_ns;
  }
  b.step_ns = step_ns;
  return b;
}

uint64_t steps_per_checkpoint(Duration interval, Duration step, Duration stall, Duration durable,
                              uint64_t remaining_steps) {
  const double k = std::round(interval.seconds() / step.seconds());
  auto K = static_cast<uint64_t>(std::clamp(k, 1.0, double(remaining_steps + 1)));
  if (durable > stall) K = std::max<uint64_t>(K, static_cast<uint64_t>(std::ceil((durable - stall).seconds() / step.seconds())));
  return K;
}

Duration bounded_seconds(double s) {
  if (!(s >= 0) || s > 100.0 * 365 * 86400) return Duration::max();
  return Duration::from_seconds(s);
}

}  // namespace fleetsim
