// SPDX-License-Identifier: Apache-2.0
// Router: shortest-path routing with ECMP over equal-cost paths, link and switch state, partitions.
//
//   Router r(topology);
//   std::vector<EdgeIndex> path;
//   r.route(src, dst, /*flow key*/ 42, path);     // false: no path (partition)
//   r.set_link_up(Router::link_of(path[1]), false);  // a cut link: later routes avoid it
//   PlacementCheck pc = r.check_placement(gpus);  // pc.connected == false: a partition splits them
//
// Cost: every link costs 2 except NVLink, which costs 1, so GPUs in one scale-up domain talk over
// NVLink (2) rather than through a ToR (4), as NCCL does; among scale-out paths this is hop count, the
// metric of ECMP in a Clos. GPUs never forward (no transit through an endpoint).
//
// How a route is found (and why it is cheap): a GPU attaches to the fabric through a few switches (its
// leaf in each plane, its NVSwitch). For each such attachment switch `a` the router keeps, lazily, the
// BFS distance from every switch to `a` over usable switch-to-switch links: one O(V + E) BFS per
// attachment switch ever used, cached until the link state changes (a k=32 fat-tree has 512 leaves:
// 512 BFS, ~5 MB of uint8 distances, for any number of flows). The distance from switch u to GPU d is
// then min over d's attachments a of 2 * dist_a(u) + cost(a, d). A route is walked hop by hop from the
// source: at each vertex, the next hops are the usable out-links whose far end is closest to d, and the
// flow's key picks one of them through a fixed 64-bit mixing function of (key, vertex) (SplitMix64's
// finalizer: no std::hash, identical on every platform). That is per-hop ECMP as switches do it: every
// equal-cost shortest path can be chosen, flows spread over them, and a flow's path is a pure function
// of (topology state, key). No O(V) work per flow.
//
// Why a route's cost does not grow with switch radix: at a hop that has a usable link straight to the
// destination, that link (cost 1 or 2) beats every way through another switch whenever it is cheaper
// than the cheapest switch-to-switch link plus one more hop, so the candidates are just the direct links,
// found among the destination's few links instead of among the switch's hundreds of ports; at any other
// hop only the out-links to forwarding vertices can be next hops, so the links down to GPUs are skipped.
// Both give exactly the candidates, in the order, that a scan of every out-link gives: the same path.
//
// Route cache: a ring all-reduce asks for the same (source, destination, key) 2(n-1) times. Routes are
// kept in a direct-mapped table (one slot per hash of the triple, a later route overwrites a colliding
// one; no allocation after the first route) tagged with the routing generation, so any link or switch
// change invalidates every cached route at once. Paths longer than kCachedHops are not cached.
//
// Why generic rather than a fat-tree formula (up to the common ancestor and down): the same code then
// serves leaf-spine, fat-tree, multi-plane, rail groups, WAN, and every degraded topology after
// failures, where the structural formula no longer holds (a spine that lost a down link must not be
// chosen on the way up). In an intact Clos the BFS distances reproduce the up-down paths exactly.
//
// Partitions: connected components (boost::connected_components) of the switch graph over usable links;
// a GPU belongs to the components of its usable attachments. A placement is connected when its GPUs
// form one group under "shares a component" (transitively: a GPU that reaches both sides relays, as
// NCCL's PXN does over NVLink). Computed lazily after each change.
//
// Policies (routing_policy.hpp): each cluster's fabric routes by its own policy, the source's cluster
// deciding. route() is ECMP, or a pinned route when one is pinned for the flow or pair and usable;
// spray() and route_least_loaded() walk the same equal-cost DAG as route() (the same next-hop sets), so
// the four policies differ only in how a flow uses the equal-cost paths, never in which paths are
// equal-cost. Callers pick by policy(src): the flow model, the collective costings and the ledger.
#pragma once

#include "models/network/routing_policy.hpp"
#include "models/network/topology.hpp"

#include <array>
#include <cstdint>
#include <functional>
#include <span>
#include <unordered_map>
#include <vector>

