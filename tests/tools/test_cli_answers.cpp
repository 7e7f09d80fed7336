// SPDX-License-Identifier: Apache-2.0
// The terminal summary's outage answers cover the outages a failure preset brings, and book requests
// only to outages that take replicas down.
#include "tests/support/cli.hpp"

#include <catch2/catch.hpp>

using namespace fleetsim::test;

TEST_CASE("cli answers: a preset's outages are answered too, and a launch outage books no requests", "[cli][answers]") {
  TempDir tmp("cliansw");
  const auto r = run_fleetsim(fmt::format("run scenarios/quickstart.json -o '{}' --no-report", (tmp.path / "out").string()), tmp);
  REQUIRE(r.code == 0);
  // The quickstart's aws-us-east-1-2025-10-20 preset: a launch and a network outage.
  CHECK_THAT(r.out, Catch::Contains("outage      2025-10-20/ec2-launch in us-east-1 (launch, 8.18h from 2025-10-20T09:25Z): "
                                    "no training job or service was hit"));
  CHECK_THAT(r.out, Catch::Contains("2025-10-20/nlb in us-east-1 (network"));
  // The scenario's own full outages keep their chat figures.
  CHECK_THAT(r.out, Catch::Contains("outage2 in us-east-1 (full, 8.65h from 2025-10-20T12:30:00Z): chat: "));
}

TEST_CASE("cli answers: an outage whose duration is a number of seconds is answered, not an internal error",
          "[cli][answers]") {
  // Found by fuzz_cli: the loader takes a number as seconds (`--set /failures/outages/0/duration=2.0`),
  // and the answers read the field as a string: exit 70 after the run had finished.
  TempDir tmp("cliansw-num");
  const auto r = run_fleetsim(fmt::format("run scenarios/quickstart.json -o '{}' --no-report --until 1d "
                                          "--set /failures/outages/0/duration=10800",
                                          (tmp.path / "out").string()),
                              tmp);
  INFO(r.err);
  REQUIRE(r.code == 0);
  CHECK_THAT(r.out, Catch::Contains("(full, 3h from 2025-10-20T06:48:00Z)"));
}
