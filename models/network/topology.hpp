// SPDX-License-Identifier: Apache-2.0
// Network topologies as Boost Graph graphs: scale-up domains (NVLink), rail-optimized or top-of-rack
// attached leaf-spine (2 tiers) and fat-tree (3 tiers) Clos fabrics with a chosen oversubscription per
// tier, multi-plane fabrics, and WAN links between sites (availability zones, regions).
//
//   ClusterSpec c;                         // 1,024 H100 in 128 HGX nodes, rail-optimized, 2 tiers
//   c.name = "dc1"; c.gpus = 1024; c.gpus_per_host = 8;
//   c.scale_up = {.gpus_per_domain = 8, .bytes_per_s = 450e9, .latency = Duration::ns(250)};
//   c.scale_out = {.attach = Attach::Rail, .tiers = 2, .radix = 64, .port_bytes_per_s = 50e9};
//   Topology t = build_topology(NetworkSpec{.clusters = {c}});   // throws TopologyError if it cannot be built
//   t.report().clusters[0].switches_per_tier;                    // {32 leaves, 16 spines, 0}
//   t.endpoint(0, 17);                                           // vertex of GPU 17 of cluster 0
//
// The graph (TopologyGraph): Boost's compressed sparse row graph, directed. Every physical link is two
// directed edges, made one after the other, so directed edge e and e ^ 1 are the two directions of one
// link and each direction has its own capacity (full duplex). Edge property `id` is that index; the
// flow model and the router index their per-direction state by it. Units: bandwidth in BYTES per second
// per direction, latency as Duration (one way).
//
// Vertices: GPU endpoints (they send and receive, never forward), NVSwitches (one logical,
// non-blocking switch per scale-up domain, joined to each of its GPUs by one link of the per-GPU
// scale-up bandwidth), leaf/ToR, spine (aggregation), core switches, WAN routers (one per site).
//
// Clos construction (docs/network.md has the drawings and the arithmetic):
//   leaf:  down = floor(radix * o1 / (1 + o1)) ports to endpoints, up = floor(down / o1) to tier 2
//   2 tiers: ceil(up * leaves / radix) spines (`up` when the fabric is full); leaf uplink m goes to
//            spine m mod spines (parallel links when there are fewer spines than uplinks); leaves <= radix.
//   3 tiers: pods of `down2 = floor(radix * o2 / (1 + o2))` leaves and `up` spines (aggregation);
//            every leaf links to every spine of its pod; spine j of every pod spreads its `up2 =
//            floor(down2 / o2)` uplinks over the ceil(up2 * pods / radix) cores of core group j
//            (up2 cores, one link per pod, when full); pods <= radix.
//   (o1 = o2 = 1, radix k: the k-ary fat-tree of Al-Fares et al., SIGCOMM 2008: k^3/4 hosts.)
// Attachment: Rail puts GPU r of every host of a rail group on leaf (group, r) (NVIDIA's rail-
// optimized design: same-rail traffic crosses one leaf); Tor puts all GPUs of a host on one leaf.
// Planes: the scale-out fabric is built `planes` times; every GPU has one port of port_bytes_per_s in
// each plane.
// Checks (TopologyError, one clear message): a radix too small for the requested size, more ports used
// than a switch has, zero or negative bandwidth, a WAN link naming an unknown site, a site whose region
// is unknown, duplicate names.
#pragma once

#include "models/network/routing_policy.hpp"
#include "sim/error.hpp"
#include "sim/time.hpp"

#include <boost/graph/compressed_sparse_row_graph.hpp>

#include <array>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace fleetsim {

/// A network that cannot be built as described: invalid input (exit 65, sim/error.hpp).
class TopologyError : public std::invalid_argument, public ErrorWithKind {
 public:
  explicit TopologyError(const std::string& what) : std::invalid_argument(what), ErrorWithKind(ErrorKind::InvalidInput) {}
};

/// Storage: an endpoint that is not a GPU (a storage server of an imported topology); it never forwards.
enum class VertexKind : uint8_t { Gpu = 0, Nic, Leaf, Spine, Core, NvSwitch, WanRouter, Storage };
inline constexpr int kVertexKinds = 8;
/// "gpu", "nic", "leaf", "spine", "core", "nvswitch", "wan", "storage"
std::string_view vertex_kind_name(VertexKind k);

enum class LinkKind : uint8_t { NvLink = 0, Access, LeafSpine, SpineCore, Wan };
inline constexpr int kLinkKinds = 5;
std::string_view link_kind_name(LinkKind k);  ///< "nvlink", "access", "leaf_spine", "spine_core", "wan"