namespace fleetsim {

/// The mixing function for ECMP: SplitMix64's finalizer (Steele, Lea, Flood, OOPSLA 2014).
constexpr uint64_t ecmp_mix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

struct PlacementCheck {
  bool connected = true;
  uint32_t groups = 1;              ///< groups of mutually reachable GPUs
  std::vector<uint32_t> group_of;   ///< per GPU of the placement, its group (0 = the first GPU's)
};

class Router {
 public:
  explicit Router(const Topology& t);

  const Topology& topology() const { return *t_; }

  // ---- state ----
  /// Physical link index of a directed edge: e / 2 (both directions fail together).
  static uint32_t link_of(EdgeIndex e) { return e >> 1; }
  bool link_up(uint32_t link) const { return link_up_[link] != 0; }
  bool vertex_up(VertexId v) const { return vertex_up_[v] != 0; }
  /// Usable: the link is up and both its ends are up.
  bool usable(EdgeIndex e) const {
    return link_up_[e >> 1] != 0 && vertex_up_[src_[e]] != 0 && vertex_up_[dst_[e]] != 0;
  }
  /// Returns true if the state changed.
  bool set_link_up(uint32_t link, bool up);
  bool set_vertex_up(VertexId v, bool up);
  /// Increases on every change; cached routes and components are invalid after a change.
  uint64_t generation() const { return generation_; }
  uint32_t links_down() const { return links_down_; }

  // ---- policies ----
  /// The policy of a cluster's fabric (default ECMP for every cluster).
  void set_policy(uint32_t cluster, RoutingPolicy p);
  /// The policy a flow from `src` follows: its cluster's (ECMP for WAN routers).
  RoutingPolicy policy(VertexId src) const {
    const uint32_t c = t_->vertex(src).cluster;
    return c < policy_.size() ? policy_[c] : RoutingPolicy::Ecmp;
  }
  /// True when some cluster routes by another policy than ECMP.
  bool any_policy() const { return any_policy_; }
  /// Pins a route (pinned policy): route() returns it for its flow key (or every key of its pair) while
  /// every link and vertex on it is usable, and ECMP otherwise.
  void pin(const ResolvedRoute& r);
  size_t pinned_routes() const { return pinned_.size(); }
  /// route() calls answered by a pinned route.
  uint64_t pinned_hits() const { return pinned_hits_; }

  /// Spray: the equal-cost DAG from src to dst with the fraction of the flow on each directed edge when
  /// every hop splits what arrives equally over its equal-cost next hops (`edges` in no particular
  /// order, each once; fractions out of a vertex sum to what enters it). `latency` gets the longest
  /// path's latency (the last byte comes by the slowest path). False when dst cannot be reached.
  bool spray(VertexId src, VertexId dst, std::vector<EdgeIndex>& edges, std::vector<double>& fraction,
             Duration* latency = nullptr);
  /// Adaptive: among the equal-cost paths from src to dst, one whose least `headroom` (per directed
  /// edge, higher is better: the caller's measure, such as the fair share a new flow would get) is
  /// largest; among equally good next hops the ECMP hash of `key` picks, as route() does. Dynamic
  /// programming over the equal-cost DAG (each vertex of it once).
  bool route_least_loaded(VertexId src, VertexId dst, uint64_t key, const std::function<double(EdgeIndex)>& headroom,
                          std::vector<EdgeIndex>& path);

  // ---- routing ----
  /// Fills `path` (cleared first) with the directed edges of the route from src to dst chosen for
  /// `key`; false (and an empty path) if dst cannot be reached. src == dst: true, empty path.
  bool route(VertexId src, VertexId dst, uint64_t key, std::vector<EdgeIndex>& path);
  /// Cost of the best route (NVLink 1, other links 2), or UINT32_MAX when unreachable.
  uint32_t cost(VertexId src, VertexId dst);
  /// Number of distinct equal-cost shortest paths from src to dst (counted by dynamic programming over
  /// the shortest-path DAG; for tests and reports, O(V + E)).
  uint64_t count_paths(VertexId src, VertexId dst);
  /// Out-links of a vertex: (target, directed edge index), in the graph's order.
  struct Out {
    VertexId to;
    EdgeIndex e;
  };
  std::span<const Out> out(VertexId v) const { return {out_.data() + out_begin_[v], out_.data() + out_begin_[v + 1]}; }

