// SPDX-License-Identifier: Apache-2.0
// The engine: slot pool, lazy cancellation, sequence renumbering and the run loop (see engine.hpp).
//
// Data layout. An event is a 16-byte key in the queue (time; phase | sequence | slot) and a slot
// holding its callback and its generation, kind and state, in one of two pools:
//   - a 32-byte slot (two to a cache line) for a callable of at most 16 bytes that is trivially
//     copyable and destructible: its invoke pointer and bytes;
//   - a 64-byte, cache-line aligned slot for any other: an EventFn (56 bytes).
// The slot field of a key and a handle says which (kLargeBit). Running an event touches one slot,
// prefetched a few events ahead. With 160,000 pending events PHOLD's slots took 10 MB, read in random
// order; small slots halve that (fewer cache and TLB misses; docs/PERFORMANCE.md). Slots are recycled
// through a LIFO free list per pool, so the slot an event frees is the one the event it schedules
// reuses: still in cache.
//
// The run loop frees the slot and moves the callback out before calling it, so the event it schedules
// can reuse the slot. The queue keeps its next few events sorted (its front), so the loop prefetches
// the slot of the event a few places ahead while this one runs: with 160,000 pending events the slots
// are 5 to 10 MB, and without the prefetch each event waited on a cache miss (docs/PERFORMANCE.md).
//
// Sequences. A key has 32 bits of scheduling sequence, enough for 4.3 billion schedules. When they run
// out, the pending keys are sorted and renumbered by rank (0 .. n-1), which keeps their relative order,
// and numbering continues from n: ties still break by scheduling order however long the run.
#include "sim/engine.hpp"

#include "sim/error.hpp"
#include "sim/event_queue.hpp"

#include <fmt/format.h>

#include <sys/mman.h>

#include <cstdlib>
#include <cstring>
#include <map>
#include <new>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace fleetsim {

namespace {

enum class SlotState : uint8_t { Free, Pending, Cancelled };

struct alignas(64) Slot {
  EventFn fn;
  uint32_t generation = 0;  // bumped when the event runs or is cancelled: older handles go stale
  EventKind kind = 0;
  SlotState state = SlotState::Free;
};
static_assert(sizeof(Slot) == 64, "a slot should be exactly one cache line");

// A small callable's slot: no manager, since copying its bytes moves it and destroying it is a no-op.
struct alignas(32) SmallSlot {
  void (*invoke)(void*) = nullptr;
  alignas(8) unsigned char storage[16];
  uint32_t generation = 0;
  EventKind kind = 0;
  SlotState state = SlotState::Free;
};
static_assert(sizeof(SmallSlot) == 32, "two small slots should share a cache line");

// Allocates large arrays on 2 MiB boundaries and asks Linux for transparent huge pages: slots are
// touched in random order, and with 4 KiB pages 160,000 slots (10 MB) span 2,500 pages, so many
// events would also pay a TLB miss (a gain of a few percent on PHOLD, within noise at times). Small
// arrays use ordinary aligned allocation.
template <class T>
struct HugePageAllocator {
  using value_type = T;
  static constexpr size_t kHuge = size_t{2} << 20;
  HugePageAllocator() = default;
  template <class U>
  HugePageAllocator(const HugePageAllocator<U>&) noexcept {}  // NOLINT(google-explicit-constructor)
  T* allocate(size_t n) {
    const size_t bytes = n * sizeof(T);
    if (bytes < kHuge) return static_cast<T*>(::operator new(bytes, std::align_val_t{alignof(T)}));
    const size_t rounded = (bytes + kHuge - 1) / kHuge * kHuge;
    void* p = std::aligned_alloc(kHuge, rounded);
    if (p == nullptr) throw std::bad_alloc();
#ifdef MADV_HUGEPAGE
    madvise(p, rounded, MADV_HUGEPAGE);  // a hint: without THP it simply has no effect
#endif
    return static_cast<T*>(p);
  }
  void deallocate(T* p, size_t n) noexcept {
    if (n * sizeof(T) < kHuge) {
      ::operator delete(p, std::align_val_t{alignof(T)});
    } else {
      std::free(p);
    }
  }
  template <class U>
  bool operator==(const HugePageAllocator<U>&) const noexcept {
    return true;
  }
};

constexpr uint64_t kSeqLimit = uint64_t{1} << QueueKey::kSeqBits;
// The top bit of a slot id (in keys and handles) marks a 64-byte slot; the bits below index its pool.
constexpr uint32_t kLargeBit = uint32_t{1} << (QueueKey::kSlotBits - 1);
constexpr size_t kMaxSlots = kLargeBit;  // per pool
// Compaction of cancelled keys runs once they are both this many and more than the live ones, so its
// O(n) cost is paid for by at least n/2 cancellations.
constexpr size_t kCompactMin = 4096;
// How many events ahead (at the current instant) the run loop prefetches callbacks.
// The queue keeps at least that many keys ahead in view (EventQueue::kAhead).
constexpr size_t kPrefetchDistance = EventQueue::kAhead;  // 2 to 8 measured alike on PHOLD

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

// One pool of slots of type S with its LIFO free list.
template <class S>
struct SlotPool {
  std::vector<S, HugePageAllocator<S>> slots;
  std::vector<uint32_t> free_slots;

