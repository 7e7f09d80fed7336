// SPDX-License-Identifier: Apache-2.0
#include "models/scenario/load_catalog.hpp"

#include "models/scenario/did_you_mean.hpp"
#include "models/scenario/embedded.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <stdexcept>

namespace fleetsim {

namespace {

// Fields a new accelerator must give (description and sources are optional).
constexpr std::array<std::string_view, 8> kAcceleratorRequired = {
    "bf16_dense", "fp8_dense", "hbm_capacity", "hbm_bandwidth", "scale_up_domain", "scale_up_bandwidth",
    "power_idle", "power_tdp"};

constexpr std::array<std::string_view, 7> kInstanceRequired = {
    "accelerator", "gpus", "nics", "network_bandwidth", "nodes_per_rack", "scale_up_nodes", "price"};

void check_sources(const Reader& entry) {
  if (auto s = entry.opt("sources")) {
    for (const auto& [field, text] : s->entries()) (void)text.string();
  }
}

// Reads the fields present in `e` into `a`; with `require_all`, missing required fields are errors.
void read_accelerator(const Reader& e, AcceleratorSpec& a, bool require_all) {
  e.reject_unknown_keys({"description", "bf16_dense", "fp8_dense", "hbm_capacity", "hbm_bandwidth", "scale_up_domain",
                         "scale_up_bandwidth", "power_idle", "power_tdp", "sources"});
  if (require_all)
    for (auto k : kAcceleratorRequired) (void)e.at(k);  // records 'missing required property "k"'
  if (e.has("description")) a.description = e.at("description").string();
  if (e.has("bf16_dense")) a.bf16_dense_flop_per_s = e.at("bf16_dense").quantity(Dimension::Flops, Bound::Positive);
  if (e.has("fp8_dense")) a.fp8_dense_flop_per_s = e.at("fp8_dense").quantity(Dimension::Flops, Bound::Positive);
  if (e.has("hbm_capacity")) a.hbm_bytes = e.at("hbm_capacity").quantity(Dimension::DataSize, Bound::Positive);
  if (e.has("hbm_bandwidth")) a.hbm_bytes_per_s = e.at("hbm_bandwidth").quantity(Dimension::Bandwidth, Bound::Positive);
  if (e.has("scale_up_domain")) a.scale_up_domain_gpus = static_cast<uint32_t>(e.at("scale_up_domain").integer(1, 100000));
  if (e.has("scale_up_bandwidth"))
    a.scale_up_bytes_per_s = e.at("scale_up_bandwidth").quantity(Dimension::Bandwidth, Bound::Positive);
  const size_t errors_before = e.diagnostics().size();
  if (e.has("power_idle")) a.power_idle_w = e.at("power_idle").quantity(Dimension::Power, Bound::NonNegative);
  if (e.has("power_tdp")) a.power_tdp_w = e.at("power_tdp").quantity(Dimension::Power, Bound::Positive);
  const bool powers_read = e.diagnostics().size() == errors_before;  // no cascade after a bad value
  if (powers_read && (e.has("power_idle") || e.has("power_tdp")) && a.power_tdp_w > 0 && a.power_idle_w > a.power_tdp_w)
    (e.has("power_idle") ? e.at("power_idle") : e.at("power_tdp"))
        .error(fmt::format("power_idle ({} W) exceeds power_tdp ({} W)", a.power_idle_w, a.power_tdp_w));
  check_sources(e);
}

void read_instance(const Reader& e, InstanceSpec& i, bool require_all) {
  e.reject_unknown_keys({"description", "accelerator", "gpus", "nics", "network_bandwidth", "nodes_per_rack",
                         "scale_up_nodes", "price", "price_date", "price_region", "sources"});
  if (require_all)
    for (auto k : kInstanceRequired) (void)e.at(k);
  if (e.has("description")) i.description = e.at("description").string();
  if (e.has("accelerator")) i.accelerator = e.at("accelerator").non_empty_string();
  if (e.has("gpus")) i.gpus = static_cast<uint32_t>(e.at("gpus").integer(1, 255));
  if (e.has("nics")) i.nics = static_cast<uint32_t>(e.at("nics").integer(0, 1024));
  if (e.has("network_bandwidth"))
    i.network_bytes_per_s = e.at("network_bandwidth").quantity(Dimension::Bandwidth, Bound::Positive);
  if (e.has("nodes_per_rack")) i.nodes_per_rack = static_cast<uint32_t>(e.at("nodes_per_rack").integer(1, 100000));
  if (e.has("scale_up_nodes")) i.scale_up_nodes = static_cast<uint32_t>(e.at("scale_up_nodes").integer(1, 100000));
  auto text_or_null = [&](std::string_view key, std::string& out) {
    if (!e.has(key)) return;
    const Reader r = e.at(key);
    out = r.json().is_null() ? std::string() : r.string();
  };
  if (e.has("price")) {
    const Reader p = e.at("price");
    if (p.json().is_null()) {
      i.price_usd_per_s.reset();
    } else {
      i.price_usd_per_s = p.quantity(Dimension::MoneyRate, Bound::NonNegative);
    }
  }
  text_or_null("price_date", i.price_date);
  text_or_null("price_region", i.price_region);
  check_sources(e);
}

template <class Spec>
void sort_by_name(std::vector<Spec>& v) {
  std::sort(v.begin(), v.end(), [](const Spec& a, const Spec& b) { return a.name < b.name; });
}

// Reads the built-in file `path` ("catalog/accelerators.json") into `cat`; errors there are bugs.
nlohmann::json builtin_json(std::string_view path) {
  const auto text = embedded_file(path);
  if (!text) throw std::logic_error(fmt::format("catalog: scenarios/{} is not embedded in this build", path));
  Diagnostics diags(fmt::format("(built-in) scenarios/{}", path));
  nlohmann::json j = parse_json_text(*text, diags);
  return j;
}

void read_builtin(Catalog& cat) {
  const nlohmann::json acc = builtin_json("catalog/accelerators.json");
  const nlohmann::json inst = builtin_json("catalog/instances.json");
  Diagnostics diags("(built-in) scenarios/catalog");
  const Reader ra = Reader::root(acc, diags);
  for (const auto& [name, e] : ra.at("accelerators").entries()) {
    AcceleratorSpec a;
    a.name = name;
    read_accelerator(e, a, true);
    cat.accelerators.push_back(std::move(a));
  }
  const Reader ri = Reader::root(inst, diags);
  for (const auto& [name, e] : ri.at("instances").entries()) {
    InstanceSpec i;
    i.name = name;
    read_instance(e, i, true);
    cat.instances.push_back(std::move(i));
  }
  if (!diags.empty()) throw std::logic_error("catalog: the built-in catalog is invalid:\n" + diags.render());
}

void check_instance_accelerators(const Catalog& cat, const Reader* overrides) {
  for (const auto& i : cat.instances) {
    if (i.accelerator.empty() || cat.find_accelerator(i.accelerator)) continue;
    const auto names = cat.accelerator_names();
    const std::string msg = fmt::format("unknown accelerator {}{}", quote(i.accelerator), did_you_mean(i.accelerator, names));
    if (overrides != nullptr && overrides->has(i.name) && overrides->at(i.name).has("accelerator")) {
      overrides->at(i.name).at("accelerator").error(msg);
    } else {
      // A built-in instance whose accelerator the scenario did not touch cannot be wrong.
      throw std::logic_error("catalog: built-in instance " + i.name + ": " + msg);
    }
  }
}

}  // namespace

Catalog builtin_catalog() {
  Catalog cat;
  read_builtin(cat);
  sort_by_name(cat.accelerators);
  sort_by_name(cat.instances);
  return cat;
}

Catalog load_catalog(const Reader& section) {
  Catalog cat = builtin_catalog();
  if (!section.valid()) return cat;
  section.reject_unknown_keys({"accelerators", "instances"});
  const auto builtin_acc = cat.accelerator_names();
  const auto builtin_inst = cat.instance_names();
  if (auto accs = section.opt("accelerators")) {
    for (const auto& [name, e] : accs->entries()) {
      if (AcceleratorSpec* a = const_cast<AcceleratorSpec*>(cat.find_accelerator(name))) {
        read_accelerator(e, *a, false);
        continue;
      }
      if (name.empty() || name.find('/') != std::string::npos) {
        e.error("an accelerator name is non-empty and has no '/'");
        continue;
      }
      bool complete = e.is_object();
      for (auto k : kAcceleratorRequired) complete = complete && e.has(k);
      if (!complete) {
        if (const auto hint = closest(name, builtin_acc))
          e.error(fmt::format("not a built-in accelerator (did you mean {}?); a new accelerator needs every field",
                              quote(*hint)));
      }
      AcceleratorSpec a;
      a.name = name;
      read_accelerator(e, a, true);
      cat.accelerators.push_back(std::move(a));
    }
  }
  std::optional<Reader> insts = section.opt("instances");
  if (insts) {
    for (const auto& [name, e] : insts->entries()) {
      if (InstanceSpec* i = const_cast<InstanceSpec*>(cat.find_instance(name))) {
        read_instance(e, *i, false);
        continue;
      }
      bool complete = e.is_object();
      for (auto k : kInstanceRequired) complete = complete && e.has(k);
      if (!complete) {
        if (const auto hint = closest(name, builtin_inst))
          e.error(fmt::format("not a built-in instance type (did you mean {}?); a new instance type needs every field",
                              quote(*hint)));
      }
      InstanceSpec i;
      i.name = name;
      read_instance(e, i, true);
      cat.instances.push_back(std::move(i));
    }
  }
  sort_by_name(cat.accelerators);
  sort_by_name(cat.instances);
  check_instance_accelerators(cat, insts ? &*insts : nullptr);
  return cat;
}

}  // namespace fleetsim
