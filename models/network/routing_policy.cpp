// SPDX-License-Identifier: Apache-2.0
#include "models/network/routing_policy.hpp"

#include "models/network/topology.hpp"

#include <fmt/format.h>

#include <charconv>
#include <map>
#include <set>
#include <unordered_map>

namespace fleetsim {

std::string_view routing_policy_name(RoutingPolicy p) {
  switch (p) {
    case RoutingPolicy::Ecmp: return "ecmp";
    case RoutingPolicy::Pinned: return "pinned";
    case RoutingPolicy::Spray: return "spray";
    case RoutingPolicy::Adaptive: return "adaptive";
  }
  return "ecmp";
}

namespace {
[[noreturn]] void fail(uint32_t line, size_t element, std::string_view name, std::string_view what) {
  throw RoutesFileError(fmt::format("line {}, element {} \"{}\": {}", line, element, name, what));
}
}  // namespace

std::vector<PinnedRoute> parse_pinned_routes(std::string_view text) {
  std::vector<PinnedRoute> out;
  uint32_t line_no = 0;
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    ++line_no;
    if (const size_t hash = line.find('#'); hash != std::string_view::npos) line = line.substr(0, hash);
    PinnedRoute r;
    r.line = line_no;
    size_t i = 0;
    while (i < line.size()) {
      while (i < line.size() && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r')) ++i;
      const size_t b = i;
      while (i < line.size() && line[i] != ' ' && line[i] != '\t' && line[i] != '\r') ++i;
      if (i > b) r.hops.emplace_back(line.substr(b, i - b));
    }
    if (r.hops.empty()) continue;
    if (r.hops.front().rfind("flow=", 0) == 0) {
      const std::string tok = r.hops.front();
      uint64_t key = 0;
      const char* first = tok.data() + 5;
      const char* last = tok.data() + tok.size();
      const auto res = std::from_chars(first, last, key);
      if (first == last || res.ec != std::errc() || res.ptr != last)
        fail(line_no, 1, tok, "expected \"flow=\" and a flow key (a whole number from 0 to 2^64-1)");
      r.key = key;
      r.hops.erase(r.hops.begin());
    }
    const size_t base = r.key ? 2 : 1;  // element numbers count the "flow=" token
    if (r.hops.size() < 2)
      fail(line_no, base, r.hops.empty() ? "" : r.hops[0],
           "a route needs at least a source and a destination (vertex names separated by blanks)");
    std::set<std::string_view> seen;
    for (size_t k = 0; k < r.hops.size(); ++k)
      if (!seen.insert(r.hops[k]).second) fail(line_no, base + k, r.hops[k], "the route visits this vertex twice (a loop)");
    out.push_back(std::move(r));
    if (end == text.size()) break;
  }
  return out;
}

std::vector<ResolvedRoute> resolve_pinned_routes(const Topology& topo, const std::vector<PinnedRoute>& routes) {
  std::unordered_map<std::string_view, VertexId> by_name;
  by_name.reserve(topo.vertices());
  for (VertexId v = 0; v < topo.vertices(); ++v) by_name.emplace(topo.vertex(v).name, v);
  // Out-links per vertex, in edge order: the first link u -> v is the one a route takes.
  std::vector<std::vector<EdgeIndex>> out(topo.vertices());
  for (EdgeIndex e = 0; e < topo.directed_edges(); ++e) out[topo.edge(e).source].push_back(e);
  std::map<std::tuple<VertexId, VertexId, bool, uint64_t>, uint32_t> listed;  // -> line of first listing
  std::vector<ResolvedRoute> res;
  for (const PinnedRoute& r : routes) {
    const size_t base = r.key ? 2 : 1;
    ResolvedRoute x;
    x.key = r.key;
    std::vector<VertexId> vs;
    for (size_t k = 0; k < r.hops.size(); ++k) {
      const auto it = by_name.find(r.hops[k]);
      if (it == by_name.end()) fail(r.line, base + k, r.hops[k], "no vertex of this name in the fabric");
      const VertexId v = it->second;
      const VertexKind kind = topo.vertex(v).kind;
      const bool endpoint = kind == VertexKind::Gpu || kind == VertexKind::Storage;
      if ((k == 0 || k + 1 == r.hops.size()) && !endpoint)
        fail(r.line, base + k, r.hops[k],
             fmt::format("a route {} at an endpoint (a GPU or storage), this is a {}", k == 0 ? "starts" : "ends",
                         vertex_kind_name(kind)));
      if (k > 0 && k + 1 < r.hops.size() && !topo.forwards(v))
        fail(r.line, base + k, r.hops[k],
             fmt::format("a {} does not forward: only switches, NICs and routers can be hops of a route",
                         vertex_kind_name(kind)));
      vs.push_back(v);
    }
    for (size_t k = 1; k < vs.size(); ++k) {
      EdgeIndex found = UINT32_MAX;
      for (EdgeIndex e : out[vs[k - 1]])
        if (topo.edge(e).target == vs[k]) {
          found = e;
          break;
        }
      if (found == UINT32_MAX)
        fail(r.line, base + k, r.hops[k], fmt::format("no link from \"{}\" to this vertex", r.hops[k - 1]));
      x.path.push_back(found);
    }
    x.src = vs.front();
    x.dst = vs.back();
    const auto key = std::make_tuple(x.src, x.dst, x.key.has_value(), x.key.value_or(0));
    if (const auto [it, fresh] = listed.emplace(key, r.line); !fresh)
      fail(r.line, base, r.hops[0],
           fmt::format("{} from \"{}\" to \"{}\" is already pinned on line {}", x.key ? "this flow" : "the pair",
                       r.hops.front(), r.hops.back(), it->second));
    res.push_back(std::move(x));
  }
  return res;
}

}  // namespace fleetsim
