// SPDX-License-Identifier: Apache-2.0
// g++ 12 at -O2 -g (the asan preset) reports boost::optional's storage in Boost.Graph's
// named_graph.hpp (reached from add_vertex) as used uninitialized: the false positive of GCC bug
// 80635 that CMakeLists.txt already silences as -Wmaybe-uninitialized. Off for this file only, and
// before the includes, since the warning is reported at the header's line.
#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ < 13
#pragma GCC diagnostic ignored "-Wuninitialized"
#endif
#include "models/scenario/topology_file.hpp"

#include "models/scenario/units.hpp"
#include "sim/time.hpp"

#include <boost/graph/adjacency_list.hpp>
#include <boost/graph/graphml.hpp>
#include <boost/graph/graphviz.hpp>
#include <boost/property_map/dynamic_property_map.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <fstream>
#include <cmath>
#include <istream>
#include <map>
#include <ostream>
#include <string>
#include <vector>

namespace fleetsim {

namespace {

// What Boost's readers fill and its writers print: every attribute as text (numbers as int), so that
// every check and unit parse happens here with the element's name in the message.
struct FileNode {
  std::string name, label, kind, cluster, site, order, gpu_bandwidth;
  int gpus = 0, plane = 0, index = 0;
};
struct FileEdge {
  std::string capacity, latency, kind;
};
using FileGraph = boost::adjacency_list<boost::vecS, boost::vecS, boost::undirectedS, FileNode, FileEdge>;

void add_properties(boost::dynamic_properties& dp, FileGraph& g, bool dot, bool reading) {
  // DOT names a node by its id; GraphML by a "name" (or, as Gephi writes it, "label") attribute.
  dp.property(dot ? "node_id" : "name", boost::get(&FileNode::name, g));
  if (!dot && reading) dp.property("label", boost::get(&FileNode::label, g));
  dp.property("kind", boost::get(&FileNode::kind, g));
  dp.property("cluster", boost::get(&FileNode::cluster, g));
  dp.property("site", boost::get(&FileNode::site, g));
  dp.property("order", boost::get(&FileNode::order, g));
  dp.property("gpu_bandwidth", boost::get(&FileNode::gpu_bandwidth, g));
  dp.property("gpus", boost::get(&FileNode::gpus, g));
  dp.property("plane", boost::get(&FileNode::plane, g));
  dp.property("index", boost::get(&FileNode::index, g));
  dp.property("capacity", boost::get(&FileEdge::capacity, g));
  dp.property("latency", boost::get(&FileEdge::latency, g));
  dp.property("kind", boost::get(&FileEdge::kind, g));
}

std::optional<VertexKind> vertex_kind_from(std::string_view s) {
  for (int k = 0; k < kVertexKinds; ++k)
    if (vertex_kind_name(static_cast<VertexKind>(k)) == s) return static_cast<VertexKind>(k);
  if (s == "switch") return VertexKind::Leaf;
  return std::nullopt;
}

std::optional<LinkKind> link_kind_from(std::string_view s) {
  for (int k = 0; k < kLinkKinds; ++k)
    if (link_kind_name(static_cast<LinkKind>(k)) == s) return static_cast<LinkKind>(k);
  return std::nullopt;
}

bool endpoint_kind(VertexKind k) { return k == VertexKind::Gpu || k == VertexKind::Storage; }

// The link kind an edge gets when the file does not say: by the kinds of its ends.
LinkKind infer_link_kind(VertexKind a, VertexKind b) {
  if (a == VertexKind::WanRouter || b == VertexKind::WanRouter) return LinkKind::Wan;
  if (a == VertexKind::NvSwitch || b == VertexKind::NvSwitch) return LinkKind::NvLink;
  if (endpoint_kind(a) || endpoint_kind(b) || a == VertexKind::Nic || b == VertexKind::Nic) return LinkKind::Access;
  if (a == VertexKind::Core || b == VertexKind::Core) return LinkKind::SpineCore;
  return LinkKind::LeafSpine;
}

// Exact text for a capacity: format_quantity's form reads back to the same double; when that form is a
// bare number (no unit form round-trips) the unit is added, since the reader insists on one.
std::string capacity_text(double bytes_per_s) {
  std::string s = format_quantity(bytes_per_s, Dimension::Bandwidth);
  if (s.find_first_of("bB") == std::string::npos) s += " B/s";
  return s;
}

}  // namespace

// Friend of Topology: fills its private tables the way TopologyBuilder does for built-in fabrics.
class TopologyImporter {
 public:
  explicit TopologyImporter(std::string_view source) : source_(source) {}

