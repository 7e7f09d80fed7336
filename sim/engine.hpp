// SPDX-License-Identifier: Apache-2.0
// The discrete-event engine: a future-event set ordered by (time, phase, sequence) and the run loop.
//
//   Engine eng;
//   auto h = eng.schedule_in(Duration::hours(3), Phase::Failure, [&] { ... }, kind_id);
//   eng.cancel(h);                                  // O(1); a default or stale handle is a no-op
//   RunResult r = eng.run(SimTime::zero() + Duration::days(54));
//
// Ordering (a total order, independent of the queue's internals):
//   1. time, earliest first;
//   2. phase, in the order of the Phase enum: at one instant failures strike before repairs, repairs
//      before completions, completions before arrivals, control decisions after those, and samples
//      last, so a sample sees the state after everything that happened at its instant;
//   3. scheduling order (FIFO): the event scheduled first runs first.
// No heap allocation per event: callbacks live inline in pooled slots, 32 bytes for a callable of at
// most 16 bytes that is trivially copyable and destructible ([this] or [this, id], most of the models'
// events) and 64 bytes (an EventFn) for any other, and the future-event set is a radix heap of 16-byte
// keys (sim/event_queue.hpp) whose buckets are chains of blocks from a pool that only grows with the
// pending events. Cancel is lazy: the slot is marked and the key is dropped when it reaches the front
// (or in a bulk compaction once cancelled keys outnumber live ones). PHOLD throughput:
// docs/PERFORMANCE.md.
//
// run(horizon) semantics:
//   - events at exactly `horizon` run; when the next event is later, now() becomes `horizon` and the
//     reason is Horizon. run() again with a later horizon continues where it left off.
//   - when the queue empties, now() stays at the last event's time (reason Empty).
//   - stop() from inside an event (or the periodic hook) returns after that event (reason Stopped),
//     with now() at its time; the next run() continues with the next event.
//   - an exception thrown by a callback propagates out of run() as an EventError (sim/error.hpp) with
//     the original's message and kind, the time, the event's number and kind, and the entity a model
//     named (with_entity); that event counts as executed and the engine stays usable.
// Limits: at most 2^28 (268 million) pending events of each slot size; a horizon before now() is a
// std::logic_error.
#pragma once

#include "sim/event_fn.hpp"
#include "sim/time.hpp"

#include <cstddef>
#include <cstdint>
#include <new>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace fleetsim {

enum class Phase : uint8_t { Failure = 0, Repair = 1, Completion = 2, Arrival = 3, Control = 4, Sample = 5 };

/// Names an event kind for the fingerprint and for error context ("failure", "flow-done", ...).
using EventKind = uint16_t;

/// Refers to one scheduled event. Default-constructed handles refer to nothing.
struct EventHandle {
  uint32_t slot = UINT32_MAX;
  uint32_t generation = 0;
  bool valid() const { return slot != UINT32_MAX; }
};

enum class StopReason : uint8_t { Horizon, Empty, Stopped };

struct RunResult {
  StopReason reason = StopReason::Empty;
  SimTime reached;          // simulated time when the run returned
  uint64_t events = 0;      // events executed during this call
};

class Engine {
 public:
  Engine();
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  SimTime now() const { return now_; }
  /// Schedules at time t (>= now(), else std::logic_error). kind feeds the fingerprint.
  EventHandle schedule_at(SimTime t, Phase phase, EventFn fn, EventKind kind = 0);
  EventHandle schedule_in(Duration d, Phase phase, EventFn fn, EventKind kind = 0);
  /// The same for a lambda or other callable, which is constructed directly in the event's slot.
  template <EventCallable F>
  EventHandle schedule_at(SimTime t, Phase phase, F&& f, EventKind kind = 0) {
    EventHandle h;
    using Fn = std::decay_t<F>;
    if constexpr (kFitsSmallSlot<Fn> && std::is_nothrow_constructible_v<Fn, F&&>) {
      ::new (prepare_small(t, phase, kind, h, &invoke_small<Fn>)) Fn(std::forward<F>(f));
      return h;
    }
    EventFn& dst = prepare(t, phase, kind, h);
    if constexpr (std::is_nothrow_constructible_v<std::decay_t<F>, F&&>) {
      dst.emplace(std::forward<F>(f));
    } else {
      try {
        dst.emplace(std::forward<F>(f));
      } catch (...) {
        cancel(h);
        throw;
      }
    }
    return h;
  }
  template <EventCallable F>
  EventHandle schedule_in(Duration d, Phase phase, F&& f, EventKind kind = 0) {
    return schedule_at(time_after(d, kind), phase, std::forward<F>(f), kind);
  }
  /// Cancels a pending event in O(1). Returns false if it already ran, was cancelled, or h is empty.
  bool cancel(EventHandle h);
  bool pending(EventHandle h) const;

