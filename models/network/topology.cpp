// SPDX-License-Identifier: Apache-2.0
#include "models/network/topology.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <set>

namespace fleetsim {

std::string_view vertex_kind_name(VertexKind k) {
  switch (k) {
    case VertexKind::Gpu: return "gpu";
    case VertexKind::Nic: return "nic";
    case VertexKind::Leaf: return "leaf";
    case VertexKind::Spine: return "spine";
    case VertexKind::Core: return "core";
    case VertexKind::NvSwitch: return "nvswitch";
    case VertexKind::WanRouter: return "wan";
    case VertexKind::Storage: return "storage";
  }
  return "?";
}

std::string_view link_kind_name(LinkKind k) {
  switch (k) {
    case LinkKind::NvLink: return "nvlink";
    case LinkKind::Access: return "access";
    case LinkKind::LeafSpine: return "leaf_spine";
    case LinkKind::SpineCore: return "spine_core";
    case LinkKind::Wan: return "wan";
  }
  return "?";
}

namespace {

bool bad_bandwidth(double b) { return !(b > 0) || !std::isfinite(b); }

// Ports per leaf (down, up) and per spine in 3 tiers (down, up) for a radix and oversubscription.
struct TierPorts {
  uint32_t down = 0, up = 0;
};
TierPorts split_ports(uint32_t radix, double over) {
  TierPorts p;
  p.down = static_cast<uint32_t>(std::floor(static_cast<double>(radix) * over / (1.0 + over) + 1e-9));
  p.up = static_cast<uint32_t>(std::floor(static_cast<double>(p.down) / over + 1e-9));
  return p;
}

}  // namespace

uint64_t max_gpus(const ScaleOutSpec& s, uint32_t gpus_per_host) {
  const TierPorts leaf = split_ports(s.radix, s.leaf_oversubscription);
  uint64_t per_leaf = leaf.down;
  if (s.attach == Attach::Tor) per_leaf = uint64_t{leaf.down / std::max(1u, gpus_per_host)} * gpus_per_host;
  if (s.tiers == 2) return per_leaf * s.radix;
  const TierPorts spine = split_ports(s.radix, s.spine_oversubscription);
  return per_leaf * spine.down * s.radix;
}

class TopologyBuilder {
 public:
  Topology t;
  // Checks only (check_topology): every check runs, no vertex or link of a cluster is made (the
  // scenario loader checks each cluster alone so that an error lands on its JSON pointer; building
  // the flagship's eleven fabrics for that was a tenth of a shared-costing run's set-up).
  bool dry = false;

  /// The whole network (build_topology, check_topology).
  Topology build_all(const NetworkSpec& spec);

  VertexId add_vertex(VertexKind kind, std::string name, uint32_t cluster, uint32_t plane, uint32_t index) {
    return t.add_vertex(kind, std::move(name), cluster, plane, index);
  }
  void add_link(VertexId a, VertexId b, double bps, Duration latency, LinkKind kind) { t.add_link(a, b, bps, latency, kind); }

