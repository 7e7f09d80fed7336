// SPDX-License-Identifier: Apache-2.0
// The one component-path parser (models/hardware/component_path.hpp), shared by Fleet::find and the
// failures loader's path check.
#include <catch2/catch.hpp>

#include "models/hardware/component_path.hpp"

using namespace fleetsim;

TEST_CASE("component path: split on '/', at most six parts", "[hardware][path]") {
  const ComponentPathParts p = split_component_path("us-east-1/use1-az4/dc1/rack3/node2/gpu5");
  REQUIRE(p.size == 6);
  CHECK(p.parts[0] == "us-east-1");
  CHECK(p.parts[5] == "gpu5");
  CHECK(split_component_path("us-east-1").size == 1);
  CHECK(split_component_path("").size == 1);  // one empty part: matches no region
  const ComponentPathParts empty_middle = split_component_path("a//b");
  REQUIRE(empty_middle.size == 3);
  CHECK(empty_middle.parts[1].empty());
  CHECK(split_component_path("a/b/c/rack0/node0/gpu0/x").size == 0);  // seven parts: not a path
}

TEST_CASE("component path: indices have one spelling", "[hardware][path]") {
  CHECK(path_index("rack12", "rack") == 12u);
  CHECK(path_index("rack0", "rack") == 0u);
  CHECK(path_index("gpu4294967295", "gpu") == 4294967295u);
  CHECK_FALSE(path_index("gpu4294967296", "gpu"));  // beyond uint32
  CHECK_FALSE(path_index("rack03", "rack"));        // leading zero
  CHECK_FALSE(path_index("rack", "rack"));
  CHECK_FALSE(path_index("rack-1", "rack"));
  CHECK_FALSE(path_index("rack+1", "rack"));
  CHECK_FALSE(path_index("node1", "rack"));
  CHECK_FALSE(path_index("rack1x", "rack"));
}