  // ---- partitions ----
  bool reachable(VertexId a, VertexId b);
  PlacementCheck check_placement(std::span<const VertexId> gpus);
  /// Connected components of the switch graph right now.
  uint32_t components();
  /// Times the components were computed: once per change of the switch graph (a link between two
  /// switches, or a switch), not per access or NVLink change, which cannot move a component.
  uint64_t component_runs() const { return comp_runs_; }

  // ---- the whole-fabric shortcut of placement checks ----
  /// True when every GPU endpoint has a scale-out attachment (a link to a switch other than its
  /// NVSwitch) and every such attachment switch is up and in one component of the switch graph: then
  /// any placement of GPUs that are not impaired() is connected, whatever its size. A placement check
  /// then looks only at the few impaired GPUs instead of every GPU of the placement (at 100,000-GPU
  /// jobs and one check per restart, that loop was most of a run's time).
  bool scale_out_whole();
  /// GPUs that are down or have an unusable link to a switch (a link down or its switch down), in no
  /// particular order. Usually a handful: the GPUs whose access link failed and is not yet repaired.
  const std::vector<VertexId>& impaired() const { return impaired_; }

  /// Distance tables computed since construction (a measure of cache effectiveness; a cluster's tables
  /// are computed up to 64 at a time, for the requested switch and other attachment switches).
  uint64_t bfs_runs() const { return bfs_runs_; }
  /// Whether walks to a destination with many attachments (storage) use one cost table per destination
  /// (the default) or scan the attachments' distance tables like any other destination. The routes are
  /// the same either way; tests compare the two.
  void set_dense_destinations(bool on) {
    dense_enabled_ = on;
    walked_dst_ = UINT32_MAX;
  }
  /// route() calls answered from the route cache, and calls that computed the route.
  uint64_t route_cache_hits() const { return cache_hits_; }
  uint64_t route_cache_misses() const { return cache_misses_; }

 private:
  static constexpr uint8_t kInf = 255;
  /// Hop counts from attachment switch `switch_index` to every switch: over the switches of its own
  /// cluster only (`whole` false: enough for a route whose ends are both in that cluster), or over
  /// the whole switch graph (routes between clusters, WAN routers).
  const std::vector<uint8_t>& dist_from(uint32_t switch_index, bool whole);
  struct Attachment {
    const uint8_t* dist;
    uint32_t last_cost;  // cost of the hop attachment -> destination
    uint32_t cluster;    // the table's cluster (indexed by switch_local_), or UINT32_MAX: the whole graph
  };
  /// Hop count in table `d` of switch `si`: a cluster's table holds its own switches only (by their
  /// index in the cluster), the others are unreachable in it.
  uint8_t dist_at(const uint8_t* d, uint32_t table_cluster, uint32_t si) const {
    if (table_cluster == UINT32_MAX) return d[si];
    return switch_cluster_[si] == table_cluster ? d[switch_local_[si]] : kInf;
  }
  /// The usable attachments of dst with their distance tables, scoped for a route from `src`.
  void attachments_of(VertexId src, VertexId dst, std::vector<Attachment>& out);
  /// Cost from vertex u to dst through the attachments (u a switch or dst itself).
  uint32_t cost_to(VertexId u, VertexId dst, const std::vector<Attachment>& att) const;
  static uint32_t link_cost(LinkKind k) { return k == LinkKind::NvLink ? 1 : 2; }
  void update_components();
  /// The route computed hop by hop (no cache).
  bool walk(VertexId src, VertexId dst, uint64_t key, std::vector<EdgeIndex>& path);
  std::span<const Out> switch_out(VertexId v) const {
    return {sw_out_.data() + sw_out_begin_[v], sw_out_.data() + sw_out_begin_[v + 1]};
  }
  /// After one link change: carries forward the distance tables it cannot have changed.
  void keep_distances(uint32_t link, bool up);

