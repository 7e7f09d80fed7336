// SPDX-License-Identifier: Apache-2.0
// EventQueue: the future-event set under Engine, a radix heap over event times with a sorted front.
//
//   EventQueue q;
//   q.push(QueueKey{t, QueueKey::pack(phase, seq, slot)});      // requires t >= the last popped time
//   if (const QueueKey* k = q.top_until(horizon)) { use(*k); q.pop(); }
//
// Keys are 16 bytes: time, then `order` = phase (3 bits) | scheduling sequence (32 bits) | slot id
// (29 bits); they compare lexicographically, so ties in time break by phase, then sequence. The slot
// names where the engine keeps the event's callback.
//
// Why a radix heap. A discrete-event simulation never schedules before now, so the queue is monotone:
// every key pushed is at or after the last key popped (time `last_`). A radix heap (Ahuja, Mehlhorn,
// Orlin and Tarjan, "Faster algorithms for the shortest path problem", JACM 1990) exploits that. Read
// times in base 16: a key goes to bucket (L, d) where L is the highest digit at which its time differs
// from `last_` and d is its digit there. Every key in (L, d) is earlier than every key in (L, d+1) and
// in level L+1, so the minimum is in the lowest non-empty bucket, found with two bit scans. Taking it
// moves `last_` to that bucket's smallest time and redistributes the bucket's keys into strictly lower
// levels; a key is placed at most 16 times in its life, in PHOLD 2.9 times on average (its push
// included). A level-0 bucket holds a single time and becomes the front as it is. Pushes are appends
// to a bucket's chain of 2 KiB blocks (taken from a pool, see Bucket storage below), and every access
// is a sequential sweep over blocks. In the same engine on PHOLD, a 4-ary
// heap of the same 16-byte keys reached 3.2 million events per CPU-second and this queue 13.7 million
// (docs/PERFORMANCE.md): the heap waits on cache misses in its sift-downs, and above all it knows only
// its minimum, while this queue's sorted front lets the engine prefetch the callbacks of the next
// events (without that prefetch: 5.0 million).
//
// The front: the smallest keys, sorted, consumed from `front_pos_`; every key in a bucket is larger
// than every key in the front. Whenever kAhead + 1 keys or fewer follow its top, it is topped up from the
// lowest buckets (small ones appended whole and sorted by spread_sort, a large one redistributed) until
// it holds a few dozen,
// so the next kAhead events are always known in advance, whether times are dense (many events per
// instant) or sparse (one per instant), and the engine prefetches their callbacks (peek_ahead). Ties
// come out in (phase, sequence) order because the front is sorted by the whole key. A key pushed
// below the front's last key is inserted into it in order. Before the top-up, the front held one
// bucket at a time, and with sparse times its last few events were not prefetched: PHOLD with 1 s
// mean delays ran at 8.1 million events per CPU-second against 16.4 million with 1 us. Since then
// (issue 21 item 3): buckets in pooled blocks instead of growing vectors, small buckets sorted by one
// counting pass, and buckets of up to 1,024 keys appended whole while few pushes land inside the front
// (0.66-0.77x the CPU time on PHOLD at 1 us, 1 ms and 1 s mean delays; docs/PERFORMANCE.md).
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <utility>
#include <vector>

namespace fleetsim {

struct QueueKey {
  static constexpr int kSlotBits = 29;
  static constexpr int kSeqBits = 32;
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
  /// peek_ahead(d) finds a key for every d <= kAhead while that many keys follow the top: the queue
  /// tops up its front before it runs shorter (the engine prefetches this many events ahead).
  static constexpr size_t kAhead = 4;

  EventQueue() = default;
  EventQueue(const EventQueue&) = delete;
  EventQueue& operator=(const EventQueue&) = delete;

  bool empty() const { return size_ == 0; }
  size_t size() const { return size_; }

  /// Adds a key. Keys before the last popped time are accepted but cost a rebuild (O(n)); the engine
  /// never pushes them.
  void push(QueueKey k) {
    ++size_;
    if (++window_pushes_ == kWindow) [[unlikely]] adapt_whole_limit();
    if (front_pos_ < front_.size() && k < front_.back()) {
      insert_front(k);  // within the range the front covers
    } else if (k.time > last_) [[likely]] {
      to_bucket(k);
    } else if (k.time == last_ || front_pos_ < front_.size()) {
      // At the current instant, or between the front's last key and `last_` (after the front was
      // topped up by redistributing a bucket, see refill_and_top): later than every key in the front
      // and earlier than every bucketed key.
      insert_front(k);
    } else {
      --size_;
      rebase(k);
    }
  }

