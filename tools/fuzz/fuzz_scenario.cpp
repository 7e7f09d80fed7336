// SPDX-License-Identifier: Apache-2.0
// libFuzzer target: the whole scenario loader (JSON syntax, every section, catalogs, units) on
// arbitrary bytes. The contract under test (models/world/load_scenario.hpp): bad input throws
// ScenarioError with at least one diagnostic and nothing else; good input yields a Scenario whose
// resolved document reloads to the same hash. Anything else (another exception, a crash, a sanitizer
// report, a hang) is a finding. Built by the `fuzz` preset; how to run it: docs/fuzzing.md.
#include "models/world/diagnostics.hpp"
#include "models/world/load_scenario.hpp"

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

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  fleetsim::Scenario s;
  try {
    s = fleetsim::load_scenario_text(text, "fuzz.json");
  } catch (const fleetsim::ScenarioError& e) {
    if (e.diagnostics().empty()) finding("ScenarioError without a diagnostic", e.what());
    return 0;
  } catch (const std::exception& e) {
    finding("exception other than ScenarioError", e.what());
  }
  // A valid scenario's resolved form (every default written in) must itself be valid and describe
  // the same run: `fleetsim run resolved.json` reproduces the original.
  try {
    const fleetsim::Scenario again = fleetsim::load_scenario_text(s.resolved.dump(), "resolved.json");
    if (again.run.seed != s.run.seed || again.run.horizon != s.run.horizon)
      finding("resolved.json describes another run", s.resolved.dump().c_str());
  } catch (const std::exception& e) {
    finding("resolved.json of a valid scenario does not load", e.what());
  }
  return 0;
}
