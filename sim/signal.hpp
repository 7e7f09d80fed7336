// SPDX-License-Identifier: Apache-2.0
// Signal<Args...>: a list of callbacks an upper floor registers to hear about a lower floor's changes,
// so that information flows upward without an include pointing upward (SimGrid's xbt::signal idea).
//
//   Signal<const FailureEvent&> on_event;                       // owned by the publisher (lower floor)
//   auto c = on_event.connect([&](const FailureEvent& e) { ... });  // the listener (upper floor)
//   on_event.emit(ev);                                           // calls every slot, in connect order
//   on_event.disconnect(c);
//
// Slots run synchronously, in the order they were connected (deterministic). A slot may connect or
// disconnect slots while the signal emits: slots connected during an emit are not called by that emit,
// and a slot disconnected during an emit is not called afterwards. Connecting is rare (set-up time), so
// slots are std::function; emitting an empty signal costs one branch.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <deque>
#include <utility>

namespace fleetsim {

/// Identifies one connection of a Signal.
struct Connection {
  uint64_t id = 0;
  bool valid() const { return id != 0; }
};

template <class... Args>
class Signal {
 public:
  using Slot = std::function<void(Args...)>;

  Connection connect(Slot slot) {
    slots_.push_back(Entry{++last_id_, std::move(slot)});
    return Connection{last_id_};
  }
  /// Removes a connection; false if it was not connected. Safe during an emit.
  bool disconnect(Connection c) {
    for (auto& e : slots_) {
      if (e.id == c.id && e.slot) {
        e.slot = nullptr;
        dirty_ = true;
        if (emitting_ == 0) compact();
        return true;
      }
    }
    return false;
  }
  bool empty() const { return slots_.empty(); }
  size_t size() const {
    size_t n = 0;
    for (const auto& e : slots_) n += e.slot ? 1 : 0;
    return n;
  }

  void emit(Args... args) {
    if (slots_.empty()) return;
    ++emitting_;
    const size_t n = slots_.size();  // slots connected during this emit wait for the next one
    for (size_t i = 0; i < n; ++i) {
      if (slots_[i].slot) slots_[i].slot(args...);
    }
    if (--emitting_ == 0 && dirty_) compact();
  }

 private:
  struct Entry {
    uint64_t id;
    Slot slot;
  };
  void compact() {
    std::erase_if(slots_, [](const Entry& e) { return !e.slot; });
    dirty_ = false;
  }
  std::deque<Entry> slots_;  // deque: connecting during an emit keeps running slots in place
  uint64_t last_id_ = 0;
  int emitting_ = 0;
  bool dirty_ = false;
};

}  // namespace fleetsim