  const Topology* t_;
  std::vector<uint32_t> out_begin_;
  std::vector<Out> out_;
  std::vector<VertexId> src_, dst_;
  std::vector<uint8_t> cost_;  // per directed edge
  std::vector<uint8_t> link_up_, vertex_up_;
  std::vector<uint32_t> switch_index_;  // per vertex; UINT32_MAX for GPUs
  std::vector<VertexId> switches_;
  uint64_t generation_ = 0;
  uint32_t links_down_ = 0;

  // Distance cache per attachment switch: valid when dist_gen_[w][s] == switch_generation_ (a GPU or
  // a GPU's access link going down or up changes no distance between switches, so it keeps every
  // table); w = 0 over the
  // switch's own cluster, w = 1 over the whole switch graph. A route inside one cluster never needs a
  // table over the other clusters: a BFS over a multi-cluster fleet (the 38B flagship: eleven fabrics)
  // otherwise scans every cluster's switches for each attachment (18% of that run).
  std::array<std::vector<std::vector<uint8_t>>, 2> dist_;
  std::array<std::vector<uint64_t>, 2> dist_gen_;
  std::vector<uint32_t> switch_cluster_;  // per switch index: its cluster (UINT32_MAX: WAN router)
  // Per switch index: its index among its cluster's switches; a cluster's tables (w = 0) are that
  // long, not as long as the fleet's switch list (the flagship's eleven fabrics: a tenth of the
  // memory, which otherwise grew to hundreds of MB as jobs were routed to more leaves).
  std::vector<uint32_t> switch_local_;
  std::vector<uint32_t> cluster_switches_;  // per cluster: its switches
  std::vector<std::vector<uint32_t>> cluster_members_;  // per cluster: its switch indices, local order
  /// Computes the cluster tables of s and of up to 63 more stale attachment switches of its cluster.
  void fill_cluster_tables(uint32_t s);
  std::vector<uint32_t> batch_;                  // fill_cluster_tables: the sources, bit i is batch_[i]
  std::vector<uint64_t> frontier_, seen_, next_;  // fill_cluster_tables: per switch of the cluster
  std::vector<uint32_t> bfs_queue_;
  std::vector<Attachment> att_;
  uint64_t bfs_runs_ = 0;

  // Out-links to forwarding vertices only, in the graph's order, and per vertex the cheapest of them.
  std::vector<uint32_t> sw_out_begin_;
  std::vector<Out> sw_out_;
  std::vector<uint8_t> min_switch_link_cost_;
  // The links into the destination of the route being walked: (far end, directed edge), edge order.
  std::vector<Out> into_dst_;
  // The destination, scope (attachments_of's `whole`) and generations that att_ and into_dst_ were
  // last made for by walk: the channels of one stream, and the writers of a checkpoint, are walked one
  // after another to the same destination (route_streams), and each would otherwise gather the same
  // attachments again. Reset (walked_dst_) by the other users of att_.
  VertexId walked_dst_ = UINT32_MAX;
  bool walked_whole_ = false;
  uint64_t walked_gen_ = 0, walked_switch_gen_ = 0;
  // A destination with many attachments (a cluster's storage, attached to every top-tier switch,
  // written to by every rank of a checkpoint): the cost from each switch to it, the least over its
  // attachments, filled by one search outward from the destination itself (fill_dense_cost) instead
  // of a distance table per attachment switch and a scan of every attachment for every candidate next
  // hop (the tables and the scan were 55% of a run whose checkpoints write to storage). Kept for a few
  // destinations at once, each valid for one routing generation: the eleven storage endpoints of a
  // multi-cluster fleet are written to in turn. A GPU destination (a few attachments) keeps the
  // per-attachment tables, which serve every route to any GPU on those switches.
  static constexpr size_t kDenseAttachments = 8;
  struct DenseCost {
    VertexId dst = UINT32_MAX;
    bool whole = false;
    uint64_t generation = UINT64_MAX;
    std::vector<uint32_t> cost;  // per switch index; UINT32_MAX: unreachable
    // Per switch index: its cheapest usable links straight to dst, cost << 16 | how many (0: none).
    // walk reads it instead of scanning the destination's links (one per top-tier switch) at every hop.
    std::vector<uint32_t> direct;
  };
  std::array<DenseCost, 16> dense_tables_;
  uint32_t dense_next_ = 0;                 // the entry a new destination replaces, round robin
  const DenseCost* dense_ = nullptr;  // walk: walked_dst_'s entry, or nullptr (scan att_ and into_dst_)
  bool dense_enabled_ = true;
  std::array<std::vector<std::pair<uint32_t, uint32_t>>, 2> dense_queue_;  // (switch index, cost) by parity
  /// dst's entry of dense_tables_, filled if stale, or nullptr when dst has few attachments, or its
  /// attachments lie in different scopes (then the per-attachment tables are exact and cheap enough).
  const DenseCost* dense_cost_of(VertexId dst, bool whole);
  void fill_dense_cost(VertexId dst, bool whole, DenseCost& table);
  uint32_t walk_cost(VertexId u, VertexId dst) const {
    if (dense_ == nullptr || u == dst) return cost_to(u, dst, att_);
    const uint32_t si = switch_index_[u];
    return si == UINT32_MAX ? UINT32_MAX : dense_->cost[si];
  }
  std::vector<Out> ties_;  // walk: the equal-cost next hops at the current vertex

