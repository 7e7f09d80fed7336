// SPDX-License-Identifier: Apache-2.0
// Must NOT compile (CTest record:row-of-another-record-does-not-compile): a table declared from one
// record takes only that record's rows, so a row cannot carry another table's columns.
#include "sim/recorder.hpp"

#include <string_view>
#include <tuple>

namespace {
struct A {
  static constexpr std::string_view table = "a";
  int x = 0;
  static constexpr auto fields() { return std::tuple{fleetsim::field("x", &A::x)}; }
};
struct B {
  static constexpr std::string_view table = "b";
  int x = 0, y = 0;
  static constexpr auto fields() { return std::tuple{fleetsim::field("x", &B::x), fleetsim::field("y", &B::y)}; }
};
}  // namespace

void write_it(fleetsim::Recorder& rec) {
  const auto t = rec.table<A>();
#ifdef FLEETSIM_COMPILE_FAIL_CONTROL
  rec.row(t, A{});
#else
  rec.row(t, B{});
#endif
}
