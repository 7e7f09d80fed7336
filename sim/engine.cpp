// SPDX-License-Identifier: Apache-2.0
// The engine: slot pool, lazy cancellation, sequence renumbering and the run loop (see engine.hpp).
//
// Data layout. An event is a 16-byte key in the heap (time; phase | sequence | slot) and a slot holding
// its callback (EventFn, one 64-byte line) and 8 bytes of metadata (generation, kind, state) in a
// parallel array. Slots are recycled through a LIFO free list, so the slot an event frees is the one
// the event it schedules reuses: still in cache.
//
// The run loop frees the slot and moves the callback out before calling it, so the event it schedules
// can reuse the slot. The queue keeps the events of the current instant sorted, so the loop prefetches
// the callback of the event a few places ahead while this one runs.
//
// Sequences. A key has 33 bits of scheduling sequence, enough for 8.6 billion schedules. When they run
// out, the pending keys are sorted and renumbered by rank (0 .. n-1), which keeps their relative order,
// and numbering continues from n: ties still break by scheduling order however long the run.
#include "sim/engine.hpp"

#include "sim/event_queue.hpp"

#include <fmt/format.h>

#include <map>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace fleetsim {

namespace {

enum class SlotState : uint8_t { Free, Pending, Cancelled };

struct SlotMeta {
  uint32_t generation = 0;  // bumped when the event runs or is cancelled: older handles go stale
  EventKind kind = 0;
  SlotState state = SlotState::Free;
};
static_assert(sizeof(SlotMeta) == 8);

constexpr uint64_t kSeqLimit = uint64_t{1} << QueueKey::kSeqBits;
constexpr size_t kMaxSlots = size_t{1} << QueueKey::kSlotBits;
// Compaction of cancelled keys runs once they are both this many and more than the live ones, so its
// O(n) cost is paid for by at least n/2 cancellations.
constexpr size_t kCompactMin = 4096;
// How many events ahead (at the current instant) the run loop prefetches callbacks.
constexpr size_t kPrefetchDistance = 4;

// One step of the fingerprint: mixes (time, phase, kind) into h with two multiply-xorshift rounds
// (constants from SplitMix64 / MurmurHash3's finalizers). Every step is a bijection of h, and the order
// of steps matters, so a reordering of events changes the result.
inline uint64_t fingerprint_step(uint64_t h, uint64_t time, unsigned phase, EventKind kind) {
  h ^= time;
  h *= 0xbf58476d1ce4e5b9ull;
  h ^= h >> 31;
  h ^= (uint64_t{phase} << 16) | kind;
  h *= 0x94d049bb133111ebull;
  h ^= h >> 29;
  return h;
}

std::string describe(SimTime t) { return fmt::format("{} ({} ns)", format_duration(t.since_epoch()), t.ticks()); }

}  // namespace

struct Engine::Impl {
  EventQueue queue;
  std::vector<EventFn> fns;     // callback of slot i
  std::vector<SlotMeta> meta;   // metadata of slot i
  std::vector<uint32_t> free_slots;
  uint64_t next_seq = 0;
  size_t live = 0;              // pending events (scheduled, not run, not cancelled)
  size_t cancelled_keys = 0;    // keys in the queue whose event was cancelled
  bool running = false;

  std::vector<std::string> kind_names;
  std::map<std::string, EventKind, std::less<>> kind_ids;

  uint64_t hook_every = 0;
  uint64_t next_hook_at = UINT64_MAX;
  EventFn hook;

  uint32_t acquire_slot() {
    if (!free_slots.empty()) {
      const uint32_t s = free_slots.back();
      free_slots.pop_back();
      return s;
    }
    if (fns.size() >= kMaxSlots) {
      throw std::length_error(fmt::format("Engine: more than {} pending events", kMaxSlots));
    }
    fns.emplace_back();
    meta.emplace_back();
    return static_cast<uint32_t>(fns.size() - 1);
  }

  void prefetch_slot(uint32_t s) const {
    __builtin_prefetch(&meta[s]);
    __builtin_prefetch(&fns[s]);
  }

  void renumber() {
    queue.sort_and_visit([](QueueKey& k, size_t rank) { k.set_seq(rank); });
    next_seq = queue.size();
  }

  void compact() {
    queue.remove_if([this](const QueueKey& k) {
      const uint32_t s = k.slot();
      if (meta[s].state != SlotState::Cancelled) return false;
      meta[s].state = SlotState::Free;
      free_slots.push_back(s);
      return true;
    });
    cancelled_keys = 0;
  }
};

Engine::Engine() : impl_(new Impl) {
  impl_->kind_names.emplace_back("event");
  impl_->kind_ids.emplace("event", EventKind{0});
}

Engine::~Engine() { delete impl_; }

EventHandle Engine::schedule_at(SimTime t, Phase phase, EventFn fn, EventKind kind) {
  Impl& im = *impl_;
  if (t < now_) [[unlikely]] {
    throw std::logic_error(fmt::format("Engine::schedule_at: time {} is before now {}; events cannot be "
                                       "scheduled in the past (kind \"{}\")",
                                       describe(t), describe(now_), kind_name(kind)));
  }
  if (!fn) [[unlikely]] throw std::invalid_argument("Engine::schedule_at: empty callback");
  if (kind >= im.kind_names.size()) [[unlikely]] {
    throw std::invalid_argument(fmt::format("Engine::schedule_at: event kind {} was never registered", kind));
  }
  if (static_cast<unsigned>(phase) > 7) [[unlikely]] {
    throw std::invalid_argument(fmt::format("Engine::schedule_at: invalid phase {}", static_cast<unsigned>(phase)));
  }
  if (im.next_seq == kSeqLimit) [[unlikely]] im.renumber();

  const uint32_t slot = im.acquire_slot();
  im.fns[slot] = std::move(fn);
  SlotMeta& m = im.meta[slot];
  m.kind = kind;
  m.state = SlotState::Pending;
  const QueueKey key{static_cast<uint64_t>(t.ticks()),
                     QueueKey::pack(static_cast<unsigned>(phase), im.next_seq++, slot)};
  im.queue.push(key);
  ++im.live;
  return EventHandle{slot, m.generation};
}

