// SPDX-License-Identifier: Apache-2.0
// Routing policies from the command line: a run with a pinned routes file whose route names a switch
// the fabric lacks exits 65 with the pointer, file, line and element, and leaves no output directory;
// each policy runs the scenario to completion.
#include "tests/support/cli.hpp"

#include <catch2/catch.hpp>

#include <fstream>

using namespace fleetsim::test;
using Catch::Matchers::Contains;

TEST_CASE("cli routing: a bad pinned route exits 65 naming the line and the element", "[cli][routing]") {
  TempDir tmp("cli-routing");
  const auto routes = tmp.path / "bad.routes";
  std::ofstream(routes) << "# a spine that does not exist\n"
                           "train/gpu0 train/p0/leaf0 train/p0/spine999 train/p0/leaf1 train/gpu32\n";
  const auto out = tmp.path / "out";
  const auto r = run_fleetsim(
      fmt::format("run scenarios/network-link-failures.json -q --until 1h -o '{}' --set "
                  "'/network/clusters/0/routing={{\"policy\": \"pinned\", \"routes\": \"{}\"}}'",
                  out.string(), routes.string()),
      tmp);
  CHECK(r.code == 65);
  CHECK_THAT(r.err, Contains("/network/clusters/0/routing/routes") &&
                        Contains("bad.routes: line 2, element 3 \"train/p0/spine999\": no vertex of this name"));
  CHECK(!std::filesystem::exists(out));
}

TEST_CASE("cli routing: every policy runs the scenario", "[cli][routing]") {
  TempDir tmp("cli-routing-ok");
  const auto routes = tmp.path / "ok.routes";
  std::ofstream(routes) << "train/gpu0 train/p0/leaf0 train/p0/spine1 train/p0/leaf1 train/gpu32\n";
  for (const std::string policy : {"spray", "adaptive", "pinned"}) {
    const std::string routing = policy == "pinned"
                                    ? fmt::format("{{\"policy\": \"pinned\", \"routes\": \"{}\"}}", routes.string())
                                    : fmt::format("{{\"policy\": \"{}\"}}", policy);
    const auto r = run_fleetsim(fmt::format("run scenarios/network-link-failures.json -q --until 2h -o '{}' --set "
                                            "'/network/clusters/0/routing={}'",
                                            (tmp.path / policy).string(), routing),
                                tmp);
    CHECK(r.code == 0);
    CHECK(std::filesystem::exists(tmp.path / policy / "summary.json"));
  }
}
