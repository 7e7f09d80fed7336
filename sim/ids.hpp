// SPDX-License-Identifier: Apache-2.0
// Typed dense ids: an index that cannot be mixed up with an index of another kind.
//
//   using NodeId = Id<struct NodeTag>;
//   using GpuId = Id<struct GpuTag>;
//   NodeId n{17};
//   GpuId g = n;          // does not compile
//   n.value();            // 17, for indexing the vectors that hold per-node state
//
// Zero cost (one integer); ordered and hashable; no arithmetic, because adding two socket handles
// means nothing (the reason Chromium's StrongAlias exposes only comparisons). Id<Tag>::none() is an
// explicit "no id" (all bits set), never a valid index.
#pragma once

#include <compare>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <limits>

namespace fleetsim {

template <class Tag, class Rep = uint32_t>
class Id {
 public:
  using rep_type = Rep;
  constexpr Id() = default;
  constexpr explicit Id(Rep v) : v_(v) {}
  static constexpr Id none() { return Id{}; }
  constexpr Rep value() const { return v_; }
  constexpr bool valid() const { return v_ != std::numeric_limits<Rep>::max(); }
  friend constexpr auto operator<=>(Id, Id) = default;

 private:
  Rep v_ = std::numeric_limits<Rep>::max();
};

}  // namespace fleetsim

template <class Tag, class Rep>
struct std::hash<fleetsim::Id<Tag, Rep>> {
  size_t operator()(fleetsim::Id<Tag, Rep> id) const noexcept { return std::hash<Rep>{}(id.value()); }
};
