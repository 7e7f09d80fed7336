// SPDX-License-Identifier: Apache-2.0
// Every exception class fleetsim throws on purpose belongs to the one taxonomy (sim/error.hpp): the
// mapping gives each its documented exit code (README.md "Exit codes") and the message the CLI prints.
#include "models/inference/inference_spec.hpp"
#include "models/network/topology.hpp"
#include "models/scenario/diagnostics.hpp"
#include "models/scenario/topology_file.hpp"
#include "sim/atomic_file.hpp"
#include "sim/error.hpp"

#include <catch2/catch.hpp>

using namespace fleetsim;

TEST_CASE("error kinds: an invalid scenario exits 65 with its diagnostics as they are", "[error]") {
  Diagnostics d("s.json");
  d.error("/fleet/regions/1/gpus", "expected a positive integer, got -8");
  const ScenarioError e(d);
  const ErrorExit x = error_exit(e);
  CHECK(x.code == 65);
  CHECK(x.message == "error: s.json: /fleet/regions/1/gpus: expected a positive integer, got -8");
}

TEST_CASE("error kinds: a missing scenario exits 66", "[error]") {
  const ErrorExit x = error_exit(InputError("nowhere.json", "No such file or directory"));
  CHECK(x.code == 66);
  CHECK(x.message == "error: nowhere.json: cannot read: No such file or directory");
}

TEST_CASE("error kinds: topology and inference spec errors are invalid input, exit 65", "[error]") {
  const ErrorExit topology = error_exit(TopologyError("cluster \"c1\": radix 8 is too small for 4096 GPUs"));
  CHECK(topology.code == 65);
  CHECK(topology.message == "error: cluster \"c1\": radix 8 is too small for 4096 GPUs");
  const ErrorExit file = error_exit(TopologyFileError("fabric.graphml: line 3: no <graph>"));
  CHECK(file.code == 65);
  const ErrorExit spec = error_exit(InferenceSpecError("service \"chat\": tp 16 exceeds the H100 scale-up"));
  CHECK(spec.code == 65);
  CHECK(spec.message == "error: service \"chat\": tp 16 exceeds the H100 scale-up");
  // Still what their callers catch them as.
  CHECK_THROWS_AS(throw TopologyError("x"), std::invalid_argument);
  CHECK_THROWS_AS(throw InferenceSpecError("x"), std::invalid_argument);
}

TEST_CASE("error kinds: outputs that cannot be created or written exit 73 and 74", "[error]") {
  CHECK(error_exit(OutputError(OutputError::Kind::Create, "out/x", "Permission denied")).code == 73);
  CHECK(error_exit(OutputError(OutputError::Kind::Write, "out/x", "File too large")).code == 74);
}
