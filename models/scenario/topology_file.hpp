// SPDX-License-Identifier: Apache-2.0
// Topology files: a network read from GraphML or Graphviz DOT, and every Topology written to both, so a
// built-in fabric opens in Graphviz or Gephi and a published or home-made one can be simulated.
//
//   std::ofstream out("fabric.graphml");
//   write_topology(topo, TopologyFormat::GraphMl, out);
//   std::ifstream in("fabric.graphml");
//   Topology t = read_topology(in, TopologyFormat::GraphMl, "fabric.graphml");  // throws TopologyFileError
//
// Parsing is Boost Graph's own: boost::read_graphml and boost::read_graphviz fill a plain graph of
// strings (FileGraph), which is then checked attribute by attribute and turned into a Topology. The
// attributes (docs/topologies.md, "Topology files", has an example of each format):
//   node  name      the vertex's name (DOT: the node id; GraphML: the "name" data, else "label")
//         kind      gpu | host | storage | nic | nvswitch | leaf | spine | core | wan; "switch" = leaf
//         gpus      host only: the GPUs it holds (>= 1). A host becomes a NIC vertex of its name and
//                   `gpus` GPU endpoints "<host>/gpu<i>", each joined to the NIC by a link of
//                   `gpu_bandwidth` (a bandwidth with a unit; default: the sum of the host's links).
//         cluster   the cluster (one fabric) the vertex belongs to; default: one cluster named after
//                   the file. GPUs are numbered per cluster in file order (FleetNetworkMap's order).
//         plane, index   the scale-out plane and the index within a tier (written by fleetsim; 0 if absent)
//         site      wan only: the site (zone or region) the router stands for; default: its name
//         order     the vertex's position (written by fleetsim, because Boost's DOT reader returns nodes
//                   sorted by name): all or none of the nodes carry it
//   edge  capacity  per direction, a bandwidth WITH a unit ("400 Gbps", "50 GB/s"); required
//         latency   one way, a duration with a unit ("1us"); default 0
//         kind      nvlink | access | leaf_spine | spine_core | wan; default from the ends' kinds
// Every edge is one full-duplex link (two directions of `capacity` each), in file order.
// Errors (TopologyFileError) name the file, the node or edge and the attribute: a dangling edge (an end
// that is not a declared node), a host without GPUs, a capacity without a unit, an unknown kind.
#pragma once

#include "models/network/topology.hpp"

#include <iosfwd>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace fleetsim {

/// A topology file that cannot be read as GraphML or DOT: invalid input (exit 65, sim/error.hpp).
class TopologyFileError : public std::invalid_argument, public ErrorWithKind {
 public:
  explicit TopologyFileError(const std::string& what)
      : std::invalid_argument(what), ErrorWithKind(ErrorKind::InvalidInput) {}
};

enum class TopologyFormat : uint8_t { GraphMl, Dot };

/// By the file's extension: .graphml or .xml -> GraphMl, .dot or .gv -> Dot; nullopt otherwise.
std::optional<TopologyFormat> topology_format_of(std::string_view path);

/// Writes every vertex and every physical link with the attributes above (exact capacities and
/// latencies, vertex order kept), so read_topology gives back the same vertices and links.
void write_topology(const Topology& topo, TopologyFormat format, std::ostream& out);

/// Reads a topology file. `source` names the file in messages and names the default cluster.
Topology read_topology(std::istream& in, TopologyFormat format, std::string_view source);

/// Reads a topology file by its path (format by extension). Throws TopologyFileError (unreadable file,
/// unknown extension, or any error of read_topology).
Topology read_topology_file(const std::string& path);

/// The fabric of a scenario: read from network.topology_file when it has one, else built.
Topology build_fabric(const NetworkSpec& spec, const NetworkRunOptions& run);

}  // namespace fleetsim
