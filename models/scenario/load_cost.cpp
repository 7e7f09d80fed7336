// SPDX-License-Identifier: Apache-2.0
#include "models/scenario/load_cost.hpp"

#include "models/scenario/did_you_mean.hpp"
#include "models/scenario/embedded.hpp"
#include "models/scenario/load_fleet.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <set>
#include <stdexcept>

namespace fleetsim {

namespace {

constexpr double kJoulesPerKwh = 3.6e6;
constexpr double kMaxUsdPerHour = 100000;

double seconds(SimTime t) { return static_cast<double>(t.ticks()) * 1e-9; }

// "<number> <unit>" with the unit among `units` (name -> factor to the SI result).
double parse_per_energy(std::string_view text, const std::map<std::string, double, std::less<>>& units,
                        std::string_view example) {
  const auto slash = text.find('/');
  if (slash == std::string_view::npos)
    throw std::invalid_argument(fmt::format("expected {}, got \"{}\"", example, text));
  std::string_view num = text.substr(0, slash);
  std::string_view den = text.substr(slash + 1);
  while (!den.empty() && den.front() == ' ') den.remove_prefix(1);
  while (!num.empty() && num.back() == ' ') num.remove_suffix(1);
  // numerator: a number with an optional unit word ("$0.08", "390 g")
  size_t i = 0;
  std::string n;
  if (!num.empty() && num.front() == '$') num.remove_prefix(1);
  while (i < num.size() && (std::isdigit(static_cast<unsigned char>(num[i])) || num[i] == '.' || num[i] == 'e' ||
                            num[i] == 'E' || num[i] == '-' || num[i] == '+'))
    n += num[i++];
  std::string_view unit = num.substr(i);
  while (!unit.empty() && unit.front() == ' ') unit.remove_prefix(1);
  const std::string key = std::string(unit) + "/" + std::string(den);
  const auto it = units.find(key);
  double v = 0;
  try {
    size_t used = 0;
    v = std::stod(n, &used);
    if (used != n.size() || !std::isfinite(v) || v < 0) throw std::invalid_argument("");
  } catch (const std::exception&) {
    throw std::invalid_argument(fmt::format("expected {}, got \"{}\"", example, text));
  }
  if (it == units.end()) throw std::invalid_argument(fmt::format("expected {}, got \"{}\"", example, text));
  return v * it->second;
}

double read_electricity(const Reader& r) {
  if (!r.valid()) return 0;
  if (r.is_number()) return r.non_negative() / kJoulesPerKwh;
  try {
    return parse_electricity_price(r.string());
  } catch (const std::invalid_argument&) {
    r.expected("an electricity price such as \"$0.0806/kWh\", \"$80/MWh\" or a number of USD per kWh");
    return 0;
  }
}

double read_carbon(const Reader& r) {
  if (!r.valid()) return 0;
  if (r.is_number()) return r.non_negative() / kJoulesPerKwh;
  try {
    return parse_carbon_intensity(r.string());
  } catch (const std::invalid_argument&) {
    r.expected("a carbon intensity such as \"0.39 kg/kWh\", \"390 g/kWh\" or a number of kg CO2e per kWh");
    return 0;
  }
}

double read_pue(const Reader& r) {
  if (!r.valid()) return 1;
  const double v = r.number();
  if (!(v >= 1) || v > 5) {
    r.expected("a PUE from 1 to 5 (facility energy / IT energy)");
    return 1;
  }
  return v;
}

// The built-in energy defaults (scenarios/catalog/energy.json); a broken file is a bug.
struct EnergyDefaults {
  double pue = 1, usd_per_j = 0, busy_utilization = 1;
  std::map<std::string, double, std::less<>> overhead_w;
};

const EnergyDefaults& energy_defaults() {
  static const EnergyDefaults d = [] {
    const auto text = embedded_file("catalog/energy.json");
    if (!text) throw std::logic_error("cost: scenarios/catalog/energy.json is not embedded in this build");
    const auto j = nlohmann::json::parse(*text);
    EnergyDefaults e;
    const auto& def = j.at("defaults");
    e.pue = def.at("pue").get<double>();
    e.usd_per_j = parse_electricity_price(def.at("electricity_price").get<std::string>());
    e.busy_utilization = def.at("busy_utilization").get<double>();
    for (const auto& [acc, v] : j.at("node_overhead").items())
      e.overhead_w[acc] = parse_quantity(v.at("value").get<std::string>(), Dimension::Power);
    return e;
  }();
  return d;
}

// A contract term: a duration ("90d", "8760h") or whole years as contracts state them ("7y", "3 years"),
// a year being 365 days as in units.hpp's rates.
double read_term_s(const Reader& r) {
  if (r.is_string()) {
    const std::string& t = r.json().get_ref<const std::string&>();
    for (const std::string_view unit : {"years", "year", "yr", "y"}) {
      if (t.size() <= unit.size() || t.compare(t.size() - unit.size(), unit.size(), unit) != 0) continue;
      std::string num = t.substr(0, t.size() - unit.size());
      while (!num.empty() && num.back() == ' ') num.pop_back();
      try {
        size_t used = 0;
        const double years = std::stod(num, &used);
        if (used == num.size() && years > 0 && years <= 100) return years * 365 * 86400;
      } catch (const std::exception&) {
      }
      r.expected("a term such as \"7y\", \"3 years\" or \"90d\" (at most 100 years)");
      return 1;
    }
  }
  return seconds(SimTime::zero() + r.positive_duration());
}

struct FleetGroup {
  std::string region, accelerator;
  std::vector<const DatacenterSpec*> dcs;
};

std::vector<FleetGroup> fleet_groups(const FleetSpec& fleet) {
  std::vector<FleetGroup> out;
  for (const auto& r : fleet.regions)
    for (const auto& z : r.zones)
      for (const auto& d : z.datacenters) {
        auto it = std::find_if(out.begin(), out.end(),
                               [&](const FleetGroup& g) { return g.region == r.name && g.accelerator == d.accelerator; });
        if (it == out.end()) {
          out.push_back({r.name, d.accelerator, {}});
          it = out.end() - 1;
        }
        it->dcs.push_back(&d);
      }
  return out;
}

std::string hint(std::string_view word, const std::set<std::string>& names) {
  return did_you_mean(word, std::vector<std::string>(names.begin(), names.end()));
}

std::string quoted_list(const std::set<std::string>& names) {
  std::string s;
  for (const auto& n : names) s += (s.empty() ? "\"" : ", \"") + n + "\"";
  return s;
}

void read_pricing(const Reader& list, const FleetSpec& fleet, const RunSpec& run, CostSpec& spec) {
  const auto groups = fleet_groups(fleet);
  std::set<std::string> regions, accs;
  for (const auto& g : groups) {
    regions.insert(g.region);
    accs.insert(g.accelerator);
  }
  for (const Reader& e : list.items()) {
    if (!e.is_object()) {
      e.expected("an object with \"model\" and a price or discount");
      continue;
    }
    e.reject_unknown_keys({"region", "accelerator", "model", "price", "gpu_price", "discount", "start", "end", "term",
                           "source"});
    PricingRule r;
    r.region = e.string_or("region", "");
    r.accelerator = e.string_or("accelerator", "");
    if (!r.region.empty() && !regions.count(r.region))
      e.at("region").error("expected a region of the fleet (" + quoted_list(regions) + "), got " + e.at("region").describe() +
                           hint(r.region, regions));
    if (!r.accelerator.empty() && !accs.count(r.accelerator))
      e.at("accelerator").error("expected an accelerator of the fleet (" + quoted_list(accs) + "), got " +
                                e.at("accelerator").describe() + hint(r.accelerator, accs));
    r.model = e.choice_or<PricingModel>("model",
                                        {{"on-demand", PricingModel::OnDemand},
                                         {"reserved", PricingModel::Reserved},
                                         {"savings-plan", PricingModel::Reserved},
                                         {"capacity-block", PricingModel::CapacityBlock}},
                                        PricingModel::OnDemand);
    r.source = e.string_or("source", "");
    if (e.has("price") && e.has("gpu_price")) e.at("gpu_price").error("give either \"price\" (per instance) or \"gpu_price\" (per GPU), not both");
    // A price of 1e308 put inf into cost.csv and null into summary.json (issue 19): bounded far above
    // any list price (an 8-GPU H100 instance lists near $100/h).
    const auto bounded_price = [](const Reader& p) {
      const double v = p.quantity(Dimension::MoneyRate, Bound::Positive);
      if (v * 3600 <= kMaxUsdPerHour) return v;
      p.expected(fmt::format("a price of at most ${}/h", kMaxUsdPerHour));
      return 1.0 / 3600;
    };
    if (e.has("gpu_price")) {
      r.usd_per_gpu_s = bounded_price(e.at("gpu_price"));
    } else if (e.has("price")) {
      const double per_instance = bounded_price(e.at("price"));
      // An instance price is per node: every datacenter the rule covers must have the same GPUs per node.
      std::set<uint32_t> gpn;
      for (const auto& g : groups)
        if ((r.region.empty() || g.region == r.region) && (r.accelerator.empty() || g.accelerator == r.accelerator))
          for (const auto* d : g.dcs) gpn.insert(d->gpus_per_node);
      if (gpn.size() > 1)
        e.at("price").error("this rule covers nodes of different sizes; give \"gpu_price\" (per GPU-hour) instead");
      else if (!gpn.empty())
        r.usd_per_gpu_s = per_instance / *gpn.begin();
      else if ((r.region.empty() || regions.count(r.region)) && (r.accelerator.empty() || accs.count(r.accelerator)))
        e.error("this rule matches no datacenter of the fleet (no " + r.accelerator + " in " + r.region + ")");
    }
    if (r.model == PricingModel::Reserved) {
      if (e.has("discount")) {
        r.discount = e.at("discount").fraction();
        if (r.discount >= 1) e.at("discount").expected("a discount below 100%");
      } else if (!r.usd_per_gpu_s) {
        e.error("a \"reserved\" rule needs a \"discount\" (off On-Demand) or its own \"price\"");
      }
    } else if (e.has("discount")) {
      e.at("discount").error("a discount applies to \"reserved\" and \"savings-plan\" rules only");
    }
    if (r.model == PricingModel::CapacityBlock && !r.usd_per_gpu_s)
      e.error("a \"capacity-block\" rule needs its \"price\" (per instance-hour) or \"gpu_price\"");
    if (r.model == PricingModel::OnDemand && !r.usd_per_gpu_s)
      e.error("an \"on-demand\" rule needs a \"price\" or \"gpu_price\" (without one the catalog price applies anyway)");
    if (e.has("start")) r.from_s = seconds(read_instant(e.at("start"), run));
    if (e.has("end") && e.has("term")) e.at("term").error("give either \"end\" or \"term\", not both");
    if (e.has("end")) r.until_s = seconds(read_instant(e.at("end"), run));
    if (e.has("term")) r.until_s = (std::isfinite(r.from_s) ? r.from_s : 0.0) + read_term_s(e.at("term"));
    if (e.has("term") && !e.has("start")) r.from_s = 0;
    if (r.until_s <= r.from_s) e.at(e.has("end") ? "end" : "term").expected("an end after the start");
    if (r.model == PricingModel::OnDemand && (e.has("start") || e.has("end") || e.has("term")))
      e.error("an \"on-demand\" price has no window; use \"capacity-block\" or \"reserved\" for a term");
    spec.pricing.push_back(std::move(r));
  }
}

// "price" is per instance-hour and "gpu_price" per GPU-hour: on 8-GPU nodes a price given as the wrong
// kind is off by 8x and nothing else would flag it (docs/first-scenario.md). The reference is the
// catalog's On-Demand price per GPU-hour of the rule's accelerator, or, for an accelerator the catalog
// prices nowhere (GB200, GB300), the range of its per-GPU prices. A price warns when, read as given, it
// is more than kCheapFactor below that reference per GPU while as a per-GPU price it would be ordinary
// (at most kCheapFactor above); a gpu_price warns when it is more than kDearFactor above the reference
// while as a per-instance price it would be ordinary. The factors leave room for real discounts: H100
// at about $2/GPU-h from smaller clouds is 3.4x below AWS's $6.88 and does not warn. Nodes of fewer
// than kMinGpus GPUs are not checked: a factor of 2 cannot be told from a discount.
constexpr double kCheapFactor = 4;
constexpr double kDearFactor = 3;
constexpr uint32_t kMinGpus = 4;

void warn_price_kind(const Reader& list, const Catalog& cat, const FleetSpec& fleet, const CostSpec& spec) {
  const auto per_gpu_hour = [](double usd_per_s) { return fmt::format("${:.2f} per GPU-hour", usd_per_s * 3600); };
  double lo_all = 0, hi_all = 0;
  for (const auto& i : cat.instances)
    if (i.price_usd_per_s && i.gpus > 0) {
      const double per_gpu = *i.price_usd_per_s / i.gpus;
      lo_all = lo_all == 0 ? per_gpu : std::min(lo_all, per_gpu);
      hi_all = std::max(hi_all, per_gpu);
    }
  if (lo_all == 0) return;
  const auto groups = fleet_groups(fleet);
  size_t index = 0;
  for (const Reader& e : list.items()) {
    if (!e.is_object()) continue;
    if (index >= spec.pricing.size()) break;
    const PricingRule& r = spec.pricing[index++];
    if (!r.usd_per_gpu_s || (e.has("price") == e.has("gpu_price"))) continue;
    std::set<uint32_t> gpn;
    std::set<std::string> accs;
    for (const auto& g : groups)
      if ((r.region.empty() || g.region == r.region) && (r.accelerator.empty() || g.accelerator == r.accelerator)) {
        accs.insert(g.accelerator);
        for (const auto* d : g.dcs) gpn.insert(d->gpus_per_node);
      }
    if (gpn.size() != 1 || *gpn.begin() < kMinGpus || accs.size() != 1) continue;
    const uint32_t gpus = *gpn.begin();
    const std::string& acc = *accs.begin();
    double lo = 0, hi = 0;
    std::string reference;
    for (const auto& i : cat.instances)
      if (i.accelerator == acc && i.price_usd_per_s && i.gpus > 0) {
        lo = hi = *i.price_usd_per_s / i.gpus;
        reference = fmt::format("the catalog's {} for {} ({} On-Demand)", per_gpu_hour(lo), acc, i.name);
        break;
      }
    if (reference.empty()) {
      lo = lo_all;
      hi = hi_all;
      reference = fmt::format("the catalog's {} to {} (it has no price for {})", per_gpu_hour(lo), per_gpu_hour(hi), acc);
    }
    const double per_gpu = *r.usd_per_gpu_s;
    const double per_instance = per_gpu * gpus;
    if (e.has("price") && per_gpu < lo / kCheapFactor && per_instance <= hi * kCheapFactor) {
      const Reader v = e.at("price");
      v.diagnostics().warning(
          v.pointer(), fmt::format("{} is a price per instance-hour: {} on these {}-GPU nodes, far below {}; "
                                   "if it is per GPU-hour, write it as \"gpu_price\"",
                                   v.describe(), per_gpu_hour(per_gpu), gpus, reference));
    } else if (e.has("gpu_price") && per_gpu > hi * kDearFactor && per_gpu / gpus >= lo / kCheapFactor) {
      const Reader v = e.at("gpu_price");
      v.diagnostics().warning(
          v.pointer(), fmt::format("{} is a price per GPU-hour: {} per {}-GPU instance-hour, far above {}; "
                                   "if it is per instance-hour, write it as \"price\"",
                                   v.describe(), format_money_rate(per_instance), gpus, reference));
    }
  }
}

void resolve_group_prices(const Reader& cost, const Catalog& cat, const FleetSpec& fleet, CostSpec& spec) {
  for (const auto& g : fleet_groups(fleet)) {
    if (g.accelerator.empty()) continue;  // an unknown instance type, reported at /fleet: no second error here
    GroupPrice p{g.region, g.accelerator, 0, ""};
    bool found = false;
    for (size_t i = 0; i < spec.pricing.size() && !found; ++i) {
      const PricingRule& r = spec.pricing[i];
      if (r.model != PricingModel::OnDemand || !r.usd_per_gpu_s) continue;
      if ((!r.region.empty() && r.region != g.region) || (!r.accelerator.empty() && r.accelerator != g.accelerator)) continue;
      p.on_demand_usd_per_gpu_s = *r.usd_per_gpu_s;
      p.source = fmt::format("/cost/pricing/{}{}", i, r.source.empty() ? "" : " (" + r.source + ")");
      found = true;
    }
    std::string instance_without_price;
    for (const auto* d : g.dcs) {
      if (found) break;
      if (d->instance.empty()) continue;
      const InstanceSpec* inst = cat.find_instance(d->instance);
      if (inst == nullptr || inst->gpus == 0) continue;
      if (!inst->price_usd_per_s) {
        if (instance_without_price.empty()) instance_without_price = inst->name;
        continue;
      }
      p.on_demand_usd_per_gpu_s = *inst->price_usd_per_s / inst->gpus;
      p.source = fmt::format("catalog {} {} On-Demand ({}, {})", inst->name, format_money_rate(*inst->price_usd_per_s),
                             inst->price_region, inst->price_date);
      found = true;
    }
    if (!found) {
      const Reader where = cost.has("pricing") ? cost.at("pricing") : cost;
      where.error(fmt::format(
          "no price for {} in {}: {}; add {{\"accelerator\": \"{}\", \"price\": \"$.../h\", \"source\": \"...\"}} here{}",
          g.accelerator, g.region,
          instance_without_price.empty() ? "its datacenters name no instance type with a catalog price"
                                         : "the catalog has no public price for " + instance_without_price,
          g.accelerator,
          instance_without_price.empty() ? "" : " or set /catalog/instances/" + instance_without_price + "/price"));
      continue;
    }
    spec.groups.push_back(std::move(p));
  }
}

void read_energy(const Reader& e, const Catalog& cat, const FleetSpec& fleet, CostSpec& spec) {
  const EnergyDefaults& def = energy_defaults();
  e.reject_unknown_keys({"billing", "busy_utilization", "pue", "electricity_price", "carbon_intensity", "regions",
                         "node_overhead"});
  EnergySpec& en = spec.energy;
  en.billed_separately = e.choice_or<bool>("billing", {{"included", false}, {"separate", true}}, false);
  en.busy_utilization = e.fraction_or("busy_utilization", def.busy_utilization);
  const double pue = e.has("pue") ? read_pue(e.at("pue")) : def.pue;
  const double usd_per_j = e.has("electricity_price") ? read_electricity(e.at("electricity_price")) : def.usd_per_j;
  // resolved.json shows the defaults the run used (scenarios/catalog/energy.json).
  if (!e.has("pue")) e.write_default("pue", def.pue);
  if (!e.has("electricity_price")) e.write_default("electricity_price", fmt::format("${}/kWh", def.usd_per_j * kJoulesPerKwh));
  std::optional<double> carbon;
  if (e.has("carbon_intensity")) carbon = read_carbon(e.at("carbon_intensity"));
  std::set<std::string> regions;
  for (const auto& r : fleet.regions) regions.insert(r.name);
  std::map<std::string, EnergySite> sites;
  for (const auto& r : fleet.regions) sites[r.name] = EnergySite{r.name, pue, usd_per_j, carbon};
  if (e.has("regions")) {
    for (const auto& [name, site] : e.at("regions").entries()) {
      if (!regions.count(name)) {
        site.error("expected settings of a region of the fleet (" + quoted_list(regions) + "), got region " + quote(name) +
                   hint(name, regions));
        continue;
      }
      site.reject_unknown_keys({"pue", "electricity_price", "carbon_intensity", "source"});
      EnergySite& s = sites[name];
      if (site.has("pue")) s.pue = read_pue(site.at("pue"));
      if (site.has("electricity_price")) s.usd_per_j = read_electricity(site.at("electricity_price"));
      if (site.has("carbon_intensity")) s.carbon_kg_per_j = read_carbon(site.at("carbon_intensity"));
    }
  }
  for (const auto& r : fleet.regions) en.sites.push_back(sites[r.name]);
  std::map<std::string, double, std::less<>> overhead = def.overhead_w;
  if (e.has("node_overhead")) {
    for (const auto& [acc, v] : e.at("node_overhead").entries()) {
      if (cat.find_accelerator(acc) == nullptr) {
        std::set<std::string> known;
        for (const auto& a : cat.accelerators) known.insert(a.name);
        v.error("\"" + acc + "\" is not an accelerator of the catalog (" + quoted_list(known) + ")" + hint(acc, known));
        continue;
      }
      overhead[acc] = v.quantity(Dimension::Power, Bound::NonNegative);
    }
  }
  std::set<std::string> seen;
  for (const auto& g : fleet_groups(fleet)) {
    if (!seen.insert(g.accelerator).second) continue;
    const AcceleratorSpec* a = cat.find_accelerator(g.accelerator);
    if (a == nullptr) continue;  // the fleet loader reports it
    const auto it = overhead.find(g.accelerator);
    if (it == overhead.end()) {
      e.error(fmt::format("no node overhead for {}: set \"node_overhead\": {{\"{}\": \"... W\"}} (host power per GPU)",
                          g.accelerator, g.accelerator));
      continue;
    }
    en.power.push_back({g.accelerator, a->power_idle_w, a->power_tdp_w, it->second});
  }
}

void read_commitment(const Reader& c, const RunSpec& run, CostSpec& spec) {
  c.reject_unknown_keys({"name", "amount", "start", "term", "take_or_pay", "spent_before", "source"});
  CommitmentSpec& m = spec.commitment;
  m.enabled = true;
  m.name = c.string_or("name", "commitment");
  m.amount_usd = c.at("amount").quantity(Dimension::Money, Bound::Positive);
  m.start_s = seconds(read_instant(c.at("start"), run));
  m.term_s = read_term_s(c.at("term"));
  m.take_or_pay = c.boolean_or("take_or_pay", true);
  if (c.has("spent_before")) m.spent_before_usd = c.at("spent_before").quantity(Dimension::Money, Bound::NonNegative);
  m.source = c.string_or("source", "");
}

}  // namespace

double parse_electricity_price(std::string_view text) {
  static const std::map<std::string, double, std::less<>> units = {
      {"/kWh", 1 / kJoulesPerKwh}, {"/MWh", 1e-3 / kJoulesPerKwh}, {"USD/kWh", 1 / kJoulesPerKwh},
      {"USD/MWh", 1e-3 / kJoulesPerKwh}};
  return parse_per_energy(text, units, "an electricity price such as \"$0.0806/kWh\" or \"$80/MWh\"");
}

double parse_carbon_intensity(std::string_view text) {
  static const std::map<std::string, double, std::less<>> units = {
      {"kg/kWh", 1 / kJoulesPerKwh},   {"g/kWh", 1e-3 / kJoulesPerKwh}, {"kg/MWh", 1e-3 / kJoulesPerKwh},
      {"t/MWh", 1 / kJoulesPerKwh}};
  return parse_per_energy(text, units, "a carbon intensity such as \"0.39 kg/kWh\" or \"390 g/kWh\"");
}

CostSpec load_cost(const Reader& cost, const Catalog& cat, const FleetSpec& fleet, const RunSpec& run) {
  CostSpec spec;
  if (!cost.valid()) return spec;
  if (!cost.is_object()) {
    cost.expected("an object with \"pricing\", \"energy\", \"commitment\" or \"slo_penalty\"");
    return spec;
  }
  spec.enabled = true;
  cost.reject_unknown_keys({"pricing", "energy", "commitment", "slo_penalty"});
  if (cost.has("pricing")) read_pricing(cost.at("pricing"), fleet, run, spec);
  if (cost.has("pricing")) warn_price_kind(cost.at("pricing"), cat, fleet, spec);
  resolve_group_prices(cost, cat, fleet, spec);
  read_energy(cost.section("energy"), cat, fleet, spec);
  if (cost.has("commitment")) read_commitment(cost.at("commitment"), run, spec);
  if (cost.has("slo_penalty")) {
    const Reader p = cost.at("slo_penalty");
    p.reject_unknown_keys({"failed_request", "late_request", "source"});
    if (p.has("failed_request")) spec.slo_penalty.usd_per_failed_request = p.at("failed_request").quantity(Dimension::Money);
    if (p.has("late_request")) spec.slo_penalty.usd_per_late_request = p.at("late_request").quantity(Dimension::Money);
  }
  return spec;
}

}  // namespace fleetsim