  void build_cluster(uint32_t ci, const ClusterSpec& c, std::vector<VertexId>& top_tier) {
    const std::string& n = c.name;
    auto fail = [&](const std::string& what) { throw TopologyError(fmt::format("cluster \"{}\": {}", n, what)); };
    if (c.gpus == 0) fail("expected at least 1 GPU, got 0");
    if (c.gpus_per_host == 0) fail("gpus_per_host must be at least 1");
    if (c.gpus % c.gpus_per_host != 0)
      fail(fmt::format("{} GPUs is not a whole number of hosts of {} GPUs", c.gpus, c.gpus_per_host));
    const ScaleUpSpec& su = c.scale_up;
    if (su.gpus_per_domain == 0) fail("scale-up gpus_per_domain must be at least 1");
    if (su.gpus_per_domain > 1) {
      if (bad_bandwidth(su.bytes_per_s))
        fail(fmt::format("scale-up bandwidth must be positive, got {} bytes/s", su.bytes_per_s));
      if (su.gpus_per_domain % c.gpus_per_host != 0)
        fail(fmt::format("a scale-up domain of {} GPUs is not a whole number of hosts of {} GPUs",
                         su.gpus_per_domain, c.gpus_per_host));
      if (su.latency < Duration::zero()) fail("scale-up latency must not be negative");
    }

    ClusterReport rep;
    rep.name = n;
    rep.gpus = c.gpus;

    const VertexId first = t.vertices();
    t.cluster_gpu_begin_.push_back(first);
    t.cluster_gpus_.push_back(c.gpus);
    for (uint32_t i = 0; i < c.gpus && !dry; ++i) {
      t.global_endpoints_.push_back(add_vertex(VertexKind::Gpu, fmt::format("{}/gpu{}", n, i), ci, 0, i));
    }
    if (su.gpus_per_domain > 1) {
      const uint32_t domains = (c.gpus + su.gpus_per_domain - 1) / su.gpus_per_domain;
      rep.scale_up_domains = domains;
      for (uint32_t d = 0; d < domains && !dry; ++d) {
        const VertexId sw = add_vertex(VertexKind::NvSwitch, fmt::format("{}/nvs{}", n, d), ci, 0, d);
        const uint32_t end = std::min(c.gpus, (d + 1) * su.gpus_per_domain);
        for (uint32_t g = d * su.gpus_per_domain; g < end; ++g) add_link(first + g, sw, su.bytes_per_s, su.latency, LinkKind::NvLink);
      }
    }

    if (c.has_scale_out) build_scale_out(ci, c, first, rep, top_tier);
    t.report_.clusters.push_back(std::move(rep));
  }