struct VertexProps {
  VertexKind kind = VertexKind::Gpu;
  std::string name;       ///< "dc1/gpu17", "dc1/p0/leaf3", "us-east-1/wan"
  uint32_t cluster = 0;   ///< index into NetworkSpec::clusters (UINT32_MAX for WAN routers)
  uint32_t plane = 0;     ///< scale-out plane (0 for GPUs, NVSwitches, routers)
  uint32_t index = 0;     ///< GPU index in its cluster; switch index within its tier and plane
};

/// What the graph keeps per directed edge; its bandwidth and latency are in Topology::edge(id).
struct EdgeProps {
  LinkKind kind = LinkKind::Access;
  uint32_t id = 0;              ///< directed edge index; id ^ 1 is the other direction
};

/// The graph of the built fabric: Boost's compressed sparse row graph (out-edges of each vertex in one
/// array, in the order they were added), built once when the fabric is complete. Not adjacency_list:
/// with directedS it allocates every edge's property on its own (thirteen million allocations and
/// about 400 MB for the 38B flagship's eleven fabrics, against 12 bytes per edge here). Vertex
/// properties are Topology::vertex(v).
using TopologyGraph =
    boost::compressed_sparse_row_graph<boost::directedS, boost::no_property, EdgeProps, boost::no_property, uint32_t, uint32_t>;
using VertexId = uint32_t;  ///< vertex index in TopologyGraph (0..V-1)
using EdgeIndex = uint32_t; ///< directed edge index (EdgeProps::id)

// ---- specs (plain config, SI units) ----

struct ScaleUpSpec {
  uint32_t gpus_per_domain = 8;  ///< 8 for an HGX node, 72 for NVL72; 1: no scale-up links
  double bytes_per_s = 450e9;    ///< per GPU, per direction (catalog scale_up_bandwidth)
  Duration latency = Duration::ns(250);
};

enum class Attach : uint8_t { Rail, Tor };

struct ScaleOutSpec {
  Attach attach = Attach::Rail;
  uint32_t tiers = 2;                 ///< 2: leaf-spine; 3: fat-tree (leaf, spine = aggregation, core)
  uint32_t radix = 64;                ///< ports per switch, every tier
  double port_bytes_per_s = 50e9;     ///< per port, per direction (400 Gb/s = 50e9)
  uint32_t planes = 1;                ///< independent copies of the fabric; each GPU has one port per plane
  double leaf_oversubscription = 1;   ///< leaf down:up ports (>= 1)
  double spine_oversubscription = 1;  ///< 3 tiers: spine down:up ports (>= 1)
  Duration link_latency = Duration::ns(500);  ///< every scale-out link, one way (cable + switch hop)
  /// Rail groups (Attach::Rail): hosts per group; 0 = as many as a leaf has down ports.
  uint32_t hosts_per_rail_group = 0;
};

struct ClusterSpec {
  std::string name;            ///< unique; prefixes vertex names
  std::string site;            ///< WAN site (zone or region) it sits in; may be empty without WAN uplinks
  /// Fleet datacenter path ("us-east-1/use1-az4/dc1") whose GPUs these are, in order; empty for a
  /// stand-alone cluster. FleetNetworkMap (fleet_map.hpp) uses it to find a fleet GPU's endpoint.
  std::string datacenter;
  uint32_t gpus = 0;           ///< GPU endpoints
  uint32_t gpus_per_host = 8;  ///< GPUs sharing a host (one NIC per GPU, rails = gpus_per_host)
  ScaleUpSpec scale_up;
  ScaleOutSpec scale_out;
  bool has_scale_out = true;   ///< false: scale-up domains only (a single NVL72, say)
  /// Links from each top-tier switch (every plane) to the site's WAN router, per link bandwidth;
  /// 0: none (the cluster does not reach the WAN). Uses one port of each top-tier switch, which the
  /// radix check counts. Needs `site`.
  double wan_uplink_bytes_per_s = 0;
  /// Storage (checkpoint writes, datasets): one endpoint "<name>/storage" (VertexKind::Storage) joined
  /// to every top-tier switch of every plane by one link of storage_bytes_per_s / (top-tier switches),
  /// so the fabric reaches it at storage_bytes_per_s in total [A: storage hangs off the top tier through
  /// border links, spread evenly]; 0: no storage endpoint. Uses one port of each top-tier switch, which
  /// the radix check counts. Built after everything else: vertex and edge indices of the rest do not
  /// move.
  double storage_bytes_per_s = 0;
};

struct SiteSpec {
  std::string name;    ///< "us-east-1" (a region) or "use1-az4" (a zone)
  std::string region;  ///< the region it belongs to; empty or == name for a region itself
};

