// SPDX-License-Identifier: Apache-2.0
// IndexBitset: a set of indices in [0, n) as one bit each, iterated in increasing order.
//
//   IndexBitset s(100'000);
//   s.insert(42);                                      // true: it was not there
//   for (auto u = s.lower_bound(40); u != s.end() && *u < 50; ++u) ...   // as with std::set
//   uint32_t next = s.next(43);                        // first member >= 43, or IndexBitset::npos
//
// Why not std::set<uint32_t>: a scheduler's "which nodes are unallocated" changes on every take and
// release and is scanned range by range; a balanced tree pays an allocation and a rebalance per change
// and a pointer chase per step of a scan, where a bit per index costs a word operation and a scan skips
// 64 absent indices at a time. The interface keeps std::set's names so the scans read the same.
//
// A second level (a bit per word: is any index of it present) lets next() skip 4,096 absent indices
// per word read, so finding the first member of a sparse set over a large fleet (a pool's few open
// nodes among 100,000) is a few dozen word reads, not thousands.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <vector>

namespace fleetsim {

class IndexBitset {
 public:
  static constexpr uint32_t npos = UINT32_MAX;

  IndexBitset() = default;
  explicit IndexBitset(uint32_t n)
      : words_((static_cast<std::size_t>(n) + 63) / 64, 0), summary_((words_.size() + 63) / 64, 0), size_(n) {}

  uint32_t capacity() const { return size_; }
  bool contains(uint32_t i) const { return i < size_ && ((words_[i >> 6] >> (i & 63)) & 1u) != 0; }
  /// Adds i; true if it was absent.
  bool insert(uint32_t i) {
    uint64_t& w = words_[i >> 6];
    const uint64_t bit = uint64_t{1} << (i & 63);
    const bool added = (w & bit) == 0;
    w |= bit;
    summary_[i >> 12] |= uint64_t{1} << ((i >> 6) & 63);
    return added;
  }
  /// Removes i; true if it was present.
  bool erase(uint32_t i) {
    uint64_t& w = words_[i >> 6];
    const uint64_t bit = uint64_t{1} << (i & 63);
    const bool removed = (w & bit) != 0;
    w &= ~bit;
    if (w == 0) summary_[i >> 12] &= ~(uint64_t{1} << ((i >> 6) & 63));
    return removed;
  }
  /// The first member >= from, or npos.
  uint32_t next(uint32_t from) const {
    if (from >= size_) return npos;
    const std::size_t w = from >> 6;
    if (const uint64_t bits = words_[w] & (~uint64_t{0} << (from & 63)); bits != 0)
      return static_cast<uint32_t>(w * 64 + static_cast<std::size_t>(std::countr_zero(bits)));
    // The next word with a member, from the summary (words after w).
    std::size_t sw = (w + 1) >> 6;
    if (sw >= summary_.size()) return npos;
    uint64_t sbits = ((w + 1) & 63) == 0 ? summary_[sw] : summary_[sw] & (~uint64_t{0} << ((w + 1) & 63));
    while (sbits == 0) {
      if (++sw == summary_.size()) return npos;
      sbits = summary_[sw];
    }
    const std::size_t nw = sw * 64 + static_cast<std::size_t>(std::countr_zero(sbits));
    return static_cast<uint32_t>(nw * 64 + static_cast<std::size_t>(std::countr_zero(words_[nw])));
  }

  class const_iterator {
   public:
    using iterator_category = std::forward_iterator_tag;
    using value_type = uint32_t;
    using difference_type = std::ptrdiff_t;
    using pointer = const uint32_t*;
    using reference = uint32_t;
    const_iterator() = default;
    const_iterator(const IndexBitset* s, uint32_t i) : s_(s), i_(i) {}
    uint32_t operator*() const { return i_; }
    const_iterator& operator++() {
      i_ = i_ == npos ? npos : s_->next(i_ + 1);
      return *this;
    }
    bool operator==(const const_iterator& o) const { return i_ == o.i_; }
    bool operator!=(const const_iterator& o) const { return i_ != o.i_; }

   private:
    const IndexBitset* s_ = nullptr;
    uint32_t i_ = npos;
  };
  const_iterator begin() const { return {this, next(0)}; }
  const_iterator end() const { return {this, npos}; }
  const_iterator lower_bound(uint32_t i) const { return {this, next(i)}; }

 private:
  std::vector<uint64_t> words_;
  std::vector<uint64_t> summary_;  // bit k of word j: words_[64 j + k] is not zero
  uint32_t size_ = 0;
};

}  // namespace fleetsim
