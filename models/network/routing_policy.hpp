// SPDX-License-Identifier: Apache-2.0
// Routing policies of a fabric (a network cluster), and the routes file of the "pinned" policy.
//
//   RoutingPolicy p = RoutingPolicy::Spray;                       // network.clusters[i].routing.policy
//   std::vector<PinnedRoute> r = parse_pinned_routes(text);        // RoutesFileError: line and element
//   std::vector<ResolvedRoute> x = resolve_pinned_routes(topo, r); // names -> vertices and edges
//   router.pin(x[0]);
//
// Policies (docs/topologies.md, "Routing policies"):
//   ecmp      per-hop ECMP by a hash of the flow key (Router::route; the default, as before).
//   pinned    a route from the routes file when one is listed for the flow (its key) or for its
//             (source, destination) pair, else ECMP: a pair not listed, or a pinned route that crosses
//             a link or switch that is down, falls back to ECMP, as a static route with a default does.
//   spray     packets sprayed over every equal-cost path: in the fluid model one flow whose rate is split
//             equally over the next hops at every hop (Router::spray), so it puts rate x fraction on
//             each link of the equal-cost DAG. In a symmetric Clos that is the same as equal sub-flows
//             on every equal-cost path.
//   adaptive  at flow start, the equal-cost path whose most loaded link leaves the new flow the largest
//             fair share (Router::route_least_loaded), ties broken by the ECMP hash; the flow keeps it
//             until a link on it fails.
//
// Routes file: one route per line, vertex names separated by blanks, from the source endpoint to the
// destination endpoint (at least two names); blank lines and text after '#' are ignored. A first token
// "flow=<key>" pins only the flow with that ECMP key (FlowModel::start's key), otherwise the route is for
// every flow of the (source, destination) pair. Routes are directed: the reverse needs its own line.
//
//   # source       hops ...                          destination
//   lab/gpu0       lab/p0/leaf0 lab/p0/spine1 lab/p0/leaf1 lab/gpu9
//   flow=42 lab/gpu0 lab/p0/leaf0 lab/p0/spine0 lab/p0/leaf1 lab/gpu9
#pragma once

// No include of topology.hpp: it includes this header (NetworkRunOptions holds each cluster's routing).
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace fleetsim {

class Topology;

enum class RoutingPolicy : uint8_t { Ecmp = 0, Pinned, Spray, Adaptive };
/// "ecmp", "pinned", "spray", "adaptive"
std::string_view routing_policy_name(RoutingPolicy p);

/// A routes file error; what() is "line L, element E "name": problem" (E counts from 1).
class RoutesFileError : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

struct PinnedRoute {
  std::vector<std::string> hops;  ///< vertex names, source first, destination last
  std::optional<uint64_t> key;    ///< a flow's ECMP key; nullopt: the whole (source, destination) pair
  uint32_t line = 0;              ///< 1-based line in the routes file
};

/// Parses a routes file. Throws RoutesFileError for a line with fewer than two names, a malformed
/// "flow=" key or a name repeated on one route (a loop).
std::vector<PinnedRoute> parse_pinned_routes(std::string_view text);

struct ResolvedRoute {
  uint32_t src = 0, dst = 0;    ///< VertexId (topology.hpp)
  std::optional<uint64_t> key;
  std::vector<uint32_t> path;   ///< EdgeIndex: directed edges, source to destination
};

/// Resolves names on a topology. Throws RoutesFileError (line, element) for an unknown name, two
/// consecutive names without a link between them, a source or destination that is not an endpoint (GPU
/// or storage), a transit vertex that does not forward (an endpoint in the middle), or the same flow or
/// pair listed twice. Between two vertices joined by parallel links, the first link in the graph's order.
std::vector<ResolvedRoute> resolve_pinned_routes(const Topology& topo, const std::vector<PinnedRoute>& routes);

/// One fabric's routing, as a scenario gives it (network.clusters[i].routing).
struct ClusterRouting {
  uint32_t cluster = 0;  ///< index into NetworkSpec::clusters
  RoutingPolicy policy = RoutingPolicy::Ecmp;
  std::vector<PinnedRoute> routes;  ///< pinned: the routes file, parsed and checked on this cluster
};

}  // namespace fleetsim
