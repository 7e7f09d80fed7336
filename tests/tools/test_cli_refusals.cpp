// SPDX-License-Identifier: Apache-2.0
// Refusals found by fuzz_cli's one-hour run (docs/fuzzing.md): a run refused while its world is built
// leaves no directory it made, and a date far outside int64 nanoseconds of the run's start is an error
// at its pointer, not a signed overflow.
#include "tests/support/cli.hpp"

#include <catch2/catch.hpp>

#include <filesystem>

using namespace fleetsim::test;

TEST_CASE("cli refusals: a service that does not fit its hosts leaves no output directory", "[cli][hostile]") {
  TempDir tmp("clirefuse");
  const auto out = tmp.path / "out";
  // fuzz_cli's input: the loader accepts it, and the world's placement finds the region's hosts taken
  // by the other services (tests/data/scenarios/service-hosts-taken.json).
  const auto r = run_fleetsim(fmt::format("run '{}/scenarios/service-hosts-taken.json' -o '{}' --max-events 20000",
                                          FLEETSIM_TEST_DATA, out.string()),
                              tmp);
  INFO(r.err);
  CHECK(r.code == 65);
  CHECK_THAT(r.err, Catch::Contains("free hosts"));
  CHECK_FALSE(std::filesystem::exists(out));
}

TEST_CASE("cli refusals: an outage dated centuries before the run is refused at its pointer", "[cli][hostile]") {
  TempDir tmp("clirefuse-date");
  const auto r = run_fleetsim("validate scenarios/quickstart.json --set /failures/outages/0/from=1677-09-22T00:00:00Z", tmp);
  INFO(r.err);
  CHECK(r.code == 65);
  CHECK_THAT(r.err, Catch::Contains("/failures/outages/0/from") && Catch::Contains("an instant within the run"));
}