struct WanLinkSpec {
  std::string a, b;          ///< site names
  double bytes_per_s = 0;    ///< per direction, per link
  Duration latency;          ///< one way
  uint32_t count = 1;        ///< parallel links (each its own ECMP path)
};

/// Fabric-internal link failures of a run (scenario key "network.link_failures"; applied by
/// FabricFailures, models/network/fabric_failures.hpp). Either a set failed together (`fraction` or
/// `count` of the eligible links, chosen by `seed`, down at `at` for `duration`) or a random process
/// (`mtbf` > 0: every eligible link fails after an exponential time of mean `mtbf` and is back `repair`
/// later).
struct LinkFailureSpec {
  /// Link kinds that may fail: leaf_spine, spine_core, wan (access links are the fleet's `link` class).
  std::vector<LinkKind> kinds{LinkKind::LeafSpine, LinkKind::SpineCore};
  std::string cluster;                   ///< only this cluster's links; empty: every cluster and the WAN
  double fraction = 0;                   ///< of the eligible links: round(fraction * eligible) fail
  uint32_t count = 0;                    ///< or exactly this many (a spec gives one of fraction, count, mtbf)
  Duration at = Duration::zero();        ///< when the set fails
  Duration duration = Duration::max();   ///< how long it stays down; max: to the end of the run
  Duration mtbf = Duration::zero();      ///< > 0: a random process per link instead of a set
  Duration repair = Duration::hours(4);  ///< the process's time to repair (fixed)
  std::optional<uint64_t> seed;          ///< the choice of links and failure times; default: the run's seed
};

/// How the training model's collectives are costed on the fabric (scenario key
/// "network.collective_costing"): one representative group per collective (aggregate), or every flow
/// of every group that runs at the same time (flows), so that ECMP collisions between groups show, or
/// every concurrent group against everyone else's load on a shared fabric (shared: FabricLoad, models/
/// network/fabric_load.hpp; SharedFabricCost, models/training/shared_fabric_cost.hpp).
enum class CollectiveCosting : uint8_t { Aggregate, Flows, Shared };

struct NetworkSpec {
  std::vector<ClusterSpec> clusters;
  std::vector<SiteSpec> sites;
  std::vector<WanLinkSpec> wan_links;
};

/// What a run does on the fabric besides its shape (kept out of NetworkSpec, which is built with
/// positional braces in many places): its link failures and how collectives are costed.
struct NetworkRunOptions {
  std::vector<LinkFailureSpec> link_failures;
  CollectiveCosting collective_costing = CollectiveCosting::Aggregate;
  /// network.stopped_traffic_hold (shared costing): how long a stopped training job's traffic stays on
  /// the fabric waiting for its restart (SharedFabricCost); zero: it leaves at the stop.
  Duration stopped_traffic_hold = Duration::zero();
  /// network.clusters[i].routing, for the clusters that give one (the others route by ECMP).
  std::vector<ClusterRouting> routing;
  /// network.topology_file (absolute path), or empty: the fabric is read from this GraphML or DOT file
  /// instead of built from the clusters' shapes (NetworkSpec::clusters then name the file's clusters
  /// and the fleet datacenters they hold, in the file's order). Kept here, not in NetworkSpec, which
  /// is built with positional braces in many places.
  std::string topology_file;
};

// ---- what was built ----

struct ClusterReport {
  std::string name;
  uint32_t gpus = 0;
  uint32_t scale_up_domains = 0;
  uint32_t planes = 0;
  /// Switches per tier over all planes: [0] leaves, [1] spines, [2] cores (0 when absent).
  std::array<uint32_t, 3> switches_per_tier{};
  /// Ports used / available per tier over all planes (cabled ports, both ends of every link).
  std::array<uint64_t, 3> ports_used_per_tier{};
  std::array<uint64_t, 3> ports_available_per_tier{};
  uint32_t pods = 0;  ///< 3 tiers only
  /// Bisection bandwidth of the scale-out fabric, bytes/s per direction: the smallest total
  /// capacity crossing a cut that splits the GPUs in halves, computed for the Clos structure as
  /// min(GPU ports, leaf uplinks, spine uplinks) / 2 over all planes (exact for these symmetric
  /// Clos builds; see docs/network.md).
  double bisection_bytes_per_s = 0;
  /// Scale-out bytes/s per GPU over all planes, and the effective oversubscription (injection / what
  /// the narrowest tier can carry for uniform all-to-all traffic).
  double injection_bytes_per_s = 0;
  double oversubscription = 1;
};

