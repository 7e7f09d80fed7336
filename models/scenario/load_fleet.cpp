// SPDX-License-Identifier: Apache-2.0
#include "models/scenario/load_fleet.hpp"

#include "models/scenario/did_you_mean.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <limits>
#include <map>

namespace fleetsim {

namespace {

constexpr int64_t kMaxGpusPerDatacenter = 10'000'000;
// The whole fleet, ramps included: about 8.5 bytes of state per GPU measured at 10^7 GPUs (84 MB peak
// for a 1 h run), so the limit keeps a run under ~250 MB while leaving twice the largest datacenter.
// A scenario above it (10^12 GPUs) is refused at load instead of exhausting memory. docs/robustness.md.
constexpr uint64_t kMaxFleetGpus = 20'000'000;

// A component name: non-empty, no '/', unique among its siblings (`seen` maps name -> pointer).
std::string read_name(const Reader& r, std::map<std::string, std::string>& seen) {
  std::string name = r.non_empty_string();
  if (!r.valid() || name.empty()) return name;
  if (name.find('/') != std::string::npos) {
    r.expected("a name without '/' (names join into paths such as us-east-1/use1-az4/dc1)");
    return name;
  }
  auto [it, fresh] = seen.emplace(name, r.pointer());
  if (!fresh) r.error(fmt::format("duplicate name {} (also at {})", quote(name), it->second));
  return name;
}

// Hardware shape of a datacenter or ramp: instance / accelerator, then explicit overrides.
void read_shape(const Reader& e, const Catalog& cat, DatacenterSpec& d) {
  const InstanceSpec* inst = nullptr;
  if (e.has("instance")) {
    const Reader ri = e.at("instance");
    const std::string name = ri.non_empty_string();
    inst = cat.find_instance(name);
    if (ri.valid() && !name.empty() && inst == nullptr)
      ri.error(fmt::format("unknown instance type {}{}", quote(name), did_you_mean(name, cat.instance_names())));
  }
  if (e.has("accelerator")) {
    const Reader ra = e.at("accelerator");
    const std::string name = ra.non_empty_string();
    if (ra.valid() && !name.empty()) {
      if (!cat.find_accelerator(name)) {
        ra.error(fmt::format("unknown accelerator {}{}", quote(name), did_you_mean(name, cat.accelerator_names())));
      } else if (inst != nullptr && inst->accelerator != name) {
        ra.error(fmt::format("instance {} carries {}, not {}", quote(inst->name), quote(inst->accelerator), quote(name)));
      } else if (inst == nullptr && !e.has("instance")) {
        inst = cat.instance_for_accelerator(name);
        d.accelerator = name;
      }
    }
  }
  if (!e.has("instance") && !e.has("accelerator")) {
    e.error("missing required property \"instance\" (or \"accelerator\")");
  }
  if (inst != nullptr) {
    d.instance = inst->name;
    d.accelerator = inst->accelerator;
    d.gpus_per_node = inst->gpus;
    d.nodes_per_rack = inst->nodes_per_rack;
    d.scale_up_nodes = inst->scale_up_nodes;
  }
  if (e.has("gpus_per_node")) {
    d.gpus_per_node = static_cast<uint32_t>(e.at("gpus_per_node").integer(1, 255));
  } else if (inst == nullptr && !d.accelerator.empty()) {
    e.error(fmt::format("no instance type in the catalog carries {}: give \"gpus_per_node\" (or \"instance\")",
                        quote(d.accelerator)));
  }
  const AcceleratorSpec* acc = cat.find_accelerator(d.accelerator);
  if (inst == nullptr && acc != nullptr && d.gpus_per_node > 0) {
    // Without an instance: one scale-up domain per rack.
    const uint32_t per_domain = std::max<uint32_t>(1, acc->scale_up_domain_gpus / d.gpus_per_node);
    d.nodes_per_rack = per_domain;
    d.scale_up_nodes = per_domain;
  }
  if (e.has("nodes_per_rack")) d.nodes_per_rack = static_cast<uint32_t>(e.at("nodes_per_rack").integer(1, 100000));
  if (e.has("scale_up_nodes")) d.scale_up_nodes = static_cast<uint32_t>(e.at("scale_up_nodes").integer(1, 100000));
}

// Size: exactly one of the given keys; sets d.nodes.
void read_size(const Reader& e, DatacenterSpec& d, std::string_view racks_key, std::string_view nodes_key,
               std::string_view gpus_key) {
  int given = 0;
  for (auto k : {racks_key, nodes_key, gpus_key}) given += (!k.empty() && e.has(k)) ? 1 : 0;
  if (given != 1) {
    std::string keys;
    for (auto k : {racks_key, nodes_key, gpus_key})
      if (!k.empty()) keys += (keys.empty() ? "" : ", ") + std::string("\"") + std::string(k) + "\"";
    e.error(given == 0 ? fmt::format("missing the size: give one of {}", keys)
                       : fmt::format("give only one of {}", keys));
    return;
  }
  const uint64_t gpn = std::max<uint32_t>(1, d.gpus_per_node);
  if (!racks_key.empty() && e.has(racks_key)) {
    const int64_t racks = e.at(racks_key).integer(1, kMaxGpusPerDatacenter);
    d.nodes = static_cast<uint32_t>(std::min<uint64_t>(static_cast<uint64_t>(racks) * d.nodes_per_rack,
                                                        kMaxGpusPerDatacenter / gpn));
  } else if (!nodes_key.empty() && e.has(nodes_key)) {
    d.nodes = static_cast<uint32_t>(e.at(nodes_key).integer(1, static_cast<int64_t>(kMaxGpusPerDatacenter / gpn)));
  } else {
    const int64_t gpus = e.at(gpus_key).integer(1, kMaxGpusPerDatacenter);
    d.nodes = static_cast<uint32_t>((static_cast<uint64_t>(gpus) + gpn - 1) / gpn);  // whole nodes, rounded up
  }
}

}  // namespace

SimTime read_instant(const Reader& r, const RunSpec& run) {
  if (!r.valid()) return SimTime::zero();
  if (r.is_string()) {
    const std::string& s = r.json().get_ref<const std::string&>();
    const bool looks_like_date = s.size() >= 10 && s[4] == '-' && std::isdigit(static_cast<unsigned char>(s[0]));
    if (looks_like_date) {
      const int64_t ns = r.utc_ns();
      int64_t since = 0;
      // A date centuries from the run's start is outside int64 nanoseconds of it (found by fuzz_cli,
      // UBSan): the farthest representable instant, which require_within_run then refuses.
      if (__builtin_sub_overflow(ns, run.start_unix_ns, &since))
        since = ns < run.start_unix_ns ? std::numeric_limits<int64_t>::min() : std::numeric_limits<int64_t>::max();
      return SimTime::from_ticks(since);
    }
  }
  return SimTime::zero() + r.duration(Bound::NonNegative);
}

bool require_within_run(const Reader& r, SimTime t, const RunSpec& run) {
  if (!r.valid()) return false;
  const Duration until = std::max(run.horizon, run.instants_until);
  if (t >= SimTime::zero() && t < SimTime::zero() + until) return true;
  int64_t end = 0;
  if (__builtin_add_overflow(run.start_unix_ns, until.ticks(), &end)) end = std::numeric_limits<int64_t>::max();
  r.expected(fmt::format("an instant within the run, from {} to {}", format_utc_ns(run.start_unix_ns),
                         format_utc_ns(end)));
  return false;
}

FleetSpec load_fleet(const Reader& fleet, const Catalog& cat, const RunSpec& run) {
  FleetSpec spec;
  if (!fleet.valid()) return spec;
  fleet.reject_unknown_keys({"regions", "ramps", "retirements"});
  if (fleet.size() == 0) return spec;  // no fleet at all: an empty world
  std::map<std::string, std::string> region_names;
  for (const Reader& re : fleet.at("regions").items()) {
    re.reject_unknown_keys({"name", "zones"});
    RegionSpec& region = spec.add_region(read_name(re.at("name"), region_names));
    std::map<std::string, std::string> zone_names;
    const Reader zones = re.at("zones");
    if (zones.is_array() && zones.size() == 0) zones.expected("at least one zone");
    for (const Reader& ze : zones.items()) {
      ze.reject_unknown_keys({"name", "datacenters"});
      ZoneSpec& zone = region.add_zone(read_name(ze.at("name"), zone_names));
      std::map<std::string, std::string> dc_names;
      for (const Reader& de : ze.at("datacenters").items()) {
        de.reject_unknown_keys({"name", "instance", "accelerator", "gpus_per_node", "nodes_per_rack",
                                "scale_up_nodes", "racks", "nodes", "gpus", "retire_at"});
        DatacenterSpec d;
        d.name = read_name(de.at("name"), dc_names);
        read_shape(de, cat, d);
        read_size(de, d, "racks", "nodes", "gpus");
        if (auto ra = de.opt("retire_at")) {
          const SimTime t = read_instant(*ra, run);
          if (require_within_run(*ra, t, run)) {
            if (t == SimTime::zero()) {
              ra->expected("an instant after the start (the capacity would never run)");
            } else {
              d.retire_at = t;
            }
          }
        }
        zone.datacenters.push_back(std::move(d));
      }
    }
  }
  if (fleet.at("regions").is_array() && fleet.at("regions").size() == 0) fleet.at("regions").expected("at least one region");

  auto region_index = [&](const Reader& r) -> int {
    const std::string name = r.non_empty_string();
    if (!r.valid() || name.empty()) return -1;
    for (size_t i = 0; i < spec.regions.size(); ++i)
      if (spec.regions[i].name == name) return static_cast<int>(i);
    std::vector<std::string> names;
    for (const auto& x : spec.regions) names.push_back(x.name);
    r.error(fmt::format("unknown region {}{}", quote(name), did_you_mean(name, names)));
    return -1;
  };

  if (auto ramps = fleet.opt("ramps")) {
    int n = 0;
    for (const Reader& e : ramps->items()) {
      ++n;
      e.reject_unknown_keys({"name", "at", "region", "zone", "instance", "accelerator", "gpus_per_node",
                             "nodes_per_rack", "scale_up_nodes", "add_gpus", "add_racks", "add_nodes"});
      const int ri = region_index(e.at("region"));
      DatacenterSpec d;
      d.name = e.has("name") ? e.at("name").non_empty_string() : fmt::format("ramp{}", n);
      read_shape(e, cat, d);
      read_size(e, d, "add_racks", "add_nodes", "add_gpus");
      const Reader at = e.at("at");
      const SimTime t = read_instant(at, run);
      if (require_within_run(at, t, run)) d.install_at = t;
      if (ri < 0) continue;
      RegionSpec& region = spec.regions[static_cast<size_t>(ri)];
      ZoneSpec* zone = region.zones.empty() ? nullptr : &region.zones.front();
      if (auto ze = e.opt("zone")) {
        const std::string zn = ze->non_empty_string();
        zone = nullptr;
        std::vector<std::string> names;
        for (auto& z : region.zones) {
          names.push_back(z.name);
          if (z.name == zn) zone = &z;
        }
        if (zone == nullptr && ze->valid())
          ze->error(fmt::format("unknown zone {} in region {}{}", quote(zn), quote(region.name), did_you_mean(zn, names)));
      }
      if (zone == nullptr) continue;
      for (const auto& other : zone->datacenters)
        if (other.name == d.name)
          (e.has("name") ? e.at("name") : e)
              .error(fmt::format("datacenter name {} is already used in zone {}", quote(d.name), quote(zone->name)));
      zone->datacenters.push_back(std::move(d));
    }
  }

  if (auto rets = fleet.opt("retirements")) {
    for (const Reader& e : rets->items()) {
      e.reject_unknown_keys({"at", "region", "zone", "datacenter", "gpus"});
      const int ri = region_index(e.at("region"));
      const Reader at = e.at("at");
      const SimTime t = read_instant(at, run);
      const bool in_run = require_within_run(at, t, run);
      if (e.has("datacenter") == e.has("gpus")) {
        e.error("give one of \"datacenter\" (retire it whole) or \"gpus\" (retire that many, oldest first)");
        continue;
      }
      if (e.has("gpus")) {
        const int64_t gpus = e.at("gpus").integer(1, INT64_MAX);
        if (ri >= 0 && in_run) spec.retirements.push_back({t, spec.regions[static_cast<size_t>(ri)].name, static_cast<uint64_t>(gpus)});
        continue;
      }
      const Reader dr = e.at("datacenter");
      const std::string dn = dr.non_empty_string();
      if (ri < 0 || !dr.valid()) continue;
      RegionSpec& region = spec.regions[static_cast<size_t>(ri)];
      std::vector<DatacenterSpec*> found;
      std::vector<std::string> names;
      const std::string zone_filter = e.has("zone") ? e.at("zone").string() : std::string();
      for (auto& z : region.zones)
        for (auto& d : z.datacenters) {
          names.push_back(d.name);
          if (d.name == dn && (zone_filter.empty() || z.name == zone_filter)) found.push_back(&d);
        }
      if (found.empty()) {
        dr.error(fmt::format("unknown datacenter {} in region {}{}", quote(dn), quote(region.name), did_you_mean(dn, names)));
      } else if (found.size() > 1) {
        dr.error(fmt::format("datacenter {} exists in several zones of {}: add \"zone\"", quote(dn), quote(region.name)));
      } else if (in_run) {
        if (t <= found.front()->install_at) {
          at.expected(fmt::format("an instant after the datacenter is installed ({})",
                                  format_utc_ns(run.start_unix_ns + found.front()->install_at.ticks())));
        } else {
          found.front()->retire_at = t;
        }
      }
    }
  }
  if (spec.total_gpus() > kMaxFleetGpus)
    fleet.error(fmt::format("the fleet has {} GPUs (ramps included), more than the limit of {} GPUs per scenario",
                            spec.total_gpus(), kMaxFleetGpus));
  return spec;
}

}  // namespace fleetsim