  /// The smallest key if its time is <= limit, else nullptr (also when empty). Buckets are redistributed
  /// only when a key is returned, so after nullptr keys down to the last popped time may still be pushed.
  const QueueKey* top_until(uint64_t limit) {
    // After pop(), peek_ahead(kAhead) should still find a key: kAhead + 1 keys past the top.
    if (front_pos_ + kAhead + 1 < front_.size()) [[likely]] {
      const QueueKey* k = &front_[front_pos_];
      return k->time <= limit ? k : nullptr;
    }
    return refill_and_top(limit);
  }

  /// Removes the key top_until() just returned.
  void pop() {
    ++front_pos_;
    --size_;
  }

  /// The key d places after the current top, or nullptr: a hint for prefetching, valid until the next
  /// push or top_until. Not null for d <= kAhead when at least d keys follow the top.
  const QueueKey* peek_ahead(size_t d) const {
    return front_pos_ + d < front_.size() ? &front_[front_pos_ + d] : nullptr;
  }

  /// Pre-sizes the front for many same-instant events and the bucket storage for n keys (optional).
  void reserve(size_t n) {
    front_.reserve(std::min<size_t>(n, 1 << 16));
    const size_t blocks = n / kBlockKeys + kBuckets;
    if (blocks > pool_blocks_) grow_pool(blocks - pool_blocks_);
  }

  /// Blocks of kBlockKeys keys held by the bucket storage, in use or free (for memory tests).
  size_t pool_blocks() const { return pool_blocks_; }
  static constexpr size_t block_keys() { return kBlockKeys; }