  // Policies and pinned routes.
  std::vector<RoutingPolicy> policy_;
  bool any_policy_ = false;
  struct Pin {
    VertexId src, dst;
    bool per_flow;
    uint64_t key;
    std::vector<EdgeIndex> path;
  };
  std::vector<Pin> pinned_;
  std::unordered_map<uint64_t, std::vector<uint32_t>> pin_index_;  // (src << 32 | dst) -> pins
  uint64_t pinned_hits_ = 0;
  const Pin* find_pin(VertexId src, VertexId dst, uint64_t key) const;
  // Scratch per vertex for spray and adaptive (valid where stamp_ == epoch_).
  std::vector<uint32_t> stamp_;
  std::vector<double> value_;
  std::vector<int64_t> lat_;
  uint32_t epoch_ = 0;
  struct Pending {
    uint32_t cost;
    VertexId v;
  };
  std::vector<Pending> pending_;
  uint32_t next_epoch();
  /// Cost-to-go from u (src, a switch or dst) to dst, with att_ for dst.
  uint32_t cost_from(VertexId u, VertexId src, VertexId dst) const;

  // Route cache (see the top of this file).
  static constexpr uint32_t kCachedHops = 14;
  struct CacheSlot {
    uint64_t key = 0;
    uint64_t generation = UINT64_MAX;
    VertexId src = 0, dst = 0;
    uint32_t hops = 0;
    std::array<EdgeIndex, kCachedHops> path{};
  };
  std::vector<CacheSlot> cache_;
  uint64_t cache_hits_ = 0, cache_misses_ = 0;

  // Components per switch, valid when comp_gen_ == switch_generation_ + 1: only a change of a link
  // between two switches or of a switch can move them.
  std::vector<int> comp_;
  uint32_t ncomp_ = 0;
  uint64_t comp_gen_ = 0;
  uint64_t switch_generation_ = 0;
  uint64_t comp_runs_ = 0;
  bool scale_out_whole_ = false;  // valid with comp_
  bool every_gpu_scale_out_ = true;                // static: every GPU has a non-NVSwitch switch link
  std::vector<uint8_t> scale_out_attachment_;      // per switch index: some GPU's non-NVSwitch attachment
  // GPUs with an unusable switch link (impaired_), and each GPU's position in it (UINT32_MAX: none).
  std::vector<VertexId> impaired_;
  std::vector<uint32_t> impaired_pos_;
  void refresh_impaired(VertexId gpu);
};

}  // namespace fleetsim