  uint32_t acquire() {
    if (!free_slots.empty()) {
      const uint32_t s = free_slots.back();
      free_slots.pop_back();
      return s;
    }
    if (slots.size() >= kMaxSlots) {
      throw std::length_error(fmt::format("Engine: more than {} pending events", kMaxSlots));
    }
    slots.emplace_back();
    return static_cast<uint32_t>(slots.size() - 1);
  }
  void reserve(size_t n) {
    slots.reserve(n);
    free_slots.reserve(n);
  }
};

struct Engine::Impl {
  EventQueue queue;
  SlotPool<SmallSlot> small;
  SlotPool<Slot> large;
  uint64_t next_seq = 0;
  size_t live = 0;              // pending events (scheduled, not run, not cancelled)
  size_t cancelled_keys = 0;    // keys in the queue whose event was cancelled
  bool running = false;

  std::vector<std::string> kind_names;
  size_t kind_count = 0;  // kind_names.size(), kept apart so scheduling reads one word
  std::map<std::string, EventKind, std::less<>> kind_ids;

  uint64_t hook_every = 0;
  uint64_t next_hook_at = UINT64_MAX;
  EventFn hook;

  void prefetch_slot(uint32_t id) const {
    if (id & kLargeBit) {
      __builtin_prefetch(&large.slots[id & ~kLargeBit]);
    } else {
      __builtin_prefetch(&small.slots[id]);
    }
  }

  // Calls f with the slot a key or handle names (a SmallSlot& or a Slot&) and its pool.
  template <class F>
  decltype(auto) with_slot(uint32_t id, F&& f) {
    if (id & kLargeBit) return f(large.slots[id & ~kLargeBit], large, id & ~kLargeBit);
    return f(small.slots[id], small, id);
  }

  void push_key(SimTime t, Phase phase, uint32_t id) {
    const uint64_t order = QueueKey::pack(static_cast<unsigned>(phase), next_seq++, id);
    queue.push(QueueKey{static_cast<uint64_t>(t.ticks()), order});
    ++live;
  }

  void renumber() {
    queue.sort_and_visit([](QueueKey& k, size_t rank) { k.set_seq(rank); });
    next_seq = queue.size();
  }

