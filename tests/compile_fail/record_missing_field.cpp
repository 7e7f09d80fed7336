// SPDX-License-Identifier: Apache-2.0
// Must NOT compile (CTest record:missing-field-does-not-compile expects the static_assert's message):
// a record whose fields() forgets a member cannot be published, so a column cannot go missing.
#include "sim/recorder.hpp"

#include <string_view>
#include <tuple>

namespace {
struct Forgot {
  static constexpr std::string_view kind = "forgot";
  int a = 0;
  int b = 0;  // no field below
  static constexpr auto fields() { return std::tuple{fleetsim::field("a", &Forgot::a)}; }
};
}  // namespace

void publish_it(fleetsim::Recorder& rec) {
#ifdef FLEETSIM_COMPILE_FAIL_CONTROL
  rec.event(fleetsim::SimTime::zero(), Forgot::kind);  // the control: the same file without the record compiles
#else
  rec.publish(fleetsim::SimTime::zero(), Forgot{});
#endif
}