  void build_scale_out(uint32_t ci, const ClusterSpec& c, VertexId first, ClusterReport& rep,
                       std::vector<VertexId>& top_tier) {
    const ScaleOutSpec& s = c.scale_out;
    const std::string& n = c.name;
    auto fail = [&](const std::string& what) { throw TopologyError(fmt::format("cluster \"{}\": {}", n, what)); };
    if (s.tiers != 2 && s.tiers != 3) fail(fmt::format("tiers must be 2 or 3, got {}", s.tiers));
    if (s.radix < 2) fail(fmt::format("switch radix must be at least 2, got {}", s.radix));
    if (s.planes == 0) fail("planes must be at least 1");
    if (bad_bandwidth(s.port_bytes_per_s))
      fail(fmt::format("port bandwidth must be positive, got {} bytes/s", s.port_bytes_per_s));
    if (!(s.leaf_oversubscription >= 1) || !std::isfinite(s.leaf_oversubscription))
      fail(fmt::format("leaf oversubscription must be at least 1 (1:1), got {}", s.leaf_oversubscription));
    if (s.tiers == 3 && (!(s.spine_oversubscription >= 1) || !std::isfinite(s.spine_oversubscription)))
      fail(fmt::format("spine oversubscription must be at least 1 (1:1), got {}", s.spine_oversubscription));
    if (s.link_latency < Duration::zero()) fail("link latency must not be negative");
    const bool wan = c.wan_uplink_bytes_per_s > 0;
    if (wan && !std::isfinite(c.wan_uplink_bytes_per_s)) fail("WAN uplink bandwidth must be finite");

    const TierPorts leaf = split_ports(s.radix, s.leaf_oversubscription);
    if (leaf.down == 0 || leaf.up == 0)
      fail(fmt::format("radix {} is too small for leaf oversubscription {}: a leaf needs at least one down and one "
                       "up port", s.radix, s.leaf_oversubscription));
    const uint32_t hosts = c.gpus / c.gpus_per_host;
    const uint32_t rails = c.gpus_per_host;

    // Which leaf (index within a plane) each GPU attaches to.
    std::vector<uint32_t> leaf_of(dry ? 0 : c.gpus);
    uint32_t leaves = 0;
    if (s.attach == Attach::Rail) {
      const uint32_t group = s.hosts_per_rail_group == 0 ? std::min(hosts, leaf.down) : s.hosts_per_rail_group;
      if (group > leaf.down)
        fail(fmt::format("a rail group of {} hosts needs {} down ports per leaf; radix {} at {}:1 gives {}", group,
                         group, s.radix, s.leaf_oversubscription, leaf.down));
      const uint32_t groups = (hosts + group - 1) / group;
      leaves = groups * rails;
      for (uint32_t g = 0; g < leaf_of.size(); ++g) {
        const uint32_t host = g / rails, rail = g % rails;
        leaf_of[g] = (host / group) * rails + rail;
      }
    } else {
      const uint32_t hosts_per_leaf = leaf.down / c.gpus_per_host;
      if (hosts_per_leaf == 0)
        fail(fmt::format("radix {} is too small: a leaf has {} down ports and a host needs {}", s.radix, leaf.down,
                         c.gpus_per_host));
      leaves = (hosts + hosts_per_leaf - 1) / hosts_per_leaf;
      for (uint32_t g = 0; g < leaf_of.size(); ++g) leaf_of[g] = (g / c.gpus_per_host) / hosts_per_leaf;
    }
    const bool storage = c.storage_bytes_per_s > 0;
    if (storage && !std::isfinite(c.storage_bytes_per_s)) fail("storage bandwidth must be finite");
    // One port of each top-tier switch for the WAN uplink and one for storage.
    const uint32_t top_ports = s.radix - (wan ? 1 : 0) - (storage ? 1 : 0);
    const char* besides = wan && storage ? " besides its WAN and storage links"
                          : wan          ? " besides its WAN uplink"
                          : storage      ? " besides its storage link"
                                         : "";

    uint32_t spines = 0, cores = 0, pods = 0;
    TierPorts spine_ports;
    // Top tiers are sized to what is cabled: when fewer leaves (pods) than a full build exist, fewer
    // spines (cores) take several parallel links each instead of many half-empty switches.
    uint32_t cores_per_group = 0;
    if (s.tiers == 2) {
      if (leaves > top_ports)
        fail(fmt::format(
            "radix {} is too small for {} GPUs in 2 tiers: they need {} leaves per plane but a spine has {} ports{} "
            "(at most {} GPUs); use 3 tiers, more planes or a larger radix",
            s.radix, c.gpus, leaves, top_ports, besides,
            max_gpus(s, c.gpus_per_host) - ((wan ? 1 : 0) + (storage ? 1 : 0)) * leaf.down));
      spines = static_cast<uint32_t>((uint64_t{leaf.up} * leaves + top_ports - 1) / top_ports);
    } else {
      spine_ports = split_ports(s.radix, s.spine_oversubscription);
      if (spine_ports.down == 0 || spine_ports.up == 0)
        fail(fmt::format("radix {} is too small for spine oversubscription {}", s.radix, s.spine_oversubscription));
      pods = (leaves + spine_ports.down - 1) / spine_ports.down;
      spines = pods * leaf.up;
      if (pods > top_ports)
        fail(fmt::format("radix {} is too small for {} GPUs in 3 tiers: they need {} pods per plane but a core has {} "
                         "ports{} (at most {} GPUs); use more planes or a larger radix",
                         s.radix, c.gpus, pods, top_ports, besides,
                         max_gpus(s, c.gpus_per_host)));
      cores_per_group = static_cast<uint32_t>((uint64_t{spine_ports.up} * pods + top_ports - 1) / top_ports);
      cores = leaf.up * cores_per_group;
    }

    const Duration lat = s.link_latency;
    for (uint32_t p = 0; p < s.planes && !dry; ++p) {
      const VertexId leaf0 = t.vertices();
      for (uint32_t l = 0; l < leaves; ++l) add_vertex(VertexKind::Leaf, fmt::format("{}/p{}/leaf{}", n, p, l), ci, p, l);
      const VertexId spine0 = t.vertices();
      for (uint32_t x = 0; x < spines; ++x)
        add_vertex(VertexKind::Spine, fmt::format("{}/p{}/spine{}", n, p, x), ci, p, x);
      const VertexId core0 = t.vertices();
      for (uint32_t x = 0; x < cores; ++x) add_vertex(VertexKind::Core, fmt::format("{}/p{}/core{}", n, p, x), ci, p, x);
      for (uint32_t g = 0; g < c.gpus; ++g) add_link(first + g, leaf0 + leaf_of[g], s.port_bytes_per_s, lat, LinkKind::Access);
      if (s.tiers == 2) {
        // Leaf l's m-th uplink goes to spine m mod spines (every leaf reaches every spine).
        for (uint32_t l = 0; l < leaves; ++l)
          for (uint32_t m = 0; m < leaf.up; ++m)
            add_link(leaf0 + l, spine0 + m % spines, s.port_bytes_per_s, lat, LinkKind::LeafSpine);
        for (uint32_t x = 0; x < spines; ++x) top_tier.push_back(spine0 + x);
      } else {
        for (uint32_t l = 0; l < leaves; ++l) {
          const uint32_t pod = l / spine_ports.down;
          for (uint32_t j = 0; j < leaf.up; ++j)
            add_link(leaf0 + l, spine0 + pod * leaf.up + j, s.port_bytes_per_s, lat, LinkKind::LeafSpine);
        }
        for (uint32_t pod = 0; pod < pods; ++pod)
          for (uint32_t j = 0; j < leaf.up; ++j)
            for (uint32_t m = 0; m < spine_ports.up; ++m)
              add_link(spine0 + pod * leaf.up + j, core0 + j * cores_per_group + m % cores_per_group,
                       s.port_bytes_per_s, lat, LinkKind::SpineCore);
        for (uint32_t x = 0; x < cores; ++x) top_tier.push_back(core0 + x);
      }
    }

    // Report: ports cabled per tier (both ends), switch counts, bisection.
    const uint64_t P = s.planes;
    rep.planes = s.planes;
    rep.pods = pods;
    rep.switches_per_tier = {leaves * s.planes, spines * s.planes, cores * s.planes};
    const uint64_t leaf_down_used = c.gpus, leaf_up_used = uint64_t{leaves} * leaf.up;
    rep.ports_used_per_tier[0] = P * (leaf_down_used + leaf_up_used);
    rep.ports_available_per_tier[0] = P * leaves * s.radix;
    const uint64_t spine_up_used = s.tiers == 3 ? uint64_t{spines} * spine_ports.up : 0;
    rep.ports_used_per_tier[1] = P * (leaf_up_used + spine_up_used + (s.tiers == 2 ? spines * ((wan ? 1u : 0u) + (storage ? 1u : 0u)) : 0));
    rep.ports_available_per_tier[1] = P * spines * s.radix;
    rep.ports_used_per_tier[2] = P * (spine_up_used + (s.tiers == 3 ? cores * ((wan ? 1u : 0u) + (storage ? 1u : 0u)) : 0));
    rep.ports_available_per_tier[2] = P * cores * s.radix;
    for (int tier = 0; tier < 3; ++tier)
      if (rep.ports_used_per_tier[tier] > rep.ports_available_per_tier[tier])
        fail(fmt::format("internal: tier {} uses {} ports of {}", tier, rep.ports_used_per_tier[tier],
                         rep.ports_available_per_tier[tier]));
    const double B = s.port_bytes_per_s;
    double narrow = static_cast<double>(c.gpus);
    narrow = std::min(narrow, static_cast<double>(leaf_up_used));
    if (s.tiers == 3 && pods > 1) narrow = std::min(narrow, static_cast<double>(spine_up_used));
    if (leaves == 1) narrow = static_cast<double>(c.gpus);  // one leaf: the leaf is the whole fabric
    rep.bisection_bytes_per_s = static_cast<double>(P) * narrow * B / 2.0;
    rep.injection_bytes_per_s = static_cast<double>(P) * B;
    rep.oversubscription = static_cast<double>(c.gpus) / narrow;
  }
};

uint32_t Topology::total_gpus() const { return static_cast<uint32_t>(global_endpoints_.size()); }

std::optional<VertexId> Topology::nvswitch_of(VertexId gpu) const {
  for (auto [it, end] = boost::out_edges(gpu, graph_); it != end; ++it) {
    const VertexId v = static_cast<VertexId>(boost::target(*it, graph_));
    if (vertices_[v].kind == VertexKind::NvSwitch) return v;
  }
  return std::nullopt;
}

std::optional<VertexId> Topology::find(std::string_view name) const {
  for (VertexId v = 0; v < vertices(); ++v)
    if (vertices_[v].name == name) return v;
  return std::nullopt;
}

std::optional<uint32_t> Topology::find_cluster(std::string_view name) const {
  for (uint32_t i = 0; i < report_.clusters.size(); ++i)
    if (report_.clusters[i].name == name) return i;
  return std::nullopt;
}

std::optional<uint32_t> Topology::find_site(std::string_view name) const {
  for (uint32_t i = 0; i < site_names_.size(); ++i)
    if (site_names_[i] == name) return i;
  return std::nullopt;
}

Topology TopologyBuilder::build_all(const NetworkSpec& spec) {
  TopologyBuilder& b = *this;
  std::set<std::string, std::less<>> names;
  for (const auto& c : spec.clusters) {
    if (c.name.empty()) throw TopologyError("a cluster needs a name");
    if (c.name.find('/') != std::string::npos)
      throw TopologyError(fmt::format("cluster \"{}\": names must not contain '/'", c.name));
    if (!names.insert(c.name).second) throw TopologyError(fmt::format("cluster \"{}\" is defined twice", c.name));
  }
  // Sites first, so a cluster naming an unknown site fails before anything is built.
  std::set<std::string, std::less<>> site_names, region_names;
  for (const auto& s : spec.sites) {
    if (s.name.empty()) throw TopologyError("a WAN site needs a name");
    if (!site_names.insert(s.name).second) throw TopologyError(fmt::format("site \"{}\" is defined twice", s.name));
    if (s.region.empty() || s.region == s.name) region_names.insert(s.name);
  }
  for (const auto& s : spec.sites)
    if (!s.region.empty() && s.region != s.name && !region_names.contains(s.region))
      throw TopologyError(fmt::format("site \"{}\" belongs to unknown region \"{}\"", s.name, s.region));
  for (const auto& c : spec.clusters) {
    if (!c.site.empty() && !site_names.contains(c.site))
      throw TopologyError(fmt::format("cluster \"{}\" sits in unknown site \"{}\"", c.name, c.site));
    if (c.wan_uplink_bytes_per_s > 0 && c.site.empty())
      throw TopologyError(fmt::format("cluster \"{}\" has WAN uplinks but no site to join", c.name));
    if (c.wan_uplink_bytes_per_s > 0 && !c.has_scale_out)
      throw TopologyError(fmt::format("cluster \"{}\" has no scale-out fabric to join its site's WAN router", c.name));
    if (c.storage_bytes_per_s > 0 && !c.has_scale_out)
      throw TopologyError(fmt::format("cluster \"{}\" has storage but no scale-out fabric to reach it", c.name));
  }
  for (size_t i = 0; i < spec.wan_links.size(); ++i) {
    const auto& w = spec.wan_links[i];
    for (const std::string* end : {&w.a, &w.b})
      if (!site_names.contains(*end))
        throw TopologyError(fmt::format("WAN link {} ({} - {}): unknown region or zone \"{}\"", i, w.a, w.b, *end));
    if (w.a == w.b) throw TopologyError(fmt::format("WAN link {} joins site \"{}\" to itself", i, w.a));
    if (bad_bandwidth(w.bytes_per_s))
      throw TopologyError(fmt::format("WAN link {} ({} - {}): bandwidth must be positive, got {} bytes/s", i, w.a, w.b,
                                      w.bytes_per_s));
    if (w.latency < Duration::zero())
      throw TopologyError(fmt::format("WAN link {} ({} - {}): latency must not be negative", i, w.a, w.b));
    if (w.count == 0) throw TopologyError(fmt::format("WAN link {} ({} - {}): count must be at least 1", i, w.a, w.b));
  }

  std::vector<std::vector<VertexId>> tops(spec.clusters.size());
  for (uint32_t i = 0; i < spec.clusters.size(); ++i) b.build_cluster(i, spec.clusters[i], tops[i]);

  // (t is the member: the topology being built)
  for (const auto& s : spec.sites) {
    t.site_names_.push_back(s.name);
    t.site_router_.push_back(b.add_vertex(VertexKind::WanRouter, s.name + "/wan", UINT32_MAX, 0,
                                          static_cast<uint32_t>(t.site_names_.size() - 1)));
  }
  for (uint32_t i = 0; i < spec.clusters.size(); ++i) {
    const auto& c = spec.clusters[i];
    if (c.wan_uplink_bytes_per_s <= 0) continue;
    const VertexId r = t.site_router_[*t.find_site(c.site)];
    for (VertexId v : tops[i]) b.add_link(v, r, c.wan_uplink_bytes_per_s, c.scale_out.link_latency, LinkKind::Wan);
  }
  for (const auto& w : spec.wan_links) {
    const VertexId ra = t.site_router_[*t.find_site(w.a)], rb = t.site_router_[*t.find_site(w.b)];
    for (uint32_t k = 0; k < w.count; ++k) b.add_link(ra, rb, w.bytes_per_s, w.latency, LinkKind::Wan);
  }
  // Storage last, so a fabric without it is built exactly as before. Its links are access links: an
  // endpoint's attachment to the fabric.
  t.cluster_storage_.assign(spec.clusters.size(), UINT32_MAX);
  for (uint32_t i = 0; i < spec.clusters.size(); ++i) {
    const auto& c = spec.clusters[i];
    if (c.storage_bytes_per_s <= 0 || tops[i].empty()) continue;
    const VertexId st = b.add_vertex(VertexKind::Storage, c.name + "/storage", i, 0, 0);
    t.cluster_storage_[i] = st;
    const double per_link = c.storage_bytes_per_s / static_cast<double>(tops[i].size());
    for (VertexId v : tops[i]) b.add_link(v, st, per_link, c.scale_out.link_latency, LinkKind::Access);
  }
  t.report_.vertices = t.vertices();
  if (!dry) t.freeze();
  return std::move(b.t);
}

VertexId Topology::add_vertex(VertexKind kind, std::string name, uint32_t cluster, uint32_t plane, uint32_t index) {
  vertices_.push_back(VertexProps{kind, std::move(name), cluster, plane, index});
  return static_cast<VertexId>(vertices_.size() - 1);
}

void Topology::add_link(VertexId a, VertexId b, double bps, Duration latency, LinkKind kind) {
  edges_.push_back({a, b, bps, latency, kind});
  edges_.push_back({b, a, bps, latency, kind});
  report_.links_per_kind[static_cast<int>(kind)] += 1;
  report_.links += 1;
}

void Topology::freeze() {
  // Out-edges in the order the links were added (histogram_sort is stable), so a scan of a vertex's
  // out-edges meets them in edge-index order, as Router::out does.
  std::vector<std::pair<uint32_t, uint32_t>> ends;
  std::vector<EdgeProps> props;
  ends.reserve(edges_.size());
  props.reserve(edges_.size());
  for (uint32_t e = 0; e < edges_.size(); ++e) {
    ends.emplace_back(edges_[e].source, edges_[e].target);
    props.push_back(EdgeProps{edges_[e].kind, e});
  }
  graph_ = TopologyGraph(boost::edges_are_unsorted_multi_pass, ends.begin(), ends.end(), props.begin(), vertices());
}

Topology build_topology(const NetworkSpec& spec) { return TopologyBuilder().build_all(spec); }

void check_topology(const NetworkSpec& spec) {
  TopologyBuilder b;
  b.dry = true;
  b.build_all(spec);
}

}  // namespace fleetsim
