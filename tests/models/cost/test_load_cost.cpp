// SPDX-License-Identifier: Apache-2.0
// The "cost" section through load_scenario_text: what it resolves, and every error with its pointer.
#include "models/scenario/load_cost.hpp"
#include "models/scenario/load_scenario.hpp"

#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

using namespace fleetsim;

namespace {

// us-east-1: 2 NVL72 racks of p6e-gb200 (no catalog price) and 4 p5 nodes; us-west-2: 2 p5 nodes.
nlohmann::json base() {
  return nlohmann::json::parse(R"({
    "name": "t", "start": "2025-10-01T00:00:00Z", "horizon": "10d",
    "fleet": {"regions": [
      {"name": "us-east-1", "zones": [{"name": "a", "datacenters": [
        {"name": "dc1", "instance": "p6e-gb200.36xlarge", "racks": 2},
        {"name": "dc2", "instance": "p5.48xlarge", "nodes": 4}]}]},
      {"name": "us-west-2", "zones": [{"name": "b", "datacenters": [
        {"name": "dc1", "instance": "p5.48xlarge", "nodes": 2}]}]}]},
    "cost": {"pricing": [{"accelerator": "GB200", "price": "$56.9664/h", "source": "[A] test"}]}
  })");
}

std::vector<std::string> errors_of(const nlohmann::json& doc) {
  std::vector<std::string> out;
  try {
    (void)load_scenario_text(doc.dump(), "t.json");
  } catch (const ScenarioError& e) {
    for (const auto& d : e.diagnostics().sorted()) out.push_back(d.pointer + ": " + d.message);
  }
  return out;
}

}  // namespace

TEST_CASE("cost loader: prices from the catalog and the scenario, energy defaults", "[cost][loader]") {
  nlohmann::json doc = base();
  doc["cost"]["pricing"].push_back(
      {{"region", "us-east-1"}, {"accelerator", "H100"}, {"model", "reserved"}, {"discount", "40%"}, {"term", "1y"}});
  doc["cost"]["energy"] = {{"regions", {{"us-west-2", {{"pue", 1.1}, {"electricity_price", "$80/MWh"},
                                                       {"carbon_intensity", "390 g/kWh"}}}}}};
  doc["cost"]["commitment"] = {{"amount", "$38 billion"}, {"start", "2025-11-03"}, {"term", "7y"}};
  const Scenario s = load_scenario_text(doc.dump(), "t.json");
  const CostSpec& c = s.cost;
  REQUIRE(c.enabled);
  REQUIRE(c.groups.size() == 3);
  CHECK(c.groups[0].accelerator == "GB200");
  CHECK(c.groups[0].on_demand_usd_per_gpu_s * 3600 == Approx(56.9664 / 4));
  CHECK(c.groups[0].source.rfind("/cost/pricing/0", 0) == 0);
  // p5.48xlarge: $55.04/h from the catalog, 8 GPUs.
  CHECK(c.groups[1].on_demand_usd_per_gpu_s * 3600 == Approx(6.88));
  CHECK(c.groups[1].source.find("catalog p5.48xlarge") == 0);
  REQUIRE(c.pricing.size() == 2);
  CHECK(c.pricing[1].model == PricingModel::Reserved);
  CHECK(c.pricing[1].discount == Approx(0.4));
  CHECK(c.pricing[1].from_s == 0);
  CHECK(c.pricing[1].until_s == Approx(365 * 86400.0));
  // Energy: the built-in defaults (PUE 1.15, $0.0806/kWh) except where a region sets its own.
  REQUIRE(c.energy.sites.size() == 2);
  CHECK(c.energy.sites[0].pue == 1.15);
  CHECK(c.energy.sites[0].usd_per_j * 3.6e6 == Approx(0.0806));
  CHECK_FALSE(c.energy.sites[0].carbon_kg_per_j);
  CHECK(c.energy.sites[1].pue == 1.1);
  CHECK(c.energy.sites[1].usd_per_j * 3.6e6 == Approx(0.08));
  CHECK(*c.energy.sites[1].carbon_kg_per_j * 3.6e6 == Approx(0.39));
  REQUIRE(c.energy.power.size() == 2);
  CHECK(c.energy.power[0].accelerator == "GB200");
  CHECK(c.energy.power[0].tdp_w == 1200);
  CHECK(c.energy.power[0].overhead_w == Approx(466.7));
  CHECK_FALSE(c.energy.billed_separately);
  // The commitment starts 33 days after the run and lasts 7 x 365 days.
  CHECK(c.commitment.enabled);
  CHECK(c.commitment.amount_usd == 38e9);
  CHECK(c.commitment.start_s == 33 * 86400.0);
  CHECK(c.commitment.term_s == 7 * 365 * 86400.0);
  CHECK(c.commitment.take_or_pay);
  // Defaults land in resolved.json.
  CHECK(s.resolved["cost"]["energy"]["billing"] == "included");
  CHECK(s.resolved["cost"]["pricing"][0]["model"] == "on-demand");
}