  /// Removes every key for which drop(key) is true (called exactly once per key).
  template <class Drop>
  void remove_if(Drop drop) {
    front_.erase(front_.begin(), front_.begin() + static_cast<std::ptrdiff_t>(front_pos_));
    front_pos_ = 0;
    front_.erase(std::remove_if(front_.begin(), front_.end(), drop), front_.end());
    size_t n = front_.size();
    std::vector<QueueKey> kept;
    for (unsigned i = 0; i < kBuckets; ++i) {
      Bucket& bucket = buckets_[i];
      if (bucket.head == nullptr) continue;
      kept.clear();
      visit_keys(bucket, [&](const QueueKey& k) {
        if (!drop(k)) kept.push_back(k);
      });
      release(bucket);
      // The kept keys go back into the same bucket: `last_` has not moved.
      for (const QueueKey& k : kept) append(bucket, k);
      if (bucket.head == nullptr) clear_bit(i / kDigits, i % kDigits);
      n += kept.size();
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
    for (const Bucket& bucket : buckets_) visit_keys(bucket, f);
  }

 private:
  // Times are read in base 2^kDigitBits: level L is the position of the highest digit where a key's
  // time differs from last_, and the bucket is (L, that digit of the key's time). Base 16 makes a key
  // move about a quarter as often as base 2, for 16 x 16 buckets.
  static constexpr unsigned kDigitBits = 4;
  static constexpr unsigned kDigits = 1u << kDigitBits;
  static constexpr unsigned kLevels = (64 + kDigitBits - 1) / kDigitBits;
  static constexpr unsigned kBuckets = kLevels * kDigits;
  static_assert(kDigits <= 64 && kLevels <= 32, "digit masks are 64-bit, the level mask 32-bit");
  // A bucket of at most whole_limit_ keys becomes the front whole (sorted by spread_sort) instead of
  // being redistributed: kWholeLarge while pushes rarely land inside the front's range, kWholeSmall
  // once they do, as each such push is an insertion into the sorted front that moves the keys after
  // it (adapt_whole_limit).
  static constexpr size_t kWholeSmall = 64;
  static constexpr size_t kWholeLarge = 1024;
  static constexpr uint32_t kWindow = 4096;  // pushes between two choices of the limit
  // kAhead + kTopUp: how many keys a top-up aims at (more than kAhead, so it happens once per ~kTopUp
  // events; few enough that appended small buckets stay cheap to sort).
  static constexpr size_t kTopUp = 32;

  // The slow path of top_until: the front holds kAhead + 1 keys or fewer after its top. Tops it up from
  // the lowest buckets so the engine can keep prefetching kAhead events ahead (see the file comment).
  // A small bucket (or a level-0 one, of a single time) is appended whole: each of its keys is later
  // than every key in the front, so it only needs sorting within itself, and `last_` stays (still at or
  // before every bucketed key, which is all the radix heap needs). A larger bucket is redistributed:
  // `last_` moves to its smallest time m, the keys at m are appended and the others go to lower levels.
  // That may leave `last_` after the front's last key; push() then puts a key between the two into the
  // front, so nothing is rebuilt, and the front cannot run out before the keys at m are popped.
  const QueueKey* refill_and_top(uint64_t limit) {
    if (front_pos_ == front_.size()) {
      front_.clear();
      front_pos_ = 0;
      if (level_mask_ == 0) return nullptr;
      // With nothing in the front, reorganize only if a key will be returned: after nullptr the caller
      // may push keys anywhere from its limit on, which must stay at or after `last_`.
      if (lowest_time() > limit) return nullptr;
    } else if (front_pos_ > 0) {
      // Drop the consumed prefix (at most kAhead + 2 keys remain) so the front does not grow without end.
      front_.erase(front_.begin(), front_.begin() + static_cast<std::ptrdiff_t>(front_pos_));
      front_pos_ = 0;
    }
    while (front_.size() <= kAhead + 1 + kTopUp && level_mask_ != 0) {
      const auto level = static_cast<unsigned>(__builtin_ctz(level_mask_));
      const auto digit = static_cast<unsigned>(__builtin_ctzll(digit_mask_[level]));
      Bucket& bucket = buckets_[level * kDigits + digit];
      clear_bit(level, digit);
      const size_t from = front_.size();
      if (level == 0 || size_t{bucket.blocks - 1} * kBlockKeys + bucket.tail_n <= whole_limit_) {
        visit_keys(bucket, [this](const QueueKey& k) { front_.push_back(k); });
        release(bucket);
      } else {
        const uint64_t m = bucket.min;
        last_ = m;
        // The keys at m stay in the front; the others share the digits above `level` with m, so they
        // go to lower levels, never back into this bucket: it is emptied first, and each block goes
        // back to the pool once read, where the next block a lower bucket needs is taken from.
        Block* b = bucket.head;
        Block* const tail = bucket.tail;
        const uint32_t tail_n = bucket.tail_n;
        bucket = Bucket{};
        while (b != nullptr) {
          const uint32_t n = b == tail ? tail_n : kBlockKeys;
          // The bucket's blocks were written long ago and lie apart: fetch the next one while this
          // one is redistributed (the hardware prefetcher follows a block, not the link).
          if (b->next != nullptr) prefetch_block(b->next);
          for (uint32_t i = 0; i < n; ++i) {
            const QueueKey& k = b->keys[i];
            if (k.time == m) {
              front_.push_back(k);
            } else {
              to_bucket(k);
            }
          }
          Block* const next = b->next;
          b->next = free_blocks_;
          free_blocks_ = b;
          b = next;
        }
      }
      sort_tail(from);
    }
    const QueueKey* k = &front_[front_pos_];
    return k->time <= limit ? k : nullptr;
  }

  // The smallest bucketed time (some bucket is non-empty): in the lowest bucket.
  uint64_t lowest_time() const {
    const auto level = static_cast<unsigned>(__builtin_ctz(level_mask_));
    const auto digit = static_cast<unsigned>(__builtin_ctzll(digit_mask_[level]));
    return buckets_[level * kDigits + digit].min;
  }

  void to_bucket(QueueKey k) {
    const auto high_bit = static_cast<unsigned>(63 - __builtin_clzll(k.time ^ last_));
    const unsigned level = high_bit / kDigitBits;
    const auto digit = static_cast<unsigned>(k.time >> (level * kDigitBits)) & (kDigits - 1);
    append(buckets_[level * kDigits + digit], k);
    digit_mask_[level] |= uint64_t{1} << digit;
    level_mask_ |= 1u << level;
  }

  // Bucket storage. A bucket is a chain of fixed-size blocks taken from one pool and given back whole
  // when the bucket is drained; blocks are reused last in, first out, so the block a push needs is
  // usually one just read (still in cache). Growing vectors instead copied every bucket at each
  // doubling and touched fresh pages (memmove and page faults were 12% of PHOLD with 1 s delays), and
  // as buckets took turns holding most keys, their peak capacities had to be freed again or memory
  // crept up (docs/PERFORMANCE.md). The pool holds at most one block per kBlockKeys keys pending plus
  // one partly filled block per bucket, and never shrinks. Hand-written because no standard container
  // gives a chain of reused blocks with O(1) splicing of a whole chain back into a free list.
  static constexpr uint32_t kBlockKeys = 127;  // with the link: 2 KiB per block
  struct Block {
    Block* next;
    uint64_t pad_;  // keeps keys 16-byte aligned
    QueueKey keys[kBlockKeys];
  };
  static_assert(sizeof(Block) == 2048);
  struct Bucket {
    Block* head = nullptr;
    Block* tail = nullptr;
    uint32_t tail_n = kBlockKeys;  // keys in the tail block; full when empty, so the first push links one
    uint32_t blocks = 0;
    uint64_t min = UINT64_MAX;     // the smallest time in the bucket
  };

  void append(Bucket& bucket, QueueKey k) {
    if (bucket.tail_n == kBlockKeys) [[unlikely]] link_block(bucket);
    bucket.tail->keys[bucket.tail_n++] = k;
    bucket.min = std::min(bucket.min, k.time);
  }

  void link_block(Bucket& bucket) {
    if (free_blocks_ == nullptr) grow_pool(1);
    Block* b = free_blocks_;
    free_blocks_ = b->next;
    b->next = nullptr;
    if (bucket.tail != nullptr) {
      bucket.tail->next = b;
    } else {
      bucket.head = b;
    }
    bucket.tail = b;
    bucket.tail_n = 0;
    ++bucket.blocks;
  }

  // Adds at least `blocks` blocks to the pool, in slabs of at least 64 (128 KiB).
  void grow_pool(size_t blocks) {
    const size_t n = std::max<size_t>(blocks, 64);
    slabs_.push_back(std::make_unique<Block[]>(n));
    Block* slab = slabs_.back().get();
    for (size_t i = 0; i < n; ++i) {
      slab[i].next = free_blocks_;
      free_blocks_ = &slab[i];
    }
    pool_blocks_ += n;
  }

  // Gives a bucket's whole chain back to the pool in O(1) and empties the bucket.
  void release(Bucket& bucket) {
    if (bucket.head != nullptr) {
      bucket.tail->next = free_blocks_;
      free_blocks_ = bucket.head;
    }
    bucket = Bucket{};
  }

  static void prefetch_block(const Block* b) {
    const auto* p = reinterpret_cast<const char*>(b);
    for (size_t off = 0; off < sizeof(Block); off += 64) __builtin_prefetch(p + off);
  }

  template <class F>
  static void visit_keys(const Bucket& bucket, F&& f) {
    for (const Block* b = bucket.head; b != nullptr; b = b->next) {
      const uint32_t n = b == bucket.tail ? bucket.tail_n : kBlockKeys;
      for (uint32_t i = 0; i < n; ++i) f(b->keys[i]);
    }
  }

  void clear_bit(unsigned level, unsigned digit) {
    digit_mask_[level] &= ~(uint64_t{1} << digit);
    if (digit_mask_[level] == 0) level_mask_ &= ~(1u << level);
  }

  // Sorts a front whose keys share one time, so only `order` needs comparing.
  void sort_front_one_time() {
    const auto by_order = [](const QueueKey& a, const QueueKey& b) { return a.order < b.order; };
    if (!std::is_sorted(front_.begin(), front_.end(), by_order)) std::sort(front_.begin(), front_.end(), by_order);
  }

  // Sorts front_[from ..]. The keys there are often sorted already: pushes arrive in scheduling order
  // and redistribution keeps their relative order, so a level-0 bucket (one time) of one phase is.
  void sort_tail(size_t from) {
    QueueKey* const first = front_.data() + from;
    QueueKey* const last = front_.data() + front_.size();
    if (std::is_sorted(first, last)) return;
    const auto n = static_cast<size_t>(last - first);
    if (n <= kSpreadMax) {
      spread_sort(first, n);
    } else {
      std::sort(first, last);
    }
  }

  // Sorts a few dozen keys: a small bucket appended whole, whose times are spread over its range (with
  // sparse times, mostly one key per time). std::sort spent as much on them as redistribution did
  // (12% of PHOLD with 1 ms delays, mostly mispredicted compares in its insertion sort). Here one
  // counting pass on the time's offset from the smallest, in about one range per key (at least 64),
  // puts the keys almost in order (stable, branch-free); an insertion sort by the whole key then moves
  // each only within its range, at most kSpreadRun - 1 places (dense or clustered times go to
  // std::sort). The result is exactly sorted whatever the first pass did, which only permutes.
  static constexpr size_t kSpreadMax = kWholeLarge;
  static constexpr uint16_t kSpreadRun = 32;  // above this many keys in one range, std::sort instead
  void spread_sort(QueueKey* keys, size_t n) {
    uint64_t lo = keys[0].time;
    uint64_t hi = lo;
    for (size_t i = 1; i < n; ++i) {
      lo = std::min(lo, keys[i].time);
      hi = std::max(hi, keys[i].time);
    }
    // Many keys share times (several per nanosecond of the range): the counting pass would leave long
    // runs for the insertion sort.
    if (hi - lo < n) return std::sort(keys, keys + n);
    const unsigned range_bits = std::max(6u, static_cast<unsigned>(64 - __builtin_clzll(n - 1)));
    const auto width = static_cast<unsigned>(64 - __builtin_clzll(hi - lo));  // bits of hi - lo
    const unsigned shift = width > range_bits ? width - range_bits : 0;         // (t - lo) >> shift < ranges
    const size_t ranges = size_t{1} << range_bits;
    std::fill_n(spread_start_.begin(), ranges + 1, uint16_t{0});
    for (size_t i = 0; i < n; ++i) ++spread_start_[((keys[i].time - lo) >> shift) + 1];
    uint16_t most = 0;  // the most keys in one range
    for (size_t r = 1; r <= ranges; ++r) {
      most = std::max(most, spread_start_[r]);
      spread_start_[r] = static_cast<uint16_t>(spread_start_[r] + spread_start_[r - 1]);
    }
    // Clustered times (a few ranges hold most keys): the insertion sort would be quadratic.
    if (most > kSpreadRun) return std::sort(keys, keys + n);
    for (size_t i = 0; i < n; ++i) spread_[spread_start_[(keys[i].time - lo) >> shift]++] = keys[i];
    std::copy(spread_.begin(), spread_.begin() + static_cast<std::ptrdiff_t>(n), keys);
    for (size_t i = 1; i < n; ++i) {
      const QueueKey k = keys[i];
      size_t j = i;
      for (; j > 0 && k < keys[j - 1]; --j) keys[j] = keys[j - 1];
      keys[j] = k;
    }
  }


  // Large whole buckets save a redistribution of their keys (PHOLD with 1 s delays: 0.82x CPU with
  // up to 256 keys); but where short delays mix with long ones, many pushes land inside the large
  // front and each moves hundreds of keys (PHOLD with bimodal 1 ms delays: 1.2x CPU with up to 1,024
  // keys). The choice depends only on the sequence of keys, so runs stay deterministic.
  void adapt_whole_limit() {
    whole_limit_ = window_inserts_ * 64 <= kWindow ? kWholeLarge : kWholeSmall;
    window_pushes_ = 0;
    window_inserts_ = 0;
  }

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
    ++window_inserts_;
    front_.insert(std::upper_bound(front_.begin() + static_cast<std::ptrdiff_t>(front_pos_), front_.end(), k), k);
  }