struct TopologyReport {
  std::vector<ClusterReport> clusters;
  uint32_t vertices = 0;
  uint32_t links = 0;  ///< physical (bidirectional) links
  std::array<uint32_t, kLinkKinds> links_per_kind{};
};

class Topology {
 public:
  const TopologyGraph& graph() const { return graph_; }
  const TopologyReport& report() const { return report_; }
  uint32_t vertices() const { return static_cast<uint32_t>(vertices_.size()); }
  uint32_t directed_edges() const { return static_cast<uint32_t>(edges_.size()); }
  const VertexProps& vertex(VertexId v) const { return vertices_[v]; }

  /// Per directed edge, by EdgeProps::id: endpoints and properties.
  struct EdgeRec {
    VertexId source = 0, target = 0;
    double bytes_per_s = 0;
    Duration latency;
    LinkKind kind = LinkKind::Access;
  };
  const EdgeRec& edge(EdgeIndex e) const { return edges_[e]; }

  uint32_t clusters() const { return static_cast<uint32_t>(cluster_gpu_begin_.size()); }
  uint32_t gpus(uint32_t cluster) const { return cluster_gpus_[cluster]; }
  /// The vertex of GPU `gpu` of cluster `cluster`.
  VertexId endpoint(uint32_t cluster, uint32_t gpu) const { return cluster_gpu_begin_[cluster] + gpu; }
  /// All GPU endpoints of all clusters, in order (cluster 0's first).
  uint32_t total_gpus() const;
  VertexId endpoint(uint32_t global_gpu) const { return global_endpoints_[global_gpu]; }
  /// The scale-up domain (NVSwitch vertex) of a GPU, or nullopt without scale-up links.
  std::optional<VertexId> nvswitch_of(VertexId gpu) const;
  std::optional<VertexId> find(std::string_view name) const;
  std::optional<uint32_t> find_cluster(std::string_view name) const;
  std::optional<uint32_t> find_site(std::string_view name) const;
  const std::vector<std::string>& sites() const { return site_names_; }
  /// The WAN router of a site.
  VertexId router(uint32_t site) const { return site_router_[site]; }
  /// The storage endpoint of a cluster (ClusterSpec::storage_bytes_per_s), or nullopt.
  std::optional<VertexId> storage(uint32_t cluster) const {
    if (cluster >= cluster_storage_.size() || cluster_storage_[cluster] == UINT32_MAX) return std::nullopt;
    return cluster_storage_[cluster];
  }

  /// Vertices that forward traffic (everything but GPUs and storage endpoints).
  bool forwards(VertexId v) const { return vertices_[v].kind != VertexKind::Gpu && vertices_[v].kind != VertexKind::Storage; }


/// Runs every check of build_topology and throws the TopologyError it would, without building the
/// fabric (no vertex or link of a cluster is made): what the scenario loader uses to check a cluster.
void check_topology(const NetworkSpec& spec);
  friend class TopologyBuilder;
  friend class TopologyImporter;  ///< models/scenario/topology_file.cpp: GraphML and DOT files

 private:
  // What the two builders (TopologyBuilder, TopologyImporter) make a fabric with.
  VertexId add_vertex(VertexKind kind, std::string name, uint32_t cluster, uint32_t plane, uint32_t index);
  /// One physical link: two directed edges, a -> b then b -> a (ids e and e ^ 1).
  void add_link(VertexId a, VertexId b, double bps, Duration latency, LinkKind kind);
  /// Builds graph_ from vertices_ and edges_ (the builders call it once, when the fabric is complete).
  void freeze();
  TopologyGraph graph_;
  std::vector<VertexProps> vertices_;
  std::vector<EdgeRec> edges_;
  TopologyReport report_;
  std::vector<VertexId> cluster_gpu_begin_;
  std::vector<uint32_t> cluster_gpus_;
  std::vector<VertexId> global_endpoints_;
  std::vector<std::string> site_names_;
  std::vector<VertexId> site_router_;
  std::vector<VertexId> cluster_storage_;  // per cluster; UINT32_MAX: none
};

/// Builds the whole network. Throws TopologyError with one message naming the cluster or link and
/// what was expected.
Topology build_topology(const NetworkSpec& spec);

/// Runs every check of build_topology and throws the TopologyError it would, without building the
/// fabric (no vertex or link of a cluster is made): what the scenario loader uses to check a cluster.
void check_topology(const NetworkSpec& spec);

/// The largest GPU count the scale-out part of `c` can hold (all tiers, one plane's worth of ports per
/// GPU), for messages and for sizing studies.
uint64_t max_gpus(const ScaleOutSpec& s, uint32_t gpus_per_host);

}  // namespace fleetsim