  [[noreturn]] void fail(const std::string& what) const {
    throw TopologyFileError(fmt::format("{}: {}", source_, what));
  }

  Topology build(const FileGraph& fg);

 private:
  std::string source_;
  Topology t_;

  VertexId add_vertex(VertexKind kind, std::string name, uint32_t cluster, uint32_t plane, uint32_t index) {
    return t_.add_vertex(kind, std::move(name), cluster, plane, index);
  }
  void add_link(VertexId a, VertexId b, double bps, Duration latency, LinkKind kind) { t_.add_link(a, b, bps, latency, kind); }
};

Topology TopologyImporter::build(const FileGraph& fg) {
  const size_t n = boost::num_vertices(fg);
  std::string default_cluster(source_);
  if (const auto slash = default_cluster.find_last_of('/'); slash != std::string::npos)
    default_cluster = default_cluster.substr(slash + 1);
  if (const auto dot = default_cluster.find('.'); dot != std::string::npos && dot > 0)
    default_cluster = default_cluster.substr(0, dot);
  if (default_cluster.empty()) default_cluster = "imported";

  // Names and kinds, node by node; a node without a kind that an edge reaches is a dangling edge.
  std::vector<std::string> name(n);
  std::vector<VertexKind> kind(n);
  for (size_t v = 0; v < n; ++v) {
    const FileNode& f = fg[v];
    name[v] = !f.name.empty() ? f.name : f.label;
    if (f.kind.empty()) {
      for (auto [it, end] = boost::out_edges(v, fg); it != end; ++it) {
        const size_t u = boost::target(*it, fg);
        const std::string& other = !fg[u].name.empty() ? fg[u].name : fg[u].label;
        fail(fmt::format("edge \"{}\" -- \"{}\": \"{}\" is not a declared node (a dangling edge: no node of that "
                         "name with a \"kind\" attribute)",
                         other, name[v], name[v].empty() ? "?" : name[v]));
      }
      fail(fmt::format("node \"{}\": attribute \"kind\" is missing (expected gpu, host, storage, nic, nvswitch, leaf, "
                       "spine, core or wan)",
                       name[v]));
    }
    if (name[v].empty()) fail(fmt::format("node {} (kind {}): attribute \"name\" is missing", v, f.kind));
    if (name[v].find('"') != std::string::npos) fail(fmt::format("node {}: a name must not contain '\"'", name[v]));
    if (f.kind == "host") {
      kind[v] = VertexKind::Nic;
      if (f.gpus < 1)
        fail(fmt::format("node \"{}\": attribute \"gpus\": a host needs at least 1 GPU, got {}", name[v],
                         f.gpus == 0 ? std::string("none") : std::to_string(f.gpus)));
    } else if (auto k = vertex_kind_from(f.kind)) {
      kind[v] = *k;
    } else {
      fail(fmt::format("node \"{}\": attribute \"kind\": expected gpu, host, storage, nic, nvswitch, leaf, spine, core "
                       "or wan, got \"{}\"",
                       name[v], f.kind));
    }
    if (f.kind != "host" && (f.gpus != 0 || !f.gpu_bandwidth.empty()))
      fail(fmt::format("node \"{}\": attribute \"{}\" belongs to hosts only (kind is {})", name[v],
                       f.gpus != 0 ? "gpus" : "gpu_bandwidth", f.kind));
  }

  // Vertex order: by "order" when the file carries it (fleetsim's own files), else as read.
  std::vector<size_t> seq(n);
  for (size_t v = 0; v < n; ++v) seq[v] = v;
  size_t with_order = 0;
  std::vector<uint64_t> order(n, 0);
  for (size_t v = 0; v < n; ++v) {
    const std::string& o = fg[v].order;
    if (o.empty()) continue;
    ++with_order;
    const auto r = std::from_chars(o.data(), o.data() + o.size(), order[v]);
    if (r.ec != std::errc() || r.ptr != o.data() + o.size())
      fail(fmt::format("node \"{}\": attribute \"order\": expected a whole number, got \"{}\"", name[v], o));
  }
  if (with_order != 0 && with_order != n)
    fail(fmt::format("attribute \"order\" is on {} of {} nodes: give it to all or none", with_order, n));
  if (with_order == n) std::stable_sort(seq.begin(), seq.end(), [&](size_t a, size_t b) { return order[a] < order[b]; });

  // Clusters by first appearance; WAN routers belong to none.
  std::vector<std::string> clusters;
  std::vector<uint32_t> cluster_of(n, UINT32_MAX);
  for (size_t v : seq) {
    if (kind[v] == VertexKind::WanRouter) continue;
    const std::string& c = fg[v].cluster.empty() ? default_cluster : fg[v].cluster;
    auto it = std::find(clusters.begin(), clusters.end(), c);
    if (it == clusters.end()) {
      clusters.push_back(c);
      it = clusters.end() - 1;
    }
    cluster_of[v] = static_cast<uint32_t>(it - clusters.begin());
  }
  const uint32_t C = static_cast<uint32_t>(clusters.size());
  t_.report_.clusters.resize(C);
  for (uint32_t c = 0; c < C; ++c) t_.report_.clusters[c].name = clusters[c];
  t_.cluster_gpu_begin_.assign(C, 0);
  t_.cluster_gpus_.assign(C, 0);

  // Vertices. A cluster's GPUs (its gpu nodes and its hosts' GPUs) must be consecutive vertices: they
  // all go where the cluster's first GPU is; the other vertices keep their order.
  std::vector<VertexId> vid(n, UINT32_MAX);            // the file node's vertex (a host: its NIC)
  std::vector<std::vector<VertexId>> host_gpus(n);     // a host's GPU vertices
  std::vector<char> cluster_placed(C, 0);
  std::map<std::string, size_t, std::less<>> by_name;
  for (size_t v = 0; v < n; ++v)
    if (!by_name.emplace(name[v], v).second) fail(fmt::format("node \"{}\" is declared twice", name[v]));
  auto is_gpu_holder = [&](size_t v) { return kind[v] == VertexKind::Gpu || fg[v].kind == "host"; };
  for (size_t v : seq) {
    if (is_gpu_holder(v) && cluster_placed[cluster_of[v]] == 0) {
      const uint32_t c = cluster_of[v];
      cluster_placed[c] = 1;
      t_.cluster_gpu_begin_[c] = t_.vertices();
      uint32_t gi = 0;
      for (size_t u : seq) {
        if (!is_gpu_holder(u) || cluster_of[u] != c) continue;
        if (kind[u] == VertexKind::Gpu) {
          vid[u] = add_vertex(VertexKind::Gpu, name[u], c, 0, gi++);
        } else {
          for (int i = 0; i < fg[u].gpus; ++i)
            host_gpus[u].push_back(add_vertex(VertexKind::Gpu, fmt::format("{}/gpu{}", name[u], i), c, 0, gi++));
        }
      }
      t_.cluster_gpus_[c] = gi;
      t_.report_.clusters[c].gpus = gi;
      if (kind[v] == VertexKind::Gpu) continue;  // a host's NIC follows its cluster's GPUs
    }
    if (kind[v] == VertexKind::Gpu) continue;
    const FileNode& f = fg[v];
    if (f.plane < 0 || f.index < 0) fail(fmt::format("node \"{}\": plane and index must not be negative", name[v]));
    uint32_t index = static_cast<uint32_t>(f.index);
    if (kind[v] == VertexKind::WanRouter) {
      t_.site_names_.push_back(!f.site.empty() ? f.site
                               : name[v].size() > 4 && name[v].ends_with("/wan") ? name[v].substr(0, name[v].size() - 4)
                                                                                 : name[v]);
      index = static_cast<uint32_t>(t_.site_names_.size() - 1);
    } else if (!f.site.empty()) {
      fail(fmt::format("node \"{}\": attribute \"site\" belongs to wan routers only (kind is {})", name[v], f.kind));
    }
    vid[v] = add_vertex(kind[v], name[v], cluster_of[v], static_cast<uint32_t>(f.plane), index);
    if (kind[v] == VertexKind::WanRouter) t_.site_router_.push_back(vid[v]);
    if (cluster_of[v] != UINT32_MAX) {
      ClusterReport& r = t_.report_.clusters[cluster_of[v]];
      r.planes = std::max(r.planes, static_cast<uint32_t>(f.plane) + 1);
      if (kind[v] == VertexKind::Leaf) ++r.switches_per_tier[0];
      if (kind[v] == VertexKind::Spine) ++r.switches_per_tier[1];
      if (kind[v] == VertexKind::Core) ++r.switches_per_tier[2];
      if (kind[v] == VertexKind::NvSwitch) ++r.scale_up_domains;
    }
  }

  // Links, in file order; then each host's GPUs to its NIC.
  std::vector<double> host_link_sum(n, 0);
  size_t ei = 0;
  for (auto [it, end] = boost::edges(fg); it != end; ++it, ++ei) {
    const size_t a = boost::source(*it, fg), b = boost::target(*it, fg);
    const FileEdge& f = fg[*it];
    const std::string what = fmt::format("edge \"{}\" -- \"{}\"", name[a], name[b]);
    if (a == b) fail(fmt::format("{}: joins a node to itself", what));
    if (f.capacity.empty()) fail(fmt::format("{}: attribute \"capacity\" is missing (a bandwidth such as \"400 Gbps\")", what));
    const bool bare = [&] {
      double x = 0;
      const auto r = std::from_chars(f.capacity.data(), f.capacity.data() + f.capacity.size(), x);
      return r.ec == std::errc() && r.ptr == f.capacity.data() + f.capacity.size();
    }();
    if (bare)
      fail(fmt::format("{}: attribute \"capacity\": expected a bandwidth with a unit such as \"400 Gbps\" or \"50 GB/s\", "
                       "got \"{}\" (no unit)",
                       what, f.capacity));
    double bps = 0;
    try {
      bps = parse_quantity(f.capacity, Dimension::Bandwidth);
    } catch (const std::exception& e) {
      fail(fmt::format("{}: attribute \"capacity\": {}", what, e.what()));
    }
    if (!(bps > 0) || !std::isfinite(bps))
      fail(fmt::format("{}: attribute \"capacity\": expected a positive bandwidth, got \"{}\"", what, f.capacity));
    Duration lat = Duration::zero();
    if (!f.latency.empty()) {
      try {
        lat = parse_duration(f.latency);
      } catch (const std::exception& e) {
        fail(fmt::format("{}: attribute \"latency\": {}", what, e.what()));
      }
      if (lat < Duration::zero()) fail(fmt::format("{}: attribute \"latency\" must not be negative", what));
    }
    LinkKind lk = infer_link_kind(kind[a], kind[b]);
    if (!f.kind.empty()) {
      const auto k = link_kind_from(f.kind);
      if (!k)
        fail(fmt::format("{}: attribute \"kind\": expected nvlink, access, leaf_spine, spine_core or wan, got \"{}\"",
                         what, f.kind));
      lk = *k;
    }
    if (kind[a] == VertexKind::Gpu && kind[b] == VertexKind::Gpu)
      fail(fmt::format("{}: joins two GPUs (GPUs do not forward: join them through an nvswitch or a switch)", what));
    if (fg[a].kind == "host") host_link_sum[a] += bps;
    if (fg[b].kind == "host") host_link_sum[b] += bps;
    add_link(vid[a], vid[b], bps, lat, lk);
  }
  for (size_t v : seq) {
    if (fg[v].kind != "host") continue;
    double bps = host_link_sum[v];
    if (!fg[v].gpu_bandwidth.empty()) {
      try {
        bps = parse_quantity(fg[v].gpu_bandwidth, Dimension::Bandwidth);
      } catch (const std::exception& e) {
        fail(fmt::format("node \"{}\": attribute \"gpu_bandwidth\": {}", name[v], e.what()));
      }
    }
    if (!(bps > 0) || !std::isfinite(bps))
      fail(fmt::format("node \"{}\": the host has no links (or no gpu_bandwidth): its GPUs could reach nothing", name[v]));
    for (VertexId g : host_gpus[v]) add_link(g, vid[v], bps, Duration::zero(), LinkKind::Access);
  }

  for (uint32_t c = 0; c < C; ++c)
    for (uint32_t i = 0; i < t_.cluster_gpus_[c]; ++i) t_.global_endpoints_.push_back(t_.cluster_gpu_begin_[c] + i);
  t_.report_.vertices = t_.vertices();
  t_.freeze();
  return std::move(t_);
}

std::optional<TopologyFormat> topology_format_of(std::string_view path) {
  if (path.ends_with(".graphml") || path.ends_with(".xml")) return TopologyFormat::GraphMl;
  if (path.ends_with(".dot") || path.ends_with(".gv")) return TopologyFormat::Dot;
  return std::nullopt;
}

void write_topology(const Topology& topo, TopologyFormat format, std::ostream& out) {
  FileGraph fg;
  const auto& report = topo.report();
  for (VertexId v = 0; v < topo.vertices(); ++v) {
    const VertexProps& p = topo.vertex(v);
    FileNode f;
    f.name = p.name;
    f.kind = std::string(vertex_kind_name(p.kind));
    if (p.cluster < report.clusters.size()) f.cluster = report.clusters[p.cluster].name;
    if (p.kind == VertexKind::WanRouter) f.site = topo.sites()[p.index];
    f.order = std::to_string(v);
    f.plane = static_cast<int>(p.plane);
    f.index = static_cast<int>(p.index);
    boost::add_vertex(std::move(f), fg);
  }
  for (EdgeIndex e = 0; e < topo.directed_edges(); e += 2) {
    const Topology::EdgeRec& r = topo.edge(e);
    FileEdge f{capacity_text(r.bytes_per_s), format_duration(r.latency), std::string(link_kind_name(r.kind))};
    boost::add_edge(r.source, r.target, std::move(f), fg);
  }
  boost::dynamic_properties dp;
  add_properties(dp, fg, format == TopologyFormat::Dot, false);
  if (format == TopologyFormat::GraphMl) {
    boost::write_graphml(out, fg, dp, true);
  } else {
    boost::write_graphviz_dp(out, fg, dp, "node_id");
  }
}

Topology read_topology(std::istream& in, TopologyFormat format, std::string_view source) {
  FileGraph fg;
  boost::dynamic_properties dp(boost::ignore_other_properties);
  add_properties(dp, fg, format == TopologyFormat::Dot, true);
  try {
    if (format == TopologyFormat::GraphMl) {
      boost::read_graphml(in, fg, dp);
    } else if (!boost::read_graphviz(in, fg, dp, "node_id")) {
      throw TopologyFileError(fmt::format("{}: not a Graphviz DOT graph", source));
    }
  } catch (const TopologyFileError&) {
    throw;
  } catch (const boost::bad_lexical_cast&) {
    throw TopologyFileError(fmt::format(
        "{}: attribute \"gpus\", \"plane\" or \"index\" of some node is not a whole number", source));
  } catch (const std::exception& e) {
    throw TopologyFileError(fmt::format("{}: {}", source, e.what()));
  }
  return TopologyImporter(source).build(fg);
}

Topology read_topology_file(const std::string& path) {
  const auto format = topology_format_of(path);
  if (!format)
    throw TopologyFileError(fmt::format("{}: unknown topology file extension (expected .graphml, .xml, .dot or .gv)", path));
  std::ifstream in(path, std::ios::binary);
  std::error_code ec;
  if (!in || std::filesystem::is_directory(path, ec)) throw TopologyFileError(fmt::format("cannot read topology file \"{}\"", path));
  return read_topology(in, *format, std::filesystem::path(path).filename().string());
}

Topology build_fabric(const NetworkSpec& spec, const NetworkRunOptions& run) {
  return run.topology_file.empty() ? build_topology(spec) : read_topology_file(run.topology_file);
}

}  // namespace fleetsim
