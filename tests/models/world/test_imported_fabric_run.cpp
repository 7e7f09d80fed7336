// SPDX-License-Identifier: Apache-2.0
// A scenario whose fabric is read from a topology file (network.topology_file): the file's cluster
// holds a fleet datacenter's GPUs, so a training job placed on the fleet is costed on the file's links.
#include "models/scenario/diagnostics.hpp"
#include "models/scenario/load_scenario.hpp"
#include "tools/run/simulation.hpp"

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>

using namespace fleetsim;

namespace {

const std::string kSource = FLEETSIM_SOURCE_DIR;

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// scenarios/imported-fabric.json with its file given by an absolute path (the text is loaded from
// memory, so a relative path would not find the scenario's folder) and optional edits.
std::string scenario_text(const std::string& dot_path, const std::string& from = "", const std::string& to = "") {
  std::string t = slurp(kSource + "/scenarios/imported-fabric.json");
  t = std::regex_replace(t, std::regex("\"fabrics/lab-32gpu.dot\""), "\"" + dot_path + "\"");
  if (!from.empty()) t = std::regex_replace(t, std::regex(from), to);
  return t;
}

nlohmann::json run_text(const std::string& text) {
  LoadOptions lo;
  lo.until = "1h";
  const Scenario s = load_scenario_text(text, "imported.json", lo);
  return simulate(s, SimulationOptions{}).summary;
}

std::string load_error(const std::string& text) {
  try {
    (void)load_scenario_text(text, "imported.json");
  } catch (const std::exception& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("an imported fabric carries the training job placed on the fleet's datacenter", "[world][network][topology_file]") {
  const std::string dot = kSource + "/scenarios/fabrics/lab-32gpu.dot";
  const nlohmann::json narrow = run_text(scenario_text(dot));
  const double narrow_step = narrow["training"]["jobs"]["llm-1b"]["step_time_s"].get<double>();
  // The same file with the two leaf uplinks 80 times thinner (10 Gb/s): the data-parallel all-reduce
  // crosses them (two hosts per leaf, DP over four hosts), so the step must get longer. If the job were
  // not on the file's links (unmapped GPUs fall back to the alpha-beta model), nothing would move.
  // Same file name in another folder: the file's default cluster is named after it.
  const std::filesystem::path dir = std::filesystem::temp_directory_path() / "fleetsim-test-imported-thin";
  std::filesystem::create_directories(dir);
  const std::filesystem::path thin = dir / "lab-32gpu.dot";
  {
    std::ofstream out(thin, std::ios::binary);
    out << std::regex_replace(slurp(dot), std::regex("capacity=\"800 Gbps\""), "capacity=\"10 Gbps\"");
  }
  const nlohmann::json slow = run_text(scenario_text(thin.string()));
  const double thin_step = slow["training"]["jobs"]["llm-1b"]["step_time_s"].get<double>();
  std::filesystem::remove_all(dir);
  INFO("step on 800G uplinks " << narrow_step << " s, on 10G " << thin_step << " s");
  CHECK(narrow_step > 0);
  CHECK(thin_step > narrow_step * 1.2);
}

TEST_CASE("an imported fabric's errors name the pointer and what the file holds", "[world][network][topology_file]") {
  const std::string dot = kSource + "/scenarios/fabrics/lab-32gpu.dot";
  // A datacenter of 16 GPUs cannot hold a cluster of 32.
  CHECK_THAT(load_error(scenario_text(dot, "\"gpus\": 32\n", "\"gpus\": 16\n")),
             Catch::Contains("/network/clusters/0/datacenter") && Catch::Contains("16 GPUs") &&
                 Catch::Contains("32"));
  // A cluster the file does not have.
  CHECK_THAT(load_error(scenario_text(dot, "\"name\": \"lab-32gpu\"", "\"name\": \"lab\"")),
             Catch::Contains("/network/clusters/0/name") && Catch::Contains("lab-32gpu"));
  // A file that does not exist, and one whose edge has a capacity without a unit (the file's own
  // message, element and attribute, on the key).
  CHECK_THAT(load_error(scenario_text(kSource + "/scenarios/fabrics/missing.dot")),
             Catch::Contains("/network/topology_file") && Catch::Contains("cannot read"));
  const std::filesystem::path bad = std::filesystem::temp_directory_path() / "fleetsim-test-lab-bad.dot";
  {
    std::ofstream out(bad, std::ios::binary);
    out << std::regex_replace(slurp(dot), std::regex("capacity=\"800 Gbps\""), "capacity=\"800\"");
  }
  const std::string msg = load_error(scenario_text(bad.string()));
  std::filesystem::remove(bad);
  CHECK_THAT(msg, Catch::Contains("/network/topology_file") && Catch::Contains("\"capacity\"") &&
                      Catch::Contains("no unit"));
  // Shapes come from the file.
  CHECK_THAT(load_error(scenario_text(dot, "\"collective_costing\"", "\"wan\": [], \"collective_costing\"")),
             Catch::Contains("/network/wan"));
}

TEST_CASE("an imported fabric's clusters choose their routing policy, pinned routes named as in the file",
          "[world][network][topology_file][routing]") {
  const std::string dot = kSource + "/scenarios/fabrics/lab-32gpu.dot";
  const std::string cluster = "\"datacenter\": \"us-east-1/use1-az4/lab\"";
  // Spray over the file's equal-cost paths: accepted, and the job runs on the fabric.
  const nlohmann::json spray = run_text(scenario_text(dot, cluster, cluster + ", \"routing\": {\"policy\": \"spray\"}"));
  CHECK(spray["training"]["jobs"]["llm-1b"]["step_time_s"].get<double>() > 0);
  CHECK(spray["network"]["collectives_costed_by_fallback"] == 0);
  // A pinned route through a switch the file does not have: the routes file's line and element, on
  // the routing key's pointer.
  const std::filesystem::path routes = std::filesystem::temp_directory_path() / "fleetsim-test-imported.routes";
  std::ofstream(routes) << "h1/gpu0 leaf1 spine9 leaf2 h3/gpu0\n";
  const std::string msg = load_error(scenario_text(
      dot, cluster, cluster + ", \"routing\": {\"policy\": \"pinned\", \"routes\": \"" + routes.string() + "\"}"));
  std::filesystem::remove(routes);
  CHECK_THAT(msg, Catch::Contains("/network/clusters/0/routing/routes") && Catch::Contains("line 1") &&
                      Catch::Contains("spine9"));
}
