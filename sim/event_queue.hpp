// SPDX-License-Identifier: Apache-2.0
// EventQueue: the future-event set under Engine, a radix heap over event times with a sorted front.
//
//   EventQueue q;
//   q.push(QueueKey{t, QueueKey::pack(phase, seq, slot)});      // requires t >= the last popped time
//   if (const QueueKey* k = q.top_until(horizon)) { use(*k); q.pop(); }
//
// Keys are 16 bytes: time, then `order` = phase (3 bits) | scheduling sequence (33 bits) | slot index
// (28 bits); they compare lexicographically, so ties in time break by phase, then sequence. The slot
// names where the engine keeps the event's callback.
//
// Why a radix heap. A discrete-event simulation never schedules before now, so the queue is monotone:
// every key pushed is at or after the last key popped (time `last_`). A radix heap (Ahuja, Mehlhorn,
// Orlin and Tarjan 1990) exploits that: bucket b holds the keys whose time first differs from `last_`
// at bit b. Every key in bucket b is earlier than every key in bucket b+1, so the minimum is in the
// lowest non-empty bucket. Taking it scans that one bucket, moves `last_` to its smallest time and
// redistributes the bucket's keys into strictly lower buckets; a key moves at most 63 times over its
// life, and in practice about log2(delay / event spacing) times. Pushes are appends. All accesses are
// sequential sweeps over contiguous arrays, which matters more than comparison counts: on this shared
// 2-core VM a 4-ary heap of the same 16-byte keys spent most of its time waiting on cache misses in its
// sift-downs, and reached about 3 million PHOLD events/s against more than 10 million for this queue
// (docs/PERFORMANCE.md).
//
// The front: keys whose time equals `last_` (the current instant) are kept sorted in `front_`, so
// same-time ties come out in (phase, sequence) order and the next several events are known in
// advance, which lets the engine prefetch their callbacks (peek_ahead). A key pushed at the current
// instant goes into the front in order (usually at its end).
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

namespace fleetsim {

struct QueueKey {
  static constexpr int kSlotBits = 28;
  static constexpr int kSeqBits = 33;
  static constexpr int kPhaseShift = kSlotBits + kSeqBits;  // 61: 3 bits of phase on top
  static constexpr uint64_t kSlotMask = (uint64_t{1} << kSlotBits) - 1;
  static constexpr uint64_t kSeqMask = (uint64_t{1} << kSeqBits) - 1;

  uint64_t time;   // SimTime ticks; never negative in the engine
  uint64_t order;  // phase | sequence | slot

  static constexpr uint64_t pack(unsigned phase, uint64_t seq, uint32_t slot) {
    return (uint64_t{phase} << kPhaseShift) | (seq << kSlotBits) | slot;
  }
  constexpr uint32_t slot() const { return static_cast<uint32_t>(order & kSlotMask); }
  constexpr unsigned phase() const { return static_cast<unsigned>(order >> kPhaseShift); }
  constexpr uint64_t seq() const { return (order >> kSlotBits) & kSeqMask; }
  constexpr void set_seq(uint64_t seq) { order = (order & ~(kSeqMask << kSlotBits)) | (seq << kSlotBits); }

  friend constexpr bool operator<(const QueueKey& a, const QueueKey& b) {
    return a.time < b.time || (a.time == b.time && a.order < b.order);
  }
};
static_assert(sizeof(QueueKey) == 16);

class EventQueue {
 public:
  EventQueue() = default;
  EventQueue(const EventQueue&) = delete;
  EventQueue& operator=(const EventQueue&) = delete;

  bool empty() const { return size_ == 0; }
  size_t size() const { return size_; }

  /// Adds a key. Keys before the last popped time are accepted but cost a rebuild (O(n)); the engine
  /// never pushes them.
  void push(QueueKey k) {
    ++size_;
    if (k.time > last_) [[likely]] {
      const unsigned b = bucket_of(k.time);
      buckets_[b].push_back(k);
      mask_ |= uint64_t{1} << b;
    } else if (k.time == last_) {
      insert_front(k);
    } else {
      --size_;
      rebase(k);
    }
  }

  /// The smallest key if its time is <= limit, else nullptr (also when empty). Buckets are reorganized
  /// only when a key is returned, so after nullptr keys down to the last popped time may still be pushed.
  const QueueKey* top_until(uint64_t limit) {
    if (front_pos_ < front_.size()) [[likely]] {
      const QueueKey* k = &front_[front_pos_];
      return k->time <= limit ? k : nullptr;
    }
    if (mask_ == 0) return nullptr;
    const auto b = static_cast<unsigned>(__builtin_ctzll(mask_));
    std::vector<QueueKey>& bucket = buckets_[b];
    uint64_t m = UINT64_MAX;
    for (const QueueKey& k : bucket) m = std::min(m, k.time);
    if (m > limit) return nullptr;
    // Advance the current instant to m and redistribute: keys at m form the new front, the others go to
    // lower buckets (they share bits above b with m, so they differ from m below b).
    last_ = m;
    front_.clear();
    front_pos_ = 0;
    mask_ &= ~(uint64_t{1} << b);
    for (const QueueKey& k : bucket) {
      if (k.time == m) {
        front_.push_back(k);
      } else {
        const unsigned nb = bucket_of(k.time);
        buckets_[nb].push_back(k);
        mask_ |= uint64_t{1} << nb;
      }
    }
    bucket.clear();
    if (front_.size() > 1) std::sort(front_.begin(), front_.end());
    return &front_[0];
  }