TEST_CASE("cost loader: a group without a price names itself and where to set one", "[cost][loader]") {
  nlohmann::json doc = base();
  doc["cost"] = nlohmann::json::object();
  CHECK(errors_of(doc) ==
        std::vector<std::string>{
            "/cost: no price for GB200 in us-east-1: the catalog has no public price for p6e-gb200.36xlarge; add "
            "{\"accelerator\": \"GB200\", \"price\": \"$.../h\", \"source\": \"...\"} here or set "
            "/catalog/instances/p6e-gb200.36xlarge/price"});
  // A catalog override is enough.
  doc["catalog"] = {{"instances", {{"p6e-gb200.36xlarge", {{"price", "$60/h"}}}}}};
  CHECK(errors_of(doc).empty());
}

TEST_CASE("cost loader: bad values are reported with their pointers", "[cost][loader]") {
  nlohmann::json doc = base();
  doc["cost"]["pricing"].push_back({{"region", "eu-west-1"}, {"model", "reserved"}});
  doc["cost"]["pricing"].push_back({{"accelerator", "H100"}, {"model", "reserved"}, {"discount", 1.5}});
  doc["cost"]["pricing"].push_back({{"accelerator", "H100"}, {"model", "capacity-block"}});
  doc["cost"]["pricing"].push_back({{"model", "on-demand"}, {"price", "$50/h"}});  // mixes 4- and 8-GPU nodes
  doc["cost"]["pricing"].push_back({{"model", "spot"}, {"gpu_price", "$2/h"}});
  doc["cost"]["pricing"].push_back({{"region", "us-west-2"}, {"accelerator", "GB200"}, {"model", "capacity-block"},
                                    {"price", "$40/h"}});  // no GB200 there
  doc["cost"]["energy"] = {{"pue", 0.9}, {"electricity_price", "8 cents"}, {"regions", {{"mars-1", {{"pue", 1.2}}}}},
                           {"billing", "sometimes"}, {"node_overhead", {{"H10", "500 W"}}}};
  doc["cost"]["commitment"] = {{"amount", -5}, {"start", "2025-11-03"}, {"term", "7 parsecs"}};
  doc["cost"]["slo_penalty"] = {{"failed_reqest", "$1"}};
  doc["cost"]["budget"] = 1;
  const auto errs = errors_of(doc);
  const auto has = [&](std::string_view prefix) {
    for (const auto& e : errs)
      if (e.rfind(prefix, 0) == 0) return true;
    return false;
  };
  CAPTURE(errs);
  CHECK(has("/cost/budget: unknown property \"budget\""));
  CHECK(has("/cost/pricing/1/region: expected a region of the fleet (\"us-east-1\", \"us-west-2\"), got \"eu-west-1\""));
  CHECK(has("/cost/pricing/1: a \"reserved\" rule needs a \"discount\""));
  CHECK(has("/cost/pricing/2/discount: expected a fraction from 0 to 1"));
  CHECK(has("/cost/pricing/3: a \"capacity-block\" rule needs its \"price\""));
  CHECK(has("/cost/pricing/4/price: this rule covers nodes of different sizes"));
  CHECK(has("/cost/pricing/5/model: expected one of \"on-demand\", \"reserved\", \"savings-plan\", \"capacity-block\""));
  CHECK(has("/cost/pricing/6: this rule matches no datacenter of the fleet (no GB200 in us-west-2)"));
  CHECK(has("/cost/energy/node_overhead/H10: \"H10\" is not an accelerator of the catalog (\"A100\", "));
  CHECK(has("/cost/energy/pue: expected a PUE from 1 to 5"));
  CHECK(has("/cost/energy/electricity_price: expected an electricity price such as \"$0.0806/kWh\""));
  CHECK(has("/cost/energy/regions/mars-1: expected settings of a region of the fleet"));
  CHECK(has("/cost/energy/billing: expected one of \"included\", \"separate\""));
  CHECK(has("/cost/commitment/amount: "));
  CHECK(has("/cost/commitment/term: "));
  CHECK(has("/cost/slo_penalty/failed_reqest: unknown property \"failed_reqest\" (did you mean \"failed_request\"?)"));
}

TEST_CASE("cost loader: energy and carbon units", "[cost][loader]") {
  CHECK(parse_electricity_price("$0.0806/kWh") * 3.6e6 == Approx(0.0806));
  CHECK(parse_electricity_price("$80/MWh") * 3.6e6 == Approx(0.08));
  CHECK(parse_electricity_price("0.1 USD/kWh") * 3.6e6 == Approx(0.1));
  CHECK(parse_carbon_intensity("390 g/kWh") * 3.6e6 == Approx(0.39));
  CHECK(parse_carbon_intensity("0.39 t/MWh") * 3.6e6 == Approx(0.39));
  CHECK_THROWS_AS(parse_electricity_price("$0.08/kW"), std::invalid_argument);
  CHECK_THROWS_AS(parse_carbon_intensity("lots"), std::invalid_argument);
  CHECK_THROWS_AS(parse_carbon_intensity("-1 kg/kWh"), std::invalid_argument);
}
