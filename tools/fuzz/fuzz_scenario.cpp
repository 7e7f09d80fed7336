// SPDX-License-Identifier: Apache-2.0
// libFuzzer target: the whole scenario loader (JSON syntax, every section, catalogs, units) on
// arbitrary bytes. The contract under test (models/scenario/load_scenario.hpp): bad input throws
// ScenarioError with at least one diagnostic and nothing else; good input yields a Scenario whose
// resolved document reloads to the same hash. Anything else (another exception, a crash, a sanitizer
// report, a hang) is a finding. Built by the `fuzz` preset; how to run it: docs/fuzzing.md.
#include "models/scenario/diagnostics.hpp"
#include "models/scenario/load_scenario.hpp"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string_view>

namespace {

[[noreturn]] void finding(const char* what, const char* detail) {
  std::fprintf(stderr, "fuzz_scenario: %s: %s\n", what, detail);
  std::abort();
}

// The loader builds every network cluster's fabric to check its shape. The flagship's eleven fabrics
// (427,600 GPUs, 1.7 M links) take longer than the 10 s hang limit to build under ASan, which made
// the seed itself a "timeout". Fabric building is fuzzed on clusters up to this size; the shape
// checks and limits are the same at every size (tests/models/scenario/test_load_network.cpp covers the
// production limit).
fleetsim::LoadOptions fuzz_options() {
  fleetsim::LoadOptions o;
  o.max_cluster_gpus = 16384;
  return o;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  static const fleetsim::LoadOptions options = fuzz_options();
  fleetsim::Scenario s;
  try {
    s = fleetsim::load_scenario_text(text, "fuzz.json", options);
  } catch (const fleetsim::ScenarioError& e) {
    if (e.diagnostics().empty()) finding("ScenarioError without a diagnostic", e.what());
    return 0;
  } catch (const std::exception& e) {
    finding("exception other than ScenarioError", e.what());
  }
  // A valid scenario's resolved form (every default written in) must itself be valid and describe
  // the same run: `fleetsim run resolved.json` reproduces the original.
  try {
    const fleetsim::Scenario again = fleetsim::load_scenario_text(s.resolved.dump(), "resolved.json", options);
    if (again.run.seed != s.run.seed || again.run.horizon != s.run.horizon)
      finding("resolved.json describes another run", s.resolved.dump().c_str());
  } catch (const std::exception& e) {
    finding("resolved.json of a valid scenario does not load", e.what());
  }
  return 0;
}