  /// Removes the key top_until() just returned.
  void pop() {
    ++front_pos_;
    --size_;
  }

  /// The key d places after the current top among keys at the current instant, or nullptr: a hint
  /// for prefetching, valid until the next push or top_until.
  const QueueKey* peek_ahead(size_t d) const {
    return front_pos_ + d < front_.size() ? &front_[front_pos_ + d] : nullptr;
  }

  /// Pre-sizes the front for many same-instant events (optional).
  void reserve(size_t n) { front_.reserve(std::min<size_t>(n, 1 << 16)); }

  /// Removes every key for which drop(key) is true (called exactly once per key).
  template <class Drop>
  void remove_if(Drop drop) {
    front_.erase(front_.begin(), front_.begin() + static_cast<std::ptrdiff_t>(front_pos_));
    front_pos_ = 0;
    front_.erase(std::remove_if(front_.begin(), front_.end(), drop), front_.end());
    size_t n = front_.size();
    for (unsigned b = 0; b < kBuckets; ++b) {
      auto& bucket = buckets_[b];
      bucket.erase(std::remove_if(bucket.begin(), bucket.end(), drop), bucket.end());
      if (bucket.empty()) mask_ &= ~(uint64_t{1} << b);
      n += bucket.size();
    }
    size_ = n;
  }

  /// Calls f(key, rank) on every key in ascending order; f may change a key as long as the order among
  /// keys and their times stay the same (the engine renumbers sequences this way).
  template <class F>
  void sort_and_visit(F f) {
    std::vector<QueueKey> all = take_all();
    std::sort(all.begin(), all.end());
    for (size_t i = 0; i < all.size(); ++i) f(all[i], i);
    rebuild(all, last_);
  }

  /// Calls f(key) for every key, in no particular order.
  template <class F>
  void for_each(F f) const {
    for (size_t i = front_pos_; i < front_.size(); ++i) f(front_[i]);
    for (const auto& bucket : buckets_) {
      for (const QueueKey& k : bucket) f(k);
    }
  }

 private:
  static constexpr unsigned kBuckets = 64;

  unsigned bucket_of(uint64_t t) const { return 63u - static_cast<unsigned>(__builtin_clzll(t ^ last_)); }

  void insert_front(QueueKey k) {
    if (front_pos_ == front_.size()) {
      front_.clear();
      front_pos_ = 0;
      front_.push_back(k);
      return;
    }
    if (front_pos_ > 4096 && 2 * front_pos_ > front_.size()) {
      // A long stretch at one instant: drop the consumed prefix so the front does not grow without end.
      front_.erase(front_.begin(), front_.begin() + static_cast<std::ptrdiff_t>(front_pos_));
      front_pos_ = 0;
    }
    if (!(k < front_.back())) {
      front_.push_back(k);  // the usual case: a later sequence in the same or a later phase
      return;
    }
    front_.insert(std::upper_bound(front_.begin() + static_cast<std::ptrdiff_t>(front_pos_), front_.end(), k), k);
  }

  std::vector<QueueKey> take_all() {
    std::vector<QueueKey> all;
    all.reserve(size_);
    for_each([&all](const QueueKey& k) { all.push_back(k); });
    return all;
  }

  void rebuild(const std::vector<QueueKey>& all, uint64_t last) {
    front_.clear();
    front_pos_ = 0;
    for (auto& bucket : buckets_) bucket.clear();
    mask_ = 0;
    last_ = last;
    for (const QueueKey& k : all) {
      if (k.time == last_) {
        front_.push_back(k);
      } else {
        const unsigned b = bucket_of(k.time);
        buckets_[b].push_back(k);
        mask_ |= uint64_t{1} << b;
      }
    }
    std::sort(front_.begin(), front_.end());
    size_ = all.size();
  }

  // A key before the current instant: restart the buckets from its time.
  void rebase(QueueKey k) {
    std::vector<QueueKey> all = take_all();
    all.push_back(k);
    rebuild(all, k.time);
  }

  uint64_t last_ = 0;                 // the current instant: every key's time is >= last_
  std::vector<QueueKey> front_;       // keys at last_, sorted, consumed from front_pos_
  size_t front_pos_ = 0;
  std::array<std::vector<QueueKey>, kBuckets> buckets_;
  uint64_t mask_ = 0;                 // bit b set iff buckets_[b] is non-empty
  size_t size_ = 0;
};

}  // namespace fleetsim
