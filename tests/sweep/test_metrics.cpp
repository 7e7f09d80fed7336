// SPDX-License-Identifier: Apache-2.0
// Metrics: numeric leaves of a summary, named by JSON pointer, and --metric selection.
#include "tools/sweep/metrics.hpp"

#include <catch2/catch.hpp>

using namespace fleetsim::sweep;

TEST_CASE("sweep: metrics are the numeric leaves with pointer names", "[sweep][metrics]") {
  const auto doc = nlohmann::json::parse(R"({
    "complete": true, "fingerprint": "abc", "seed": 42, "events_executed": 297,
    "training": {"jobs": {"llm/70b": {"goodput": 0.99, "name": "x"}}},
    "list": [1.5, {"a~b": 2}], "none": null})");
  const Metrics m = numeric_leaves(doc);
  REQUIRE(m.size() == 4);
  CHECK(m[0].name == "/events_executed");
  CHECK(m[0].value.is_number_integer());
  CHECK(m[1].name == "/list/0");
  CHECK(m[2].name == "/list/1/a~0b");   // RFC 6901 escapes
  CHECK(m[3].name == "/training/jobs/llm~170b/goodput");
  CHECK(m[3].as_double() == 0.99);
  // Every name is a pointer that finds its value again.
  for (const auto& x : m) CHECK(doc.at(nlohmann::json::json_pointer(x.name)) == x.value);
}

TEST_CASE("sweep: a selector picks a leaf or a subtree", "[sweep][metrics]") {
  CHECK(selected("/training/goodput", {"/training"}));
  CHECK(selected("/training/goodput", {"training/goodput"}));
  CHECK(selected("/training/goodput", {"/training/"}));
  CHECK_FALSE(selected("/training_extra/x", {"/training"}));
  CHECK_FALSE(selected("/failures/x", {"/training"}));
  CHECK(selected("/anything", {}));
}