  void compact() {
    queue.remove_if([this](const QueueKey& k) {
      return with_slot(k.slot(), [](auto& m, auto& pool, uint32_t index) {
        if (m.state != SlotState::Cancelled) return false;
        m.state = SlotState::Free;
        pool.free_slots.push_back(index);
        return true;
      });
    });
    cancelled_keys = 0;
  }
};

Engine::Engine() : impl_(new Impl) {
  impl_->kind_names.emplace_back("event");
  impl_->kind_ids.emplace("event", EventKind{0});
  impl_->kind_count = 1;
}

Engine::~Engine() { delete impl_; }

void Engine::reject_schedule(SimTime t, Phase phase, EventKind kind) const {
  if (t < now_) {
    throw std::logic_error(fmt::format("Engine::schedule_at: time {} is before now {}; events cannot be "
                                       "scheduled in the past (kind \"{}\")",
                                       describe(t), describe(now_), kind_name(kind)));
  }
  if (kind >= impl_->kind_count) {
    throw std::invalid_argument(fmt::format("Engine::schedule_at: event kind {} was never registered", kind));
  }
  throw std::invalid_argument(fmt::format("Engine::schedule_at: invalid phase {}", static_cast<unsigned>(phase)));
}

// Inline in both prepares: the checks are three compares; the messages are built out of line.
inline void Engine::check_schedule(SimTime t, Phase phase, EventKind kind) {
  Impl& im = *impl_;
  if (t < now_ || kind >= im.kind_count || static_cast<unsigned>(phase) > 7) [[unlikely]] {
    reject_schedule(t, phase, kind);
  }
  if (im.next_seq == kSeqLimit) [[unlikely]] im.renumber();
}

EventFn& Engine::prepare(SimTime t, Phase phase, EventKind kind, EventHandle& handle) {
  check_schedule(t, phase, kind);
  Impl& im = *impl_;
  const uint32_t index = im.large.acquire();
  Slot& m = im.large.slots[index];
  m.kind = kind;
  m.state = SlotState::Pending;
  im.push_key(t, phase, index | kLargeBit);
  handle = EventHandle{index | kLargeBit, m.generation};
  return m.fn;
}

void* Engine::prepare_small(SimTime t, Phase phase, EventKind kind, EventHandle& handle, SmallInvoke invoke) {
  check_schedule(t, phase, kind);
  Impl& im = *impl_;
  const uint32_t index = im.small.acquire();
  SmallSlot& m = im.small.slots[index];
  m.invoke = invoke;
  m.kind = kind;
  m.state = SlotState::Pending;
  im.push_key(t, phase, index);
  handle = EventHandle{index, m.generation};
  return m.storage;
}

void Engine::reject_delay(Duration d, EventKind kind) const {
  throw std::logic_error(fmt::format("Engine::schedule_in: negative delay {} at now {} (kind \"{}\")",
                                     format_duration(d), describe(now_), kind_name(kind)));
}

EventHandle Engine::schedule_at(SimTime t, Phase phase, EventFn fn, EventKind kind) {
  if (!fn) [[unlikely]] throw std::invalid_argument("Engine::schedule_at: empty callback");
  EventHandle h;
  prepare(t, phase, kind, h) = std::move(fn);
  return h;
}

EventHandle Engine::schedule_in(Duration d, Phase phase, EventFn fn, EventKind kind) {
  return schedule_at(time_after(d, kind), phase, std::move(fn), kind);
}

bool Engine::cancel(EventHandle h) {
  Impl& im = *impl_;
  if (!h.valid()) return false;
  const bool large = (h.slot & kLargeBit) != 0;
  const uint32_t index = h.slot & ~kLargeBit;
  if (index >= (large ? im.large.slots.size() : im.small.slots.size())) return false;
  const bool cancelled = im.with_slot(h.slot, [&h](auto& m, auto&, uint32_t) {
    if (m.generation != h.generation || m.state != SlotState::Pending) return false;
    m.state = SlotState::Cancelled;
    ++m.generation;
    if constexpr (std::is_same_v<std::decay_t<decltype(m)>, Slot>) m.fn.reset();  // release captures now
    return true;
  });
  if (!cancelled) return false;
  --im.live;
  ++im.cancelled_keys;
  if (im.cancelled_keys > kCompactMin && im.cancelled_keys > im.live) im.compact();
  return true;
}

bool Engine::pending(EventHandle h) const {
  const Impl& im = *impl_;
  if (!h.valid()) return false;
  const uint32_t index = h.slot & ~kLargeBit;
  if (h.slot & kLargeBit) {
    return index < im.large.slots.size() && im.large.slots[index].generation == h.generation &&
           im.large.slots[index].state == SlotState::Pending;
  }
  return index < im.small.slots.size() && im.small.slots[index].generation == h.generation &&
         im.small.slots[index].state == SlotState::Pending;
}

size_t Engine::pending_count() const { return impl_->live; }

void Engine::reserve(size_t events) {
  Impl& im = *impl_;
  // Address space only: pages of the pool a run does not use are never touched.
  im.small.reserve(events);
  im.large.reserve(events);
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
      const uint32_t id = key.slot();
      // Marks the slot free (the event the callback schedules may reuse it) and counts the event.
      const auto retire = [&](auto& m, auto& pool, uint32_t index) {
        now_ = SimTime::from_ticks(static_cast<int64_t>(key.time));
        ++m.generation;
        m.state = SlotState::Free;
        pool.free_slots.push_back(index);
        --im.live;
        fingerprint_ = fingerprint_step(fingerprint_, key.time, key.phase(), m.kind);
        ++executed_;
      };
      // A cancelled event's key surfacing: drop it and recycle the slot.
      const auto drop_cancelled = [&im](auto& m, auto& pool, uint32_t index) {
        if (m.state == SlotState::Pending) [[likely]] return false;
        m.state = SlotState::Free;
        pool.free_slots.push_back(index);
        --im.cancelled_keys;
        return true;
      };
      if (id & kLargeBit) {
        const uint32_t index = id & ~kLargeBit;
        Slot& m = im.large.slots[index];
        if (drop_cancelled(m, im.large, index)) [[unlikely]] continue;
        EventFn fn = std::move(m.fn);
        const EventKind kind = m.kind;
        retire(m, im.large, index);
        try {
          fn.invoke_unchecked();
        } catch (...) {
          rethrow_in_event(kind);
        }
      } else {
        SmallSlot& m = im.small.slots[id];
        if (drop_cancelled(m, im.small, id)) [[unlikely]] continue;
        // The callable is trivially copyable: a copy of its bytes is the callable.
        alignas(8) unsigned char captures[sizeof(m.storage)];
        std::memcpy(captures, m.storage, sizeof(captures));
        const auto invoke = m.invoke;
        const EventKind kind = m.kind;
        retire(m, im.small, id);
        try {
          invoke(captures);
        } catch (...) {
          rethrow_in_event(kind);
        }
      }
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

void Engine::rethrow_in_event(EventKind kind) const {
  try {
    throw;
  } catch (EventError& e) {
    // A model named the entity (with_entity): add the event.
    if (!e.has_event()) e.set_event(now_, executed_, kind_name(kind));
    throw;
  } catch (...) {
  }
  EventError e = EventError::from_current({});
  e.set_event(now_, executed_, kind_name(kind));
  throw e;
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
  im.kind_count = im.kind_names.size();
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
bool EngineTestAccess::in_small_slot(EventHandle h) { return h.valid() && (h.slot & kLargeBit) == 0; }
uint64_t EngineTestAccess::sequence_limit() { return kSeqLimit; }
size_t EngineTestAccess::queued_keys(const Engine& e) { return e.impl_->queue.size(); }

}  // namespace fleetsim