  /// Runs until the next event would be after `horizon` (now() becomes horizon), the queue is empty, or
  /// stop() is called from inside an event. Can be called again to continue.
  RunResult run(SimTime horizon);
  void stop() { stop_requested_ = true; }

  /// Interns an event kind name; the same name always returns the same id.
  EventKind register_kind(std::string_view name);
  std::string_view kind_name(EventKind k) const;

  uint64_t events_executed() const { return executed_; }
  /// Events scheduled and neither run nor cancelled.
  size_t pending_count() const;
  /// Pre-sizes the slot pool and heap for `events` simultaneously pending events (optional).
  void reserve(size_t events);
  /// A 64-bit hash over (time, phase, kind) of every executed event, in order: two runs that execute
  /// the same event sequence have the same fingerprint; any reordering changes it.
  uint64_t fingerprint() const { return fingerprint_; }

  /// Called every `every` executed events (and once at the end of run), for progress lines and
  /// wall-clock limits; the hook may call stop(). Cheap when unset. every == 0: only at the end of run;
  /// an empty hook removes it.
  using Hook = EventFn;
  void set_periodic_hook(uint64_t every, Hook hook);

 private:
  friend struct EngineTestAccess;
  struct Impl;
  // A callable kept in a 32-byte slot: its bytes are copied out and it is never destroyed.
  static constexpr size_t kSmallCapacity = 16;
  template <class Fn>
  static constexpr bool kFitsSmallSlot = sizeof(Fn) <= kSmallCapacity && alignof(Fn) <= 8 &&
                                         std::is_trivially_copyable_v<Fn> && std::is_trivially_destructible_v<Fn>;
  using SmallInvoke = void (*)(void*);
  template <class Fn>
  static void invoke_small(void* p) {
    (*static_cast<Fn*>(p))();
  }
  // Validates, takes a 64-byte slot, queues the key; the caller fills the returned (empty) callback.
  EventFn& prepare(SimTime t, Phase phase, EventKind kind, EventHandle& handle);
  // The same with a 32-byte slot: the caller constructs the callable in the returned 16 bytes.
  void* prepare_small(SimTime t, Phase phase, EventKind kind, EventHandle& handle, SmallInvoke invoke);
  // The checks shared by prepare and prepare_small, before a slot is taken.
  void check_schedule(SimTime t, Phase phase, EventKind kind);
  // Their errors, built out of line (cold paths).
  [[noreturn]] void reject_schedule(SimTime t, Phase phase, EventKind kind) const;
  [[noreturn]] void reject_delay(Duration d, EventKind kind) const;
  // now() + d, or std::logic_error if d is negative.
  SimTime time_after(Duration d, EventKind kind) const {
    if (d < Duration::zero()) [[unlikely]] reject_delay(d, kind);
    return now_ + d;
  }
  // Inside run()'s catch: rethrows the exception in flight as an EventError at this event (cold path).
  [[noreturn]] void rethrow_in_event(EventKind kind) const;
  Impl* impl_;
  SimTime now_;
  uint64_t executed_ = 0;
  uint64_t fingerprint_ = 0xcbf29ce484222325ull;
  bool stop_requested_ = false;
};

/// Test-only hooks into the engine's internals (defined in engine.cpp); not for model code.
struct EngineTestAccess {
  /// True if the event h refers to is kept in a 32-byte slot (a small, trivially copyable callable).
  static bool in_small_slot(EventHandle h);
  /// Sets the next scheduling sequence number, to exercise renumbering without 2^32 events.
  static void set_next_sequence(Engine& e, uint64_t seq);
  static uint64_t sequence_limit();
  /// Keys in the heap, live or cancelled (pending_count() counts only live ones).
  static size_t queued_keys(const Engine& e);
};

}  // namespace fleetsim