  std::vector<QueueKey> take_all() {
    std::vector<QueueKey> all;
    all.reserve(size_);
    for_each([&all](const QueueKey& k) { all.push_back(k); });
    return all;
  }

  void rebuild(const std::vector<QueueKey>& all, uint64_t last) {
    // After a top-up, front keys may be earlier than `last_` (see refill_and_top).
    for (const QueueKey& k : all) last = std::min(last, k.time);
    front_.clear();
    front_pos_ = 0;
    for (Bucket& bucket : buckets_) release(bucket);
    digit_mask_.fill(0);
    level_mask_ = 0;
    last_ = last;
    for (const QueueKey& k : all) {
      if (k.time == last_) {
        front_.push_back(k);
      } else {
        to_bucket(k);
      }
    }
    sort_front_one_time();
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
  std::array<Bucket, kBuckets> buckets_;
  Block* free_blocks_ = nullptr;                // the pool's free blocks, linked through Block::next
  std::vector<std::unique_ptr<Block[]>> slabs_;  // the pool's memory
  size_t pool_blocks_ = 0;
  std::array<QueueKey, kSpreadMax> spread_;      // spread_sort's scratch
  size_t whole_limit_ = kWholeLarge;
  uint32_t window_pushes_ = 0;
  uint32_t window_inserts_ = 0;  // pushes inserted inside the front (not appended) in this window
  std::array<uint16_t, kSpreadMax * 2 + 1> spread_start_;
  std::array<uint64_t, kLevels> digit_mask_{};  // bit d of [L] set iff bucket (L, d) is non-empty
  uint32_t level_mask_ = 0;                     // bit L set iff some bucket of level L is non-empty
  size_t size_ = 0;
};

}  // namespace fleetsim