EventHandle Engine::schedule_in(Duration d, Phase phase, EventFn fn, EventKind kind) {
  if (d < Duration::zero()) [[unlikely]] {
    throw std::logic_error(fmt::format("Engine::schedule_in: negative delay {} at now {} (kind \"{}\")",
                                       format_duration(d), describe(now_), kind_name(kind)));
  }
  return schedule_at(now_ + d, phase, std::move(fn), kind);
}

bool Engine::cancel(EventHandle h) {
  Impl& im = *impl_;
  if (h.slot >= im.meta.size()) return false;
  SlotMeta& m = im.meta[h.slot];
  if (m.generation != h.generation || m.state != SlotState::Pending) return false;
  m.state = SlotState::Cancelled;
  ++m.generation;
  im.fns[h.slot].reset();  // release captured resources now, not when the key surfaces
  --im.live;
  ++im.cancelled_keys;
  if (im.cancelled_keys > kCompactMin && im.cancelled_keys > im.live) im.compact();
  return true;
}

bool Engine::pending(EventHandle h) const {
  const Impl& im = *impl_;
  if (h.slot >= im.meta.size()) return false;
  const SlotMeta& m = im.meta[h.slot];
  return m.generation == h.generation && m.state == SlotState::Pending;
}

size_t Engine::pending_count() const { return impl_->live; }

void Engine::reserve(size_t events) {
  Impl& im = *impl_;
  im.fns.reserve(events);
  im.meta.reserve(events);
  im.free_slots.reserve(events);
  im.queue.reserve(events);
}

RunResult Engine::run(SimTime horizon) {
  Impl& im = *impl_;
  if (im.running) throw std::logic_error("Engine::run: called from inside an event");
  if (horizon < now_) {
    throw std::logic_error(
        fmt::format("Engine::run: horizon {} is before now {}", describe(horizon), describe(now_)));
  }
  im.running = true;
  stop_requested_ = false;
  const uint64_t executed_before = executed_;
  const auto horizon_ticks = static_cast<uint64_t>(horizon.ticks());
  RunResult result;
  try {
    while (true) {
      const QueueKey* top = im.queue.top_until(horizon_ticks);
      if (top == nullptr) {
        if (im.queue.empty()) {
          result.reason = StopReason::Empty;
        } else {
          now_ = horizon;
          result.reason = StopReason::Horizon;
        }
        break;
      }
      const QueueKey key = *top;
      im.queue.pop();
      if (const QueueKey* ahead = im.queue.peek_ahead(kPrefetchDistance)) im.prefetch_slot(ahead->slot());
      const uint32_t slot = key.slot();
      SlotMeta& m = im.meta[slot];
      if (m.state != SlotState::Pending) [[unlikely]] {
        // A cancelled event's key surfacing: drop it and recycle the slot.
        m.state = SlotState::Free;
        im.free_slots.push_back(slot);
        --im.cancelled_keys;
        continue;
      }
      now_ = SimTime::from_ticks(static_cast<int64_t>(key.time));
      EventFn fn = std::move(im.fns[slot]);
      const EventKind kind = m.kind;
      ++m.generation;
      m.state = SlotState::Free;
      im.free_slots.push_back(slot);
      --im.live;
      fingerprint_ = fingerprint_step(fingerprint_, key.time, key.phase(), kind);
      ++executed_;

      fn.invoke_unchecked();
      if (executed_ == im.next_hook_at) [[unlikely]] {
        im.next_hook_at += im.hook_every;
        im.hook();
      }
      if (stop_requested_) [[unlikely]] {
        result.reason = StopReason::Stopped;
        break;
      }
    }
    if (im.hook) im.hook();
  } catch (...) {
    im.running = false;
    throw;
  }
  im.running = false;
  stop_requested_ = false;
  result.reached = now_;
  result.events = executed_ - executed_before;
  return result;
}

EventKind Engine::register_kind(std::string_view name) {
  Impl& im = *impl_;
  if (auto it = im.kind_ids.find(name); it != im.kind_ids.end()) return it->second;
  if (im.kind_names.size() > UINT16_MAX) {
    throw std::length_error(fmt::format("Engine::register_kind: more than {} event kinds", UINT16_MAX + 1));
  }
  const auto id = static_cast<EventKind>(im.kind_names.size());
  im.kind_names.emplace_back(name);
  im.kind_ids.emplace(std::string(name), id);
  return id;
}

std::string_view Engine::kind_name(EventKind k) const {
  const Impl& im = *impl_;
  if (k >= im.kind_names.size()) return "(unregistered)";
  return im.kind_names[k];
}

void Engine::set_periodic_hook(uint64_t every, Hook hook) {
  Impl& im = *impl_;
  im.hook = std::move(hook);
  im.hook_every = im.hook ? every : 0;
  im.next_hook_at = im.hook_every == 0 ? UINT64_MAX : executed_ + every;
}

void EngineTestAccess::set_next_sequence(Engine& e, uint64_t seq) { e.impl_->next_seq = seq; }
uint64_t EngineTestAccess::sequence_limit() { return kSeqLimit; }
size_t EngineTestAccess::queued_keys(const Engine& e) { return e.impl_->queue.size(); }

}  // namespace fleetsim
