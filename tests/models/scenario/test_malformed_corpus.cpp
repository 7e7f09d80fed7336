// SPDX-License-Identifier: Apache-2.0
// The malformed-scenario corpus (tests/data/malformed/, docs/robustness.md): every file is a mistake a
// user could make, listed in expectations.json with the exit code, the JSON pointer and a part of the
// message the user must read ("only": true when it must be the sole error). Each file goes through the loader exactly as `fleetsim run` reads it
// (with its --set overrides); the CLI itself is checked on a sample in tests/tools/.
#include "models/scenario/diagnostics.hpp"
#include "models/scenario/load_scenario.hpp"
#include "tests/support/files.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <set>
#include <string>

using namespace fleetsim;
namespace fs = std::filesystem;

namespace {

const fs::path kDir = fs::path(FLEETSIM_TEST_DATA) / "malformed";

nlohmann::json expectations() { return nlohmann::json::parse(test::read_all(kDir / "expectations.json")); }

}  // namespace

TEST_CASE("malformed corpus: at least 100 cases, one expectation per file, every section covered",
          "[scenario][errors][corpus]") {
  const auto all = expectations();
  REQUIRE(all.size() >= 100);
  std::set<std::string> listed, files;
  for (const auto& e : all) CHECK(listed.insert(e.at("file").get<std::string>()).second);  // no duplicates
  for (const auto& entry : fs::directory_iterator(kDir))
    if (entry.path().filename() != "expectations.json") files.insert(entry.path().filename().string());
  CHECK(listed == files);
  // File names are NNN-section-what.json; each section of a scenario has its own mistakes.
  for (const char* section : {"syntax", "top", "units", "fleet", "network", "failures", "training", "inference",
                              "catalog", "set"}) {
    size_t n = 0;
    for (const auto& f : files)
      if (f.substr(4, std::string(section).size() + 1) == std::string(section) + "-") ++n;
    INFO(section);
    CHECK(n >= 5);
  }
}

TEST_CASE("malformed corpus: every file is rejected with its pointer and message", "[scenario][errors][corpus]") {
  for (const auto& e : expectations()) {
    const std::string file = e.at("file");
    const std::string pointer = e.at("pointer");
    const std::string message = e.at("message");
    INFO(file << ": expected " << pointer << ": ..." << message << "...");
    REQUIRE(e.at("exit") == 65);  // every content error is EX_DATAERR
    REQUIRE_FALSE(message.empty());
    LoadOptions options;
    for (const auto& s : e.value("set", nlohmann::json::array())) options.overrides.push_back(parse_override(s.get<std::string>()));
    std::vector<Diagnostic> errors;
    try {
      (void)load_scenario_text(test::read_all(kDir / file), file, options);
    } catch (const ScenarioError& err) {
      errors = err.diagnostics().sorted();
    }
    std::string got;
    bool found = false;
    for (const auto& d : errors) {
      got += d.pointer + ": " + d.message + "\n";
      found = found || (d.pointer == pointer && d.message.find(message) != std::string::npos);
    }
    INFO("got:\n" << got);
    CHECK(found);
    // "only": the mistake is reported once, without follow-on errors (cases where there were some).
    if (e.value("only", false)) CHECK(errors.size() == 1);
  }
}
