// SPDX-License-Identifier: Apache-2.0
#include "models/scenario/load_network.hpp"
#include "models/scenario/topology_file.hpp"

#include "models/scenario/did_you_mean.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <set>

namespace fleetsim {

namespace {

// 2, 2.5 or "2:1" -> 2 (>= 1); records an error and returns 1 otherwise.
double read_ratio(const Reader& r) {
  if (r.is_number()) {
    const double v = r.number();
    if (v >= 1 && std::isfinite(v)) return v;
    r.expected("an oversubscription of at least 1 (1 is non-blocking), such as 2 or \"2:1\"");
    return 1;
  }
  if (r.is_string()) {
    const std::string s = r.string();
    const auto colon = s.find(':');
    double a = 0, b = 0;
    if (colon != std::string::npos) {
      const auto ra = std::from_chars(s.data(), s.data() + colon, a);
      const auto rb = std::from_chars(s.data() + colon + 1, s.data() + s.size(), b);
      if (ra.ec == std::errc() && ra.ptr == s.data() + colon && rb.ec == std::errc() && rb.ptr == s.data() + s.size() &&
          b > 0 && a / b >= 1 && std::isfinite(a / b))
        return a / b;
    }
  }
  r.expected("an oversubscription ratio such as \"2:1\" or a number of at least 1");
  return 1;
}

struct SiteTable {
  std::vector<std::string> names;
  std::vector<SiteSpec> sites;
  bool has(std::string_view n) const {
    for (const auto& s : names)
      if (s == n) return true;
    return false;
  }
  void add(std::string name, std::string region) {
    names.push_back(name);
    sites.push_back({std::move(name), std::move(region)});
  }
};

const DatacenterSpec* find_datacenter(const FleetSpec& fleet, std::string_view path, std::string* zone,
                                      std::vector<std::string>& all) {
  const DatacenterSpec* found = nullptr;
  for (const auto& r : fleet.regions)
    for (const auto& z : r.zones)
      for (const auto& d : z.datacenters) {
        std::string p = r.name + "/" + z.name + "/" + d.name;
        if (p == path) {
          found = &d;
          *zone = z.name;
        }
        all.push_back(std::move(p));
      }
  return found;
}

void read_scale_up(const Reader& su, const Catalog& catalog, ScaleUpSpec& s) {
  su.reject_unknown_keys({"accelerator", "gpus_per_domain", "bandwidth", "latency"});
  if (su.has("accelerator")) {
    const Reader ra = su.at("accelerator");
    const std::string name = ra.non_empty_string();
    if (const AcceleratorSpec* acc = catalog.find_accelerator(name)) {
      s.gpus_per_domain = acc->scale_up_domain_gpus;
      s.bytes_per_s = acc->scale_up_bytes_per_s;
    } else if (ra.valid() && !name.empty()) {
      ra.error(fmt::format("unknown accelerator {}{}", quote(name), did_you_mean(name, catalog.accelerator_names())));
    }
  }
  if (su.has("gpus_per_domain")) s.gpus_per_domain = static_cast<uint32_t>(su.at("gpus_per_domain").integer(1, 1'000'000));
  if (su.has("bandwidth")) s.bytes_per_s = su.at("bandwidth").quantity(Dimension::Bandwidth, Bound::Positive);
  s.latency = su.duration_or("latency", s.latency);
}

struct Design {
  Attach attach;
  uint32_t tiers;
  bool operator==(const Design&) const = default;
};

void read_scale_out(const Reader& so, ScaleOutSpec& s) {
  so.reject_unknown_keys({"design", "switch_radix", "port_speed", "planes", "leaf_oversubscription",
                          "spine_oversubscription", "link_latency", "hosts_per_rail_group"});
  const Design d = so.choice_or<Design>(
      "design",
      {{"rail_optimized", Design{Attach::Rail, 2}},
       {"rail_optimized_3_tier", Design{Attach::Rail, 3}},
       {"leaf_spine", Design{Attach::Tor, 2}},
       {"fat_tree", Design{Attach::Tor, 3}}},
      Design{Attach::Rail, 2});
  s.attach = d.attach;
  s.tiers = d.tiers;
  s.radix = static_cast<uint32_t>(so.integer_or("switch_radix", 2, 65536, 64));
  s.port_bytes_per_s = so.quantity_or("port_speed", Dimension::Bandwidth, 50e9, Bound::Positive);
  s.planes = static_cast<uint32_t>(so.integer_or("planes", 1, 64, 1));
  s.leaf_oversubscription = so.has("leaf_oversubscription") ? read_ratio(so.at("leaf_oversubscription")) : 1.0;
  if (!so.has("leaf_oversubscription")) so.write_default("leaf_oversubscription", "1:1");
  s.spine_oversubscription = so.has("spine_oversubscription") ? read_ratio(so.at("spine_oversubscription")) : 1.0;
  if (!so.has("spine_oversubscription")) so.write_default("spine_oversubscription", "1:1");
  s.link_latency = so.duration_or("link_latency", Duration::ns(500));
  if (so.has("hosts_per_rail_group"))
    s.hosts_per_rail_group = static_cast<uint32_t>(so.at("hosts_per_rail_group").integer(1, 1'000'000));
}

// One entry of "link_failures": a set (fraction or count, at, for) or a process (mtbf, repair).
LinkFailureSpec read_link_failure(const Reader& f, const std::set<std::string>& clusters) {
  f.reject_unknown_keys({"tiers", "cluster", "fraction", "count", "at", "for", "mtbf", "repair", "seed"});
  LinkFailureSpec lf;
  if (const auto rt = f.opt("tiers")) {
    if (rt->is_array() && rt->size() == 0) rt->expected("at least one of \"leaf_spine\", \"spine_core\", \"wan\"");
    lf.kinds.clear();
    for (const Reader& t : rt->items()) {
      if (t.is_string() && (t.string() == "access" || t.string() == "nvlink")) {
        t.error(fmt::format("{} links are not fabric-internal: a GPU's access link fails with the fleet's \"link\" "
                            "failure class; expected \"leaf_spine\", \"spine_core\" or \"wan\"",
                            quote(t.string())));
        continue;
      }
      const LinkKind k = t.choice<LinkKind>(
          {{"leaf_spine", LinkKind::LeafSpine}, {"spine_core", LinkKind::SpineCore}, {"wan", LinkKind::Wan}});
      if (t.valid() && std::find(lf.kinds.begin(), lf.kinds.end(), k) == lf.kinds.end()) lf.kinds.push_back(k);
    }
  }
  if (f.has("cluster")) {
    const Reader rc = f.at("cluster");
    lf.cluster = rc.non_empty_string();
    if (rc.valid() && !lf.cluster.empty() && !clusters.count(lf.cluster)) {
      rc.error(fmt::format("unknown cluster {}{}", quote(lf.cluster),
                           did_you_mean(lf.cluster, std::vector<std::string>(clusters.begin(), clusters.end()))));
    }
  }
  const int given = int(f.has("fraction")) + int(f.has("count")) + int(f.has("mtbf"));
  if (given != 1) {
    f.error("give exactly one of \"fraction\" (of the eligible links, failed together), \"count\" (that many "
            "links) or \"mtbf\" (every link fails at random)");
    return lf;
  }
  if (f.has("fraction")) {
    const Reader r = f.at("fraction");
    lf.fraction = r.fraction();
    if (r.valid() && lf.fraction <= 0) r.expected("a fraction of the links in (0, 1], such as 0.01 or \"1%\"");
  }
  if (f.has("count")) lf.count = static_cast<uint32_t>(f.at("count").integer(1, UINT32_MAX));
  if (f.has("mtbf")) {
    lf.mtbf = f.at("mtbf").positive_duration();
    for (const char* k : {"at", "for"})
      if (f.has(k)) f.at(k).error(fmt::format("\"{}\" belongs to a set of failed links (fraction or count), not to an \"mtbf\" process", k));
    lf.repair = f.duration_or("repair", lf.repair, Bound::Positive);
  } else {
    if (f.has("repair"))
      f.at("repair").error("\"repair\" belongs to an \"mtbf\" process; a set of failed links comes back after \"for\"");
    lf.at = f.duration_or("at", Duration::zero());
    if (f.has("for")) lf.duration = f.at("for").positive_duration();
  }
  if (f.has("seed")) lf.seed = static_cast<uint64_t>(f.at("seed").integer(0, INT64_MAX));
  return lf;
}

// network.clusters[i].routing: the policy, and for "pinned" the routes file (relative to the scenario),
// parsed and resolved on this cluster built alone (vertex names are the cluster's, as in the whole
// fabric), or on the fabric read from network.topology_file (`imported`), so a bad route is an error at
// load with its file, line and element.
ClusterRouting read_cluster_routing(const Reader& r, const ClusterSpec& cl, uint32_t index, const Topology* imported) {
  ClusterRouting cr;
  cr.cluster = index;
  if (!r.is_object()) {
    r.expected("an object such as {\"policy\": \"spray\"}");
    return cr;
  }
  r.reject_unknown_keys({"policy", "routes"});
  cr.policy = r.at("policy").choice<RoutingPolicy>({{"ecmp", RoutingPolicy::Ecmp},
                                                    {"pinned", RoutingPolicy::Pinned},
                                                    {"spray", RoutingPolicy::Spray},
                                                    {"adaptive", RoutingPolicy::Adaptive}});
  if (cr.policy != RoutingPolicy::Pinned) {
    if (r.has("routes"))
      r.at("routes").error("\"routes\" belongs to the \"pinned\" policy (a file of routes to pin)");
    return cr;
  }
  const Reader f = r.at("routes");
  const std::string file = f.non_empty_string();
  if (!f.valid() || file.empty()) return cr;
  std::filesystem::path p(file);
  if (p.is_relative()) p = std::filesystem::path(r.diagnostics().file()).parent_path() / p;
  std::error_code ec;
  std::ifstream in(p, std::ios::binary);
  std::string text;
  if (!in || std::filesystem::is_directory(p, ec)) {  // a directory opens, and reads as empty
    f.error(fmt::format("cannot read routes file \"{}\"", p.string()));
    return cr;
  }
  if (!read_bounded(in, kMaxTraceBytes, text)) {
    f.error(fmt::format("routes file \"{}\" is larger than the limit of {} bytes", p.string(), kMaxTraceBytes));
    return cr;
  }
  try {
    cr.routes = parse_pinned_routes(text);
    if (imported != nullptr) {
      resolve_pinned_routes(*imported, cr.routes);  // a fabric from a topology file: its own names
    } else if (!cl.name.empty() && cl.gpus > 0) {
      NetworkSpec probe;
      probe.clusters.push_back(cl);
      if (!cl.site.empty()) probe.sites.push_back(SiteSpec{cl.site, ""});
      else probe.clusters.back().wan_uplink_bytes_per_s = 0;
      const Topology t = build_topology(probe);
      resolve_pinned_routes(t, cr.routes);
    }
  } catch (const RoutesFileError& e) {
    f.error(fmt::format("{}: {}", p.filename().string(), e.what()));
  } catch (const TopologyError&) {
    // Reported on the cluster by load_network.
  }
  return cr;
}

}  // namespace

// network.topology_file, relative to the scenario; empty after an error (reported on the key).
static std::string topology_file_path(const Reader& f) {
  const std::string file = f.non_empty_string();
  if (!f.valid() || file.empty()) return {};
  std::filesystem::path p(file);
  if (p.is_relative()) p = std::filesystem::path(f.diagnostics().file()).parent_path() / p;
  return p.lexically_normal().string();
}

// A fabric read from a GraphML or DOT file (docs/topologies.md, "An imported fabric in a scenario"):
// "clusters" name the file's clusters, all of them and in the file's order, each with the fleet
// datacenter whose GPUs it holds (GPU i of the datacenter is the file cluster's GPU i, in file order)
// or without one (no fleet GPU there). Shapes, sites and WAN links are the file's.
static NetworkSpec load_imported_network(const Reader& net, const FleetSpec& fleet) {
  NetworkSpec spec;
  const Reader rf = net.at("topology_file");
  const std::string path = topology_file_path(rf);
  if (path.empty()) return spec;
  for (const char* key : {"sites", "wan"})
    if (net.has(key))
      net.at(key).error(fmt::format("\"{}\" comes from the topology file when \"topology_file\" is given", key));
  std::optional<Topology> topo;
  try {
    topo.emplace(read_topology_file(path));
  } catch (const TopologyFileError& e) {
    rf.error(e.what());
    return spec;
  }
  const TopologyReport& rep = topo->report();
  std::vector<std::string> file_clusters;
  for (const ClusterReport& c : rep.clusters) file_clusters.push_back(c.name);
  if (!net.has("clusters")) {
    net.error(fmt::format("\"topology_file\" needs \"clusters\": the file's clusters [{}] in that order, each with its "
                          "\"datacenter\"", fmt::join(file_clusters, ", ")));
    return spec;
  }
  const Reader rc = net.at("clusters");
  if (!rc.is_array()) {
    rc.expected("an array of {\"name\", \"datacenter\"}");
    return spec;
  }
  if (rc.size() != file_clusters.size())
    rc.error(fmt::format("the topology file has {} cluster(s) [{}]: list each, in that order", file_clusters.size(),
                         fmt::join(file_clusters, ", ")));
  std::set<std::string> datacenters;
  uint32_t i = 0;
  for (const Reader& c : rc.items()) {
    c.reject_unknown_keys({"name", "datacenter", "routing"});  // routing: load_network_run
    ClusterSpec cl;
    cl.name = c.at("name").non_empty_string();
    if (i < file_clusters.size() && c.at("name").valid() && cl.name != file_clusters[i])
      c.at("name").error(fmt::format("expected {} (the topology file's cluster {}, in the file's order: [{}])",
                                     quote(file_clusters[i]), i, fmt::join(file_clusters, ", ")));
    if (i < file_clusters.size()) cl.gpus = topo->gpus(i);
    cl.has_scale_out = false;  // the file's shape; nothing is built from this spec
    if (c.has("datacenter")) {
      const Reader rd = c.at("datacenter");
      const std::string dpath = rd.non_empty_string();
      std::string zone;
      std::vector<std::string> all;
      const DatacenterSpec* dc = find_datacenter(fleet, dpath, &zone, all);
      if (dc == nullptr) {
        if (rd.valid() && !dpath.empty())
          rd.error(fmt::format("no datacenter {} in the fleet{}", quote(dpath), did_you_mean(dpath, all)));
      } else if (!datacenters.insert(dpath).second) {
        rd.error(fmt::format("datacenter {} is already held by another cluster", quote(dpath)));
      } else if (i < file_clusters.size() && dc->gpus() != cl.gpus) {
        rd.error(fmt::format("datacenter {} has {} GPUs but the file's cluster {} has {}: they must match one to one",
                             quote(dpath), dc->gpus(), quote(cl.name), cl.gpus));
      } else {
        cl.gpus_per_host = dc->gpus_per_node;
        cl.site = zone;
        cl.datacenter = dpath;
      }
    }
    spec.clusters.push_back(std::move(cl));
    ++i;
  }
  return spec;
}

NetworkSpec load_network(const Reader& net, const FleetSpec& fleet, const Catalog& catalog,
                         uint32_t max_cluster_gpus) {
  NetworkSpec spec;
  if (!net.is_object()) {
    net.expected("an object");  // "network": 5 was silently ignored (found by the malformed corpus)
    return spec;
  }
  net.reject_unknown_keys(
      {"clusters", "sites", "wan", "link_failures", "collective_costing", "stopped_traffic_hold", "topology_file"});
  if (net.has("topology_file")) return load_imported_network(net, fleet);

  SiteTable sites;
  for (const auto& r : fleet.regions) {
    sites.add(r.name, "");
    for (const auto& z : r.zones) sites.add(z.name, r.name);
  }
  if (const auto rs = net.opt("sites")) {
    for (const Reader& s : rs->items()) {
      s.reject_unknown_keys({"name", "region"});
      const std::string name = s.at("name").non_empty_string();
      std::string region = s.string_or("region", "");
      if (name.empty()) continue;
      if (sites.has(name)) {
        s.at("name").error(fmt::format("duplicate site {} (every region and zone of the fleet is already a site)",
                                       quote(name)));
        continue;
      }
      if (!region.empty() && region != name && !sites.has(region)) {
        s.at("region").error(fmt::format("unknown region {}{}", quote(region), did_you_mean(region, sites.names)));
        region.clear();
      }
      sites.add(name, region);
    }
  }
  spec.sites = sites.sites;

  std::set<std::string> cluster_names;
  if (const auto rc = net.opt("clusters")) {
    for (const Reader& c : rc->items()) {
      c.reject_unknown_keys({"name", "datacenter", "site", "gpus", "gpus_per_host", "scale_up", "scale_out", "wan_uplink",
                           "storage", "routing"});
      ClusterSpec cl;
      cl.name = c.at("name").non_empty_string();
      if (!cl.name.empty() && cl.name.find('/') != std::string::npos) c.at("name").expected("a name without '/'");
      if (!cl.name.empty() && !cluster_names.insert(cl.name).second)
        c.at("name").error(fmt::format("duplicate cluster name {}", quote(cl.name)));
      if (c.has("datacenter")) {
        const Reader rd = c.at("datacenter");
        const std::string path = rd.non_empty_string();
        std::string zone;
        std::vector<std::string> all;
        const DatacenterSpec* dc = find_datacenter(fleet, path, &zone, all);
        if (dc == nullptr) {
          if (rd.valid() && !path.empty())
            rd.error(fmt::format("no datacenter {} in the fleet{}", quote(path), did_you_mean(path, all)));
        } else {
          cl.gpus = static_cast<uint32_t>(dc->gpus());
          cl.gpus_per_host = dc->gpus_per_node;
          cl.scale_up.gpus_per_domain = dc->gpus_per_node * std::max(1u, dc->scale_up_nodes);
          if (const AcceleratorSpec* acc = catalog.find_accelerator(dc->accelerator))
            if (acc->scale_up_bytes_per_s > 0) cl.scale_up.bytes_per_s = acc->scale_up_bytes_per_s;
          cl.site = zone;
          cl.datacenter = path;
        }
        if (c.has("gpus")) c.at("gpus").error("give either \"datacenter\" or \"gpus\", not both");
      } else {
        cl.gpus = static_cast<uint32_t>(c.at("gpus").integer(1, 100'000'000));
        cl.gpus_per_host = static_cast<uint32_t>(c.integer_or("gpus_per_host", 1, 1024, 8));
        cl.scale_up.gpus_per_domain = cl.gpus_per_host;
      }
      if (c.has("site")) {
        const Reader rs = c.at("site");
        cl.site = rs.non_empty_string();
        if (rs.valid() && !cl.site.empty() && !sites.has(cl.site)) {
          rs.error(fmt::format("unknown region or zone {}{}", quote(cl.site), did_you_mean(cl.site, sites.names)));
          cl.site.clear();
        }
      }
      read_scale_up(c.section("scale_up"), catalog, cl.scale_up);
      if (c.has("scale_out") && c.at("scale_out").json().is_null()) {
        cl.has_scale_out = false;
      } else {
        read_scale_out(c.section("scale_out"), cl.scale_out);
      }
      if (c.has("wan_uplink")) {
        cl.wan_uplink_bytes_per_s = c.at("wan_uplink").quantity(Dimension::Bandwidth, Bound::Positive);
        if (cl.site.empty()) c.at("wan_uplink").error("a cluster with WAN uplinks needs a \"site\" (or a \"datacenter\")");
      }
      if (const auto rs = c.opt("storage")) {
        // Checkpoint and dataset storage, reached through the top tier (docs/network.md).
        if (!rs->is_object()) {
          rs->expected("an object such as {\"bandwidth\": \"2 TB/s\"}");
        } else {
          rs->reject_unknown_keys({"bandwidth"});
          cl.storage_bytes_per_s = rs->at("bandwidth").quantity(Dimension::Bandwidth, Bound::Positive);
          if (!cl.has_scale_out) rs->error("storage is reached through the scale-out fabric, and this cluster has none");
        }
      }
      // Shape checks (radix, ports, bandwidth) are the builder's: run it on this cluster alone so the
      // message lands on this cluster's pointer. Skipped when an earlier error left the spec partial.
      if (cl.gpus > max_cluster_gpus) {
        c.error(fmt::format("cluster {} has {} GPUs, more than the limit of {} GPUs per network cluster",
                            quote(cl.name), cl.gpus, max_cluster_gpus));
        cl.gpus = 0;  // not built: the probe below would allocate the whole fabric first
      }
      if (!cl.name.empty() && cl.gpus > 0) {
        ClusterSpec alone = cl;
        if (alone.site.empty()) alone.wan_uplink_bytes_per_s = 0;  // reported above
        try {
          NetworkSpec probe;
          probe.clusters.push_back(alone);
          if (!alone.site.empty()) probe.sites.push_back(SiteSpec{alone.site, ""});
          check_topology(probe);
        } catch (const TopologyError& e) {
          c.error(e.what());
        }
      }
      spec.clusters.push_back(std::move(cl));
    }
  }

  if (const auto rw = net.opt("wan")) {
    for (const Reader& w : rw->items()) {
      w.reject_unknown_keys({"between", "bandwidth", "latency", "links"});
      WanLinkSpec l;
      const Reader between = w.at("between");
      if (between.is_array() && between.size() != 2) between.expected("two sites, such as [\"us-east-1\", \"eu-west-1\"]");
      std::string ends[2];
      bool ok = between.is_array() && between.size() == 2;
      for (size_t i = 0; ok && i < 2; ++i) {
        const Reader e = between.at(i);
        ends[i] = e.non_empty_string();
        if (e.valid() && !ends[i].empty() && !sites.has(ends[i])) {
          e.error(fmt::format("unknown region or zone {}{}", quote(ends[i]), did_you_mean(ends[i], sites.names)));
          ok = false;
        }
      }
      if (ok && ends[0] == ends[1]) {
        between.error(fmt::format("a WAN link joins two different sites, got {} twice", quote(ends[0])));
        ok = false;
      }
      l.a = ends[0];
      l.b = ends[1];
      l.bytes_per_s = w.at("bandwidth").quantity(Dimension::Bandwidth, Bound::Positive);
      l.latency = w.at("latency").duration();
      l.count = static_cast<uint32_t>(w.integer_or("links", 1, 1024, 1));
      if (ok) spec.wan_links.push_back(std::move(l));
    }
  }
  return spec;
}

NetworkRunOptions load_network_run(const Reader& net, const NetworkSpec& spec) {
  NetworkRunOptions o;
  if (!net.is_object()) return o;  // load_network reported it
  std::set<std::string> cluster_names;
  for (const ClusterSpec& c : spec.clusters) cluster_names.insert(c.name);
  if (const auto rf = net.opt("link_failures"))
    for (const Reader& f : rf->items()) o.link_failures.push_back(read_link_failure(f, cluster_names));
  if (net.has("topology_file")) o.topology_file = topology_file_path(net.at("topology_file"));
  if (const auto rc = net.opt("clusters"); rc && rc->is_array()) {
    // Pinned routes on an imported fabric are resolved on the file's topology (read again here: a file
    // that does not read was reported by load_network on its key).
    std::optional<Topology> imported;
    bool tried = false;
    uint32_t i = 0;
    for (const Reader& c : rc->items()) {
      if (i < spec.clusters.size() && c.is_object() && c.has("routing")) {
        if (!o.topology_file.empty() && !tried) {
          tried = true;
          try {
            imported.emplace(read_topology_file(o.topology_file));
          } catch (const std::exception&) {
          }
        }
        if (o.topology_file.empty() || imported)  // else nothing to resolve against (reported already)
          o.routing.push_back(read_cluster_routing(c.at("routing"), spec.clusters[i], i,
                                                   imported ? &*imported : nullptr));
      }
      ++i;
    }
  }
  o.collective_costing = net.choice_or<CollectiveCosting>(
      "collective_costing",
      {{"aggregate", CollectiveCosting::Aggregate}, {"flows", CollectiveCosting::Flows}, {"shared", CollectiveCosting::Shared}},
      CollectiveCosting::Aggregate);
  // Read only when given (not written into resolved.json when absent): every scenario that had a
  // network keeps its hash, and with it the golden runs' summaries.
  if (net.has("stopped_traffic_hold")) o.stopped_traffic_hold = net.at("stopped_traffic_hold").duration(Bound::NonNegative);
  return o;
}

}  // namespace fleetsim
