// SPDX-License-Identifier: Apache-2.0
// `fleetsim topology`: a scenario's network written as GraphML and DOT reads back with the same counts;
// a bad topology file exits 65 naming the element and the attribute, and writes nothing.
#include "tests/support/cli.hpp"

#include <catch2/catch.hpp>

#include <fstream>

using namespace fleetsim::test;
using Catch::Matchers::Contains;

TEST_CASE("cli topology: a scenario's fabric round-trips through GraphML and DOT", "[cli][topology_file]") {
  TempDir tmp("cli-topology");
  const auto built = run_fleetsim(fmt::format("topology scenarios/network-link-failures.json --write '{}'",
                                              (tmp.path / "f.graphml").string()),
                                  tmp);
  REQUIRE(built.code == 0);
  const std::string counts = built.out.substr(built.out.find(':'), built.out.find('\n') - built.out.find(':'));
  for (const char* ext : {"graphml", "dot"}) {
    const auto path = (tmp.path / fmt::format("g.{}", ext)).string();
    REQUIRE(run_fleetsim(fmt::format("topology '{}' --write '{}'", (tmp.path / "f.graphml").string(), path), tmp).code == 0);
    const auto back = run_fleetsim(fmt::format("topology '{}'", path), tmp);
    REQUIRE(back.code == 0);
    CHECK_THAT(back.out, Contains(counts));
  }
}

TEST_CASE("cli topology: a capacity without a unit exits 65 and writes nothing", "[cli][topology_file]") {
  TempDir tmp("cli-topology-bad");
  const auto bad = tmp.path / "bad.dot";
  std::ofstream(bad) << "graph g { g0 [kind=gpu]; s [kind=leaf]; g0 -- s [capacity=\"400\"]; }\n";
  const auto out = tmp.path / "out.graphml";
  const auto r = run_fleetsim(fmt::format("topology '{}' --write '{}'", bad.string(), out.string()), tmp);
  CHECK(r.code == 65);
  CHECK_THAT(r.err, Contains("edge \"g0\" -- \"s\"") && Contains("\"capacity\"") && Contains("no unit"));
  CHECK(!std::filesystem::exists(out));
}
