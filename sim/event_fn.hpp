// SPDX-License-Identifier: Apache-2.0
// EventFn: a move-only, type-erased `void()` callable stored inline. It never allocates.
//
//   EventFn fn = [this, node] { fail(node); };   // captures up to 48 bytes, alignment up to 8
//   fn();                                          // may be called more than once
//   EventFn moved = std::move(fn);                 // fn is now empty
//
// Why not std::function: it allocates once captures exceed its small buffer (16 bytes in libstdc++)
// and it requires copyable callables. Event callbacks are created and destroyed once per event, so the
// engine keeps them in pooled slots and this type keeps the captures inside the slot. A lambda whose
// captures do not fit is a compile error, not a silent allocation: capture a pointer to the state
// instead.
//
// Layout: 48 bytes of storage and one pointer to a per-type table of operations: 56 bytes, so the
// engine fits a callback and its 8 bytes of bookkeeping in one 64-byte cache line. Callables that are
// trivially copyable and destructible (the common case: pointers and numbers) have no manager, so
// moving one is a 48-byte copy and destroying one is free.
#pragma once

#include <cstddef>
#include <cstring>
#include <new>
#include <stdexcept>
#include <type_traits>
#include <utility>

namespace fleetsim {

class EventFn;

/// What EventFn (and Engine::schedule_at) accept: any callable `f()` other than an EventFn itself.
template <class F>
concept EventCallable = !std::is_same_v<std::remove_cvref_t<F>, EventFn> &&
                        !std::is_same_v<std::remove_cvref_t<F>, std::nullptr_t> &&
                        std::is_invocable_v<std::decay_t<F>&>;

class EventFn {
 public:
  static constexpr std::size_t kCapacity = 48;  // bytes of captures stored inline
  static constexpr std::size_t kAlign = 8;  // pointers, integers, doubles

  EventFn() noexcept = default;
  EventFn(std::nullptr_t) noexcept {}  // NOLINT(google-explicit-constructor): `EventFn f = nullptr;`

  template <EventCallable F>
  EventFn(F&& f) {  // NOLINT(google-explicit-constructor): lambdas convert implicitly, as to std::function
    construct(std::forward<F>(f));
  }

  /// Constructs f in place; the EventFn must be empty. Saves moving a temporary EventFn, whose
  /// bytes were just written field by field (a store-forwarding stall when read back as a block).
  template <EventCallable F>
  void emplace(F&& f) {
    reset();
    construct(std::forward<F>(f));
  }

  EventFn(EventFn&& other) noexcept { take(other); }
  EventFn& operator=(EventFn&& other) noexcept {
    if (this != &other) {
      reset();
      take(other);
    }
    return *this;
  }
  EventFn(const EventFn&) = delete;
  EventFn& operator=(const EventFn&) = delete;
  ~EventFn() { reset(); }

  /// Destroys the stored callable; the EventFn becomes empty.
  void reset() noexcept {
    if (ops_ != nullptr && ops_->manage != nullptr) ops_->manage(Op::Destroy, storage_, nullptr);
    ops_ = nullptr;
  }

  explicit operator bool() const noexcept { return ops_ != nullptr; }

  /// Calls the stored callable; throws std::logic_error if empty.
  void operator()() {
    if (ops_ == nullptr) [[unlikely]] {
      throw std::logic_error("EventFn: called while empty");
    }
    ops_->invoke(storage_);
  }
  /// Calls without the emptiness check; for callers that checked when the callable was stored.
  void invoke_unchecked() { ops_->invoke(storage_); }

 private:
  enum class Op { Move, Destroy };
  using Invoke = void (*)(void*);
  using Manage = void (*)(Op, void* self, void* other) noexcept;
  struct Ops {
    Invoke invoke;
    Manage manage;  // null when a byte copy moves the callable and destroying it is a no-op
  };

  template <class F>
  void construct(F&& f) {
    using Fn = std::decay_t<F>;
    static_assert(sizeof(Fn) <= kCapacity,
                  "EventFn: the callable's captures exceed 48 bytes. Capture a pointer or a reference to "
                  "a struct holding the state instead of the values themselves.");
    static_assert(alignof(Fn) <= kAlign, "EventFn: the callable needs an alignment above 8 bytes.");
    static_assert(std::is_nothrow_move_constructible_v<Fn>,
                  "EventFn: the callable must be nothrow move constructible (events move between slots).");
    ::new (static_cast<void*>(storage_)) Fn(std::forward<F>(f));
    ops_ = &kOpsFor<Fn>;
  }

  template <class Fn>
  static void invoke_as(void* p) {
    (*static_cast<Fn*>(p))();
  }
  template <class Fn>
  static void manage_as(Op op, void* self, void* other) noexcept {
    if (op == Op::Move) {
      // Move-construct into self from other, then end other's lifetime.
      auto* src = static_cast<Fn*>(other);
      ::new (self) Fn(std::move(*src));
      src->~Fn();
    } else {
      static_cast<Fn*>(self)->~Fn();
    }
  }

  template <class Fn>
  static constexpr Ops kOpsFor{&invoke_as<Fn>, std::is_trivially_copyable_v<Fn> && std::is_trivially_destructible_v<Fn>
                                                   ? nullptr
                                                   : &manage_as<Fn>};

  void take(EventFn& other) noexcept {
    if (other.ops_ != nullptr && other.ops_->manage != nullptr) {
      other.ops_->manage(Op::Move, storage_, other.storage_);
    } else {
      // Trivially copyable (or empty): copy the whole buffer, cheaper than dispatching on the size.
      std::memcpy(storage_, other.storage_, kCapacity);
    }
    ops_ = other.ops_;
    other.ops_ = nullptr;
  }

  alignas(kAlign) unsigned char storage_[kCapacity];
  const Ops* ops_ = nullptr;
};

static_assert(sizeof(EventFn) == 56, "EventFn plus 8 bytes of engine bookkeeping should fill one cache line");

}  // namespace fleetsim
