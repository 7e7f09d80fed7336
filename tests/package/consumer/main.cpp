// Runs three events on the installed fleetsim engine and parses a duration: it compiles against the
// installed headers and links the installed libraries. Prints "ok 3 1h30m" on success.
#include "tools/run/simulation.hpp"
#include "sim/engine.hpp"
#include "sim/time.hpp"

#include <cstdio>

int main() {
  fleetsim::Engine engine;
  int ran = 0;
  for (int i = 1; i <= 3; ++i) {
    engine.schedule_in(fleetsim::Duration::hours(i), fleetsim::Phase::Arrival, [&ran] { ++ran; });
  }
  engine.run(fleetsim::SimTime::zero() + fleetsim::Duration::days(1));
  const fleetsim::Duration d = fleetsim::parse_duration("1.5h");
  std::printf("ok %d %s\n", ran, fleetsim::format_duration(d).c_str());
  return ran == 3 && d == fleetsim::Duration::minutes(90) ? 0 : 1;
}
