// SPDX-License-Identifier: Apache-2.0
#include "models/network/routing.hpp"

#include <boost/graph/adjacency_list.hpp>
#include <boost/graph/connected_components.hpp>

#include <algorithm>
#include <bit>
#include <cstdlib>
#include <limits>
#include <numeric>

namespace fleetsim {

Router::Router(const Topology& t) : t_(&t) {
  const uint32_t V = t.vertices(), E = t.directed_edges();
  out_begin_.assign(V + 1, 0);
  src_.resize(E);
  dst_.resize(E);
  cost_.resize(E);
  for (EdgeIndex e = 0; e < E; ++e) {
    const auto& r = t.edge(e);
    src_[e] = r.source;
    dst_[e] = r.target;
    cost_[e] = static_cast<uint8_t>(link_cost(r.kind));
    ++out_begin_[r.source + 1];
  }
  std::partial_sum(out_begin_.begin(), out_begin_.end(), out_begin_.begin());
  out_.resize(E);
  std::vector<uint32_t> fill(out_begin_.begin(), out_begin_.end() - 1);
  // Edge ids were made in graph order, so this keeps each vertex's out-links in the graph's order.
  for (EdgeIndex e = 0; e < E; ++e) out_[fill[src_[e]]++] = Out{dst_[e], e};
  link_up_.assign(E / 2, 1);
  vertex_up_.assign(V, 1);
  switch_index_.assign(V, UINT32_MAX);
  for (VertexId v = 0; v < V; ++v) {
    if (t.forwards(v)) {
      switch_index_[v] = static_cast<uint32_t>(switches_.size());
      switches_.push_back(v);
    }
  }
  scale_out_attachment_.assign(switches_.size(), 0);
  impaired_pos_.assign(V, UINT32_MAX);
  for (VertexId v = 0; v < V; ++v) {
    if (t.forwards(v) || t.vertex(v).kind != VertexKind::Gpu) continue;
    bool scale_out = false;
    for (const Out& o : out(v)) {
      if (!t.forwards(o.to) || t.vertex(o.to).kind == VertexKind::NvSwitch) continue;
      scale_out = true;
      scale_out_attachment_[switch_index_[o.to]] = 1;
    }
    if (!scale_out) every_gpu_scale_out_ = false;
  }
  for (int w = 0; w < 2; ++w) {
    dist_[w].resize(switches_.size());
    dist_gen_[w].assign(switches_.size(), UINT64_MAX);
  }
  switch_cluster_.resize(switches_.size());
  switch_local_.assign(switches_.size(), UINT32_MAX);
  for (uint32_t i = 0; i < switches_.size(); ++i) {
    const uint32_t c = switch_cluster_[i] = t.vertex(switches_[i]).cluster;
    if (c == UINT32_MAX) continue;
    if (cluster_switches_.size() <= c) {
      cluster_switches_.resize(c + 1, 0);
      cluster_members_.resize(c + 1);
    }
    switch_local_[i] = cluster_switches_[c]++;
    cluster_members_[c].push_back(i);
  }
  sw_out_begin_.assign(V + 1, 0);
  min_switch_link_cost_.assign(V, kInf);
  for (VertexId v = 0; v < V; ++v) {
    for (const Out& o : out(v)) {
      if (!t.forwards(o.to)) continue;
      sw_out_.push_back(o);
      min_switch_link_cost_[v] = std::min(min_switch_link_cost_[v], cost_[o.e]);
    }
    sw_out_begin_[v + 1] = static_cast<uint32_t>(sw_out_.size());
  }
  // Sized for a few routes per endpoint (a ring's pairs times channels) without colliding much; a power
  // of two so that a slot is a mask of the hash.
  size_t slots = 1024;
  while (slots < 4 * size_t{t.total_gpus()} && slots < (size_t{1} << 18)) slots *= 2;
  cache_.resize(slots);
}

bool Router::set_link_up(uint32_t link, bool up) {
  if ((link_up_[link] != 0) == up) return false;
  link_up_[link] = up ? 1 : 0;
  links_down_ += up ? -1u : 1u;
  ++generation_;
  const VertexId a = src_[link * 2], b = dst_[link * 2];
  const bool sa = switch_index_[a] != UINT32_MAX, sb = switch_index_[b] != UINT32_MAX;
  if (sa && sb) {
    // Only a link between two switches is in the graph the distance tables cover.
    ++switch_generation_;
    keep_distances(link, up);
  }
  if (!sa && sb) refresh_impaired(a);
  if (sa && !sb) refresh_impaired(b);
  return true;
}

void Router::refresh_impaired(VertexId g) {
  if (t_->vertex(g).kind != VertexKind::Gpu) return;
  bool bad = !vertex_up(g);
  for (const Out& o : out(g))
    if (switch_index_[o.to] != UINT32_MAX && !usable(o.e)) bad = true;
  const bool listed = impaired_pos_[g] != UINT32_MAX;
  if (bad && !listed) {
    impaired_pos_[g] = static_cast<uint32_t>(impaired_.size());
    impaired_.push_back(g);
  } else if (!bad && listed) {
    const uint32_t i = impaired_pos_[g];
    impaired_[i] = impaired_.back();
    impaired_pos_[impaired_[i]] = i;
    impaired_.pop_back();
    impaired_pos_[g] = UINT32_MAX;
  }
}

// One link changed. A cached distance table (BFS hop counts to switch s over usable switch-to-switch
// links) is still exact when:
//   - the link does not join two switches that are up (access, NVLink, or an end down): it is not in
//     the switch graph, before or after;
//   - repair: the ends' distances differ by at most one (or both are unreachable): an edge between
//     two BFS layers at most one apart shortens no path;
//   - failure: the ends are at the same distance (the link was on no shortest path), or the farther
//     end x still has a usable link to a switch at d(x) - 1 (every shortest path that used the link
//     can turn there at the same length, so no distance changes).
// Otherwise the table is recomputed on next use. In a Clos almost every single-link change keeps
// almost every table, so a link failing or returning costs O(switches x degree), not a BFS per
// attachment switch (this was 89% of a run with random fabric link failures).
void Router::keep_distances(uint32_t link, bool up) {
  const EdgeIndex e = link * 2;
  const VertexId a = src_[e], b = dst_[e];
  const uint32_t sa = switch_index_[a], sb = switch_index_[b];
  const bool in_switch_graph = sa != UINT32_MAX && sb != UINT32_MAX && vertex_up(a) && vertex_up(b);
  for (int w = 0; w < 2; ++w)
  for (uint32_t s = 0; s < switches_.size(); ++s) {
    if (dist_gen_[w][s] != switch_generation_ - 1) continue;
    bool keep = !in_switch_graph;
    if (!keep) {
      const uint8_t* d = dist_[w][s].data();
      const uint32_t tc = w == 0 ? switch_cluster_[s] : UINT32_MAX;
      const int da = dist_at(d, tc, sa), db = dist_at(d, tc, sb);
      if (up) {
        keep = (da == kInf && db == kInf) || (da != kInf && db != kInf && std::abs(da - db) <= 1);
      } else if (da == db) {
        keep = true;
      } else if (da != kInf && db != kInf) {
        const VertexId x = da > db ? a : b;
        const int want = std::max(da, db) - 1;
        for (const Out& o : out(x)) {
          const uint32_t si = switch_index_[o.to];
          if (si != UINT32_MAX && dist_at(d, tc, si) == want && usable(o.e)) {
            keep = true;
            break;
          }
        }
      }
    }
    if (keep) dist_gen_[w][s] = switch_generation_;
  }
}

bool Router::set_vertex_up(VertexId v, bool up) {
  if ((vertex_up_[v] != 0) == up) return false;
  vertex_up_[v] = up ? 1 : 0;
  ++generation_;
  if (switch_index_[v] != UINT32_MAX) {
    ++switch_generation_;
    for (const Out& o : out(v))
      if (switch_index_[o.to] == UINT32_MAX) refresh_impaired(o.to);
  } else {
    refresh_impaired(v);
  }
  return true;
}

const std::vector<uint8_t>& Router::dist_from(uint32_t s, bool whole) {
  const int w = whole ? 1 : 0;
  if (dist_gen_[w][s] == switch_generation_) return dist_[w][s];
  if (!whole && switch_cluster_[s] != UINT32_MAX) {
    fill_cluster_tables(s);
    return dist_[0][s];
  }
  ++bfs_runs_;
  auto& d = dist_[w][s];
  const uint32_t cluster = whole ? UINT32_MAX : switch_cluster_[s];
  // Indexed by switch index over the whole graph, by index in the cluster over one cluster.
  const auto slot = [&](uint32_t si) { return cluster == UINT32_MAX ? si : switch_local_[si]; };
  d.assign(cluster == UINT32_MAX ? switches_.size() : cluster_switches_[cluster], kInf);
  dist_gen_[w][s] = switch_generation_;
  const VertexId root = switches_[s];
  if (!vertex_up(root)) return d;
  d[slot(s)] = 0;
  bfs_queue_.clear();
  bfs_queue_.push_back(root);
  for (size_t head = 0; head < bfs_queue_.size(); ++head) {
    const VertexId v = bfs_queue_[head];
    const uint8_t dv = d[slot(switch_index_[v])];
    for (const Out& o : switch_out(v)) {
      const uint32_t si = switch_index_[o.to];
      if (!usable(o.e)) continue;
      if (cluster != UINT32_MAX && switch_cluster_[si] != cluster) continue;
      if (d[slot(si)] != kInf) continue;
      d[slot(si)] = static_cast<uint8_t>(std::min<int>(dv + 1, kInf - 1));
      bfs_queue_.push_back(o.to);
    }
  }
  return d;
}

// The cluster tables of `s` and of up to 63 other stale attachment switches of its cluster (the next
// ones after s in the cluster's order, wrapping), by one bit-parallel BFS: bit i of a switch's word
// says that source i has reached it, and each level ORs the frontier words along every usable link,
// so the cluster's links are scanned once per BFS level for 64 sources instead of once per source.
// The same hop counts as one BFS per source (a switch gets level L from source i exactly when it is
// first reached at level L). The idea is the bit-parallel BFS of Akiba, Iwata and Yoshida (SIGMOD
// 2013, pruned landmark labeling); Boost Graph has no multi-source BFS that keeps per-source
// distances. Why batch: a job's groups are routed to hundreds of leaves of a fabric, each needing its
// table once (the 38B flagship computed 12,000 of them, a third of its shared-costing run's first
// 400 days), and a Clos is only a few levels deep.
void Router::fill_cluster_tables(uint32_t s) {
  const uint32_t c = switch_cluster_[s];
  const std::vector<uint32_t>& members = cluster_members_[c];
  const uint32_t n = cluster_switches_[c];
  batch_.clear();
  batch_.push_back(s);
  for (uint32_t k = 1; k < n && batch_.size() < 64; ++k) {
    const uint32_t si = members[(switch_local_[s] + k) % n];
    if (scale_out_attachment_[si] && dist_gen_[0][si] != switch_generation_) batch_.push_back(si);
  }
  frontier_.assign(n, 0);
  seen_.assign(n, 0);
  next_.assign(n, 0);
  bool any = false;
  for (size_t i = 0; i < batch_.size(); ++i) {
    const uint32_t si = batch_[i];
    ++bfs_runs_;
    dist_[0][si].assign(n, kInf);
    dist_gen_[0][si] = switch_generation_;
    if (!vertex_up(switches_[si])) continue;
    dist_[0][si][switch_local_[si]] = 0;
    frontier_[switch_local_[si]] |= uint64_t{1} << i;
    seen_[switch_local_[si]] |= uint64_t{1} << i;
    any = true;
  }
  for (int level = 1; any; ++level) {
    for (uint32_t lu = 0; lu < n; ++lu) {
      const uint64_t f = frontier_[lu];
      if (f == 0) continue;
      for (const Out& o : switch_out(switches_[members[lu]])) {
        const uint32_t si = switch_index_[o.to];
        if (switch_cluster_[si] != c || !usable(o.e)) continue;
        next_[switch_local_[si]] |= f;
      }
    }
    any = false;
    const auto d = static_cast<uint8_t>(std::min(level, kInf - 1));
    for (uint32_t lu = 0; lu < n; ++lu) {
      uint64_t fresh = next_[lu] & ~seen_[lu];
      next_[lu] = 0;
      frontier_[lu] = fresh;
      if (fresh == 0) continue;
      seen_[lu] |= fresh;
      any = true;
      for (; fresh != 0; fresh &= fresh - 1) dist_[0][batch_[std::countr_zero(fresh)]][lu] = d;
    }
  }
}

void Router::attachments_of(VertexId src, VertexId dst, std::vector<Attachment>& att) {
  att.clear();
  // Both ends in one cluster: the route stays inside it, so the cluster's table is enough. In a healthy
  // Clos this changes no route (a detour through the site's WAN router is longer than the paths the
  // fabric has); inside a partitioned cluster the route does not hairpin through the WAN router.
  const uint32_t c = t_->vertex(dst).cluster;
  const bool whole = c == UINT32_MAX || t_->vertex(src).cluster != c;
  // The links into dst are the reverse (e ^ 1) of its out-links.
  for (const Out& o : out(dst)) {
    const uint32_t si = switch_index_[o.to];
    if (si == UINT32_MAX || !usable(o.e ^ 1)) continue;
    const bool w = whole || switch_cluster_[si] != c;
    att.push_back(Attachment{dist_from(si, w).data(), cost_[o.e ^ 1], w ? UINT32_MAX : switch_cluster_[si]});
  }
}

uint32_t Router::cost_to(VertexId u, VertexId dst, const std::vector<Attachment>& att) const {
  if (u == dst) return 0;
  const uint32_t si = switch_index_[u];
  if (si == UINT32_MAX) return UINT32_MAX;  // GPUs do not forward
  uint32_t best = UINT32_MAX;
  for (const Attachment& a : att) {
    const uint8_t d = dist_at(a.dist, a.cluster, si);
    if (d == kInf) continue;
    best = std::min(best, 2u * d + a.last_cost);
  }
  return best;
}

bool Router::route(VertexId src, VertexId dst, uint64_t key, std::vector<EdgeIndex>& path) {
  if (!pinned_.empty())
    if (const Pin* p = find_pin(src, dst, key)) {
      ++pinned_hits_;
      path = p->path;
      return true;
    }
  CacheSlot& slot = cache_[ecmp_mix(key ^ ecmp_mix((uint64_t{src} << 32) | dst)) & (cache_.size() - 1)];
  if (slot.generation == generation_ && slot.key == key && slot.src == src && slot.dst == dst) {
    ++cache_hits_;
    path.assign(slot.path.begin(), slot.path.begin() + slot.hops);
    return true;
  }
  ++cache_misses_;
  if (!walk(src, dst, key, path)) return false;
  if (path.size() <= kCachedHops) {
    slot.key = key;
    slot.generation = generation_;
    slot.src = src;
    slot.dst = dst;
    slot.hops = static_cast<uint32_t>(path.size());
    std::copy(path.begin(), path.end(), slot.path.begin());
  }
  return true;
}

bool Router::walk(VertexId src, VertexId dst, uint64_t key, std::vector<EdgeIndex>& path) {
  path.clear();
  if (src == dst) return true;
  if (!vertex_up(src) || !vertex_up(dst)) return false;
  const uint32_t dst_cluster = t_->vertex(dst).cluster;
  const bool whole = dst_cluster == UINT32_MAX || t_->vertex(src).cluster != dst_cluster;  // (as attachments_of)
  if (dst != walked_dst_ || whole != walked_whole_ || generation_ != walked_gen_ || switch_generation_ != walked_switch_gen_) {
    // The usable links into dst, in edge order (the order a scan of a vertex's out-links meets them).
    into_dst_.clear();
    for (const Out& o : out(dst))
      if (usable(o.e ^ 1)) into_dst_.push_back(Out{o.to, o.e ^ 1});
    std::sort(into_dst_.begin(), into_dst_.end(), [](const Out& a, const Out& b) { return a.e < b.e; });
    dense_ = dense_cost_of(dst, whole);
    if (dense_ == nullptr) attachments_of(src, dst, att_);
    walked_dst_ = dst;
    walked_whole_ = whole;
    walked_gen_ = generation_;
    walked_switch_gen_ = switch_generation_;
  }
  VertexId cur = src;
  uint32_t hop = 0;
  while (cur != dst) {
    const uint64_t h = ecmp_mix((uint64_t{cur} << 8) | hop);
    // Direct links from cur to dst: when the cheapest beats any route through another switch (which
    // costs at least the cheapest switch link plus one), they are the only candidates.
    uint32_t direct = UINT32_MAX, direct_count = 0;
    const uint32_t cur_si = switch_index_[cur];
    if (dense_ != nullptr && cur_si != UINT32_MAX) {
      if (const uint32_t d = dense_->direct[cur_si]; d != 0) {
        direct = d >> 16;
        direct_count = d & 0xffff;
      }
    } else {
      for (const Out& d : into_dst_) {
        if (d.to != cur) continue;
        if (cost_[d.e] < direct) {
          direct = cost_[d.e];
          direct_count = 1;
        } else if (cost_[d.e] == direct) {
          ++direct_count;
        }
      }
    }
    if (direct_count > 0 && direct < uint32_t{min_switch_link_cost_[cur]} + 1) {
      uint32_t pick = direct_count == 1 ? 0 : static_cast<uint32_t>(ecmp_mix(key ^ h) % direct_count);
      for (const Out& d : into_dst_) {
        if (d.to != cur || cost_[d.e] != direct) continue;
        if (pick-- == 0) {
          path.push_back(d.e);
          break;
        }
      }
      return true;
    }
    // Otherwise only forwarding vertices can be next hops, unless a direct link is among the ties.
    const std::span<const Out> next = direct_count > 0 ? out(cur) : switch_out(cur);
    // The usable out-links whose far end is closest to dst, in scan order (one pass: each candidate's
    // cost looked up once); the key picks one.
    uint32_t best = UINT32_MAX;
    ties_.clear();
    for (const Out& o : next) {
      if (!usable(o.e)) continue;
      const uint32_t c = walk_cost(o.to, dst);
      if (c == UINT32_MAX) continue;
      const uint32_t total = c + cost_[o.e];
      if (total < best) {
        best = total;
        ties_.clear();
      }
      if (total == best) ties_.push_back(o);
    }
    if (ties_.empty()) {
      path.clear();
      return false;
    }
    const Out& chosen = ties_[ties_.size() == 1 ? 0 : ecmp_mix(key ^ h) % ties_.size()];
    path.push_back(chosen.e);
    cur = chosen.to;
    ++hop;
  }
  return true;
}

const Router::DenseCost* Router::dense_cost_of(VertexId dst, bool whole) {
  if (!dense_enabled_) return nullptr;
  const uint32_t c = t_->vertex(dst).cluster;
  size_t attachments = 0;
  for (const Out& in : into_dst_) {
    const uint32_t si = switch_index_[in.to];
    if (si == UINT32_MAX) continue;
    if (!whole && switch_cluster_[si] != c) return nullptr;  // mixed scopes: attachments_of handles them
    ++attachments;
  }
  if (attachments <= kDenseAttachments) return nullptr;
  DenseCost* slot = nullptr;
  for (DenseCost& d : dense_tables_)
    if (d.dst == dst && d.whole == whole) slot = &d;
  if (slot == nullptr) {
    slot = &dense_tables_[dense_next_];
    dense_next_ = (dense_next_ + 1) % dense_tables_.size();
  }
  if (slot->dst != dst || slot->whole != whole || slot->generation != generation_) {
    slot->dst = dst;
    slot->whole = whole;
    slot->generation = generation_;
    fill_dense_cost(dst, whole, *slot);
  }
  return slot;
}

// The cost from every switch to dst: the least over dst's usable attachments a of 2 x hops(switch, a)
// + cost(a -> dst), over the switches of dst's cluster (or the whole switch graph when `whole`), which
// is what cost_to computes from the attachments' tables. One search from all attachments at once;
// costs start at 1 or 2 (the last link) and every switch hop adds 2, so two FIFO queues, one per
// parity, each receive costs in increasing order, and taking the smaller head settles switches in
// order of cost (Dial's algorithm with the two live buckets kept as queues). Links are symmetric
// (both directions of a link fail together), so hops from a switch to a equal hops from a.
void Router::fill_dense_cost(VertexId dst, bool whole, DenseCost& table) {
  std::vector<uint32_t>& cost = table.cost;
  cost.assign(switches_.size(), UINT32_MAX);
  table.direct.assign(switches_.size(), 0);
  const uint32_t c = t_->vertex(dst).cluster;
  auto& q = dense_queue_;
  q[0].clear();
  q[1].clear();
  for (const Out& in : into_dst_) {
    const uint32_t si = switch_index_[in.to];
    if (si != UINT32_MAX) cost[si] = std::min<uint32_t>(cost[si], cost_[in.e]);
  }
  for (const Out& in : into_dst_) {
    const uint32_t si = switch_index_[in.to];
    if (si == UINT32_MAX || cost[si] != cost_[in.e]) continue;
    q[cost[si] & 1].emplace_back(si, cost[si]);
    table.direct[si] = (uint32_t{cost_[in.e]} << 16) | ((table.direct[si] & 0xffff) + 1);
  }
  // (Every start is 1 or 2: each queue starts with equal costs, in order.)
  size_t head[2] = {0, 0};
  for (;;) {
    const bool more0 = head[0] < q[0].size(), more1 = head[1] < q[1].size();
    if (!more0 && !more1) break;
    const int p = !more1 || (more0 && q[0][head[0]].second <= q[1][head[1]].second) ? 0 : 1;
    const auto [si, ci] = q[p][head[p]++];
    if (ci != cost[si]) continue;  // reached more cheaply since it was queued
    for (const Out& o : switch_out(switches_[si])) {
      if (!usable(o.e)) continue;
      const uint32_t ti = switch_index_[o.to];
      if (!whole && switch_cluster_[ti] != c) continue;
      if (ci + 2 >= cost[ti]) continue;
      cost[ti] = ci + 2;
      q[(ci + 2) & 1].emplace_back(ti, ci + 2);
    }
  }
}

void Router::set_policy(uint32_t cluster, RoutingPolicy p) {
  if (policy_.size() <= cluster) policy_.resize(cluster + 1, RoutingPolicy::Ecmp);
  policy_[cluster] = p;
  any_policy_ = false;
  for (RoutingPolicy q : policy_) any_policy_ = any_policy_ || q != RoutingPolicy::Ecmp;
}

void Router::pin(const ResolvedRoute& r) {
  pin_index_[(uint64_t{r.src} << 32) | r.dst].push_back(static_cast<uint32_t>(pinned_.size()));
  pinned_.push_back(Pin{r.src, r.dst, r.key.has_value(), r.key.value_or(0), r.path});
}

// A flow's own pin first, then its pair's; a pin crossing anything down is skipped (ECMP instead).
const Router::Pin* Router::find_pin(VertexId src, VertexId dst, uint64_t key) const {
  const auto it = pin_index_.find((uint64_t{src} << 32) | dst);
  if (it == pin_index_.end()) return nullptr;
  const Pin* pair = nullptr;
  const Pin* flow = nullptr;
  for (uint32_t i : it->second) {
    const Pin& p = pinned_[i];
    if (p.per_flow && p.key == key) flow = &p;
    if (!p.per_flow) pair = &p;
  }
  for (const Pin* p : {flow, pair}) {
    if (p == nullptr) continue;
    bool ok = true;
    for (EdgeIndex e : p->path) ok = ok && usable(e);
    if (ok) return p;
  }
  return nullptr;
}

uint32_t Router::next_epoch() {
  if (stamp_.size() != t_->vertices()) {
    stamp_.assign(t_->vertices(), 0);
    value_.assign(t_->vertices(), 0);
    lat_.assign(t_->vertices(), 0);
    epoch_ = 0;
  }
  if (++epoch_ == 0) {
    std::fill(stamp_.begin(), stamp_.end(), 0);
    epoch_ = 1;
  }
  return epoch_;
}

uint32_t Router::cost_from(VertexId u, VertexId src, VertexId dst) const {
  if (u != src) return cost_to(u, dst, att_);
  uint32_t best = UINT32_MAX;
  for (const Out& o : out(u)) {
    if (!usable(o.e)) continue;
    const uint32_t c = cost_to(o.to, dst, att_);
    if (c != UINT32_MAX) best = std::min(best, c + cost_[o.e]);
  }
  return best;
}

// The DAG is visited in decreasing cost-to-go (a max-heap on cost): every edge of it lowers the cost by
// at least 1, so a vertex is popped after everything that feeds it and its fraction is complete.
bool Router::spray(VertexId src, VertexId dst, std::vector<EdgeIndex>& edges, std::vector<double>& fraction,
                   Duration* latency) {
  edges.clear();
  fraction.clear();
  if (latency != nullptr) *latency = Duration::zero();
  if (src == dst) return true;
  if (!vertex_up(src) || !vertex_up(dst)) return false;
  attachments_of(src, dst, att_);
  walked_dst_ = UINT32_MAX;  // att_ is no longer walk's
  const uint32_t c0 = cost_from(src, src, dst);
  if (c0 == UINT32_MAX) return false;
  const uint32_t ep = next_epoch();
  const auto by_cost = [](const Pending& a, const Pending& b) { return a.cost < b.cost || (a.cost == b.cost && a.v > b.v); };
  pending_.clear();
  stamp_[src] = ep;
  value_[src] = 1.0;
  lat_[src] = 0;
  pending_.push_back({c0, src});
  int64_t worst = 0;
  while (!pending_.empty()) {
    std::pop_heap(pending_.begin(), pending_.end(), by_cost);
    const Pending u = pending_.back();
    pending_.pop_back();
    if (u.v == dst) {
      worst = lat_[dst];
      continue;
    }
    uint32_t count = 0;
    for (const Out& o : out(u.v)) {
      if (!usable(o.e)) continue;
      const uint32_t c = cost_to(o.to, dst, att_);
      if (c != UINT32_MAX && c + cost_[o.e] == u.cost) ++count;
    }
    const double share = value_[u.v] / count;
    for (const Out& o : out(u.v)) {
      if (!usable(o.e)) continue;
      const uint32_t c = cost_to(o.to, dst, att_);
      if (c == UINT32_MAX || c + cost_[o.e] != u.cost) continue;
      edges.push_back(o.e);
      fraction.push_back(share);
      const int64_t l = lat_[u.v] + t_->edge(o.e).latency.ticks();
      if (stamp_[o.to] != ep) {
        stamp_[o.to] = ep;
        value_[o.to] = 0;
        lat_[o.to] = l;
        pending_.push_back({c, o.to});
        std::push_heap(pending_.begin(), pending_.end(), by_cost);
      }
      value_[o.to] += share;
      lat_[o.to] = std::max(lat_[o.to], l);
    }
  }
  if (latency != nullptr) *latency = Duration::ns(worst);
  return true;
}

bool Router::route_least_loaded(VertexId src, VertexId dst, uint64_t key,
                                const std::function<double(EdgeIndex)>& headroom, std::vector<EdgeIndex>& path) {
  path.clear();
  if (src == dst) return true;
  if (!vertex_up(src) || !vertex_up(dst)) return false;
  attachments_of(src, dst, att_);
  walked_dst_ = UINT32_MAX;  // att_ is no longer walk's
  if (cost_from(src, src, dst) == UINT32_MAX) return false;
  const uint32_t ep = next_epoch();
  const double inf = std::numeric_limits<double>::infinity();
  // best(u): the largest bottleneck headroom over u's equal-cost paths to dst (memoised; depth = hops).
  auto best = [&](auto&& self, VertexId u) -> double {
    if (u == dst) return inf;
    if (stamp_[u] == ep) return value_[u];
    const uint32_t cu = cost_from(u, src, dst);
    double b = -inf;
    for (const Out& o : out(u)) {
      if (!usable(o.e)) continue;
      const uint32_t c = cost_to(o.to, dst, att_);
      if (c == UINT32_MAX || c + cost_[o.e] != cu) continue;
      b = std::max(b, std::min(headroom(o.e), self(self, o.to)));
    }
    stamp_[u] = ep;
    value_[u] = b;
    return b;
  };
  VertexId cur = src;
  uint32_t hop = 0;
  while (cur != dst) {
    const double want = best(best, cur);
    const uint32_t cu = cost_from(cur, src, dst);
    uint32_t count = 0;
    for (const Out& o : out(cur)) {
      if (!usable(o.e)) continue;
      const uint32_t c = cost_to(o.to, dst, att_);
      if (c == UINT32_MAX || c + cost_[o.e] != cu) continue;
      if (std::min(headroom(o.e), best(best, o.to)) == want) ++count;
    }
    if (count == 0) {
      path.clear();
      return false;
    }
    const uint64_t h = ecmp_mix((uint64_t{cur} << 8) | hop);
    uint32_t pick = count == 1 ? 0 : static_cast<uint32_t>(ecmp_mix(key ^ h) % count);
    for (const Out& o : out(cur)) {
      if (!usable(o.e)) continue;
      const uint32_t c = cost_to(o.to, dst, att_);
      if (c == UINT32_MAX || c + cost_[o.e] != cu) continue;
      if (std::min(headroom(o.e), best(best, o.to)) != want) continue;
      if (pick-- == 0) {
        path.push_back(o.e);
        cur = o.to;
        break;
      }
    }
    ++hop;
  }
  return true;
}

uint32_t Router::cost(VertexId src, VertexId dst) {
  if (src == dst) return 0;
  if (!vertex_up(src) || !vertex_up(dst)) return UINT32_MAX;
  attachments_of(src, dst, att_);
  walked_dst_ = UINT32_MAX;  // att_ is no longer walk's
  uint32_t best = UINT32_MAX;
  for (const Out& o : out(src)) {
    if (!usable(o.e)) continue;
    const uint32_t c = cost_to(o.to, dst, att_);
    if (c != UINT32_MAX) best = std::min(best, c + cost_[o.e]);
  }
  return best;
}

uint64_t Router::count_paths(VertexId src, VertexId dst) {
  if (src == dst) return 1;
  attachments_of(src, dst, att_);
  walked_dst_ = UINT32_MAX;  // att_ is no longer walk's
  const std::vector<Attachment> att = att_;
  // Vertices on shortest paths, visited in decreasing cost-to-go: the number of paths from u is the
  // sum over its next hops. Memoised recursion over the DAG (depth = path length, small).
  std::vector<uint64_t> memo(t_->vertices(), UINT64_MAX);
  auto paths = [&](auto&& self, VertexId u) -> uint64_t {
    if (u == dst) return 1;
    if (memo[u] != UINT64_MAX) return memo[u];
    uint32_t best = UINT32_MAX;
    for (const Out& o : out(u)) {
      if (!usable(o.e)) continue;
      const uint32_t c = cost_to(o.to, dst, att);
      if (c != UINT32_MAX) best = std::min(best, c + cost_[o.e]);
    }
    uint64_t n = 0;
    if (best != UINT32_MAX)
      for (const Out& o : out(u)) {
        if (!usable(o.e)) continue;
        const uint32_t c = cost_to(o.to, dst, att);
        if (c != UINT32_MAX && c + cost_[o.e] == best) n += self(self, o.to);
      }
    return memo[u] = n;
  };
  return paths(paths, src);
}

void Router::update_components() {
  if (comp_gen_ == switch_generation_ + 1) return;
  ++comp_runs_;
  using UGraph = boost::adjacency_list<boost::vecS, boost::vecS, boost::undirectedS>;
  UGraph g(switches_.size());
  for (EdgeIndex e = 0; e < src_.size(); e += 2) {
    const uint32_t a = switch_index_[src_[e]], b = switch_index_[dst_[e]];
    if (a == UINT32_MAX || b == UINT32_MAX || !usable(e)) continue;
    boost::add_edge(a, b, g);
  }
  comp_.assign(switches_.size(), 0);
  ncomp_ = switches_.empty() ? 0 : static_cast<uint32_t>(boost::connected_components(g, comp_.data()));
  // A switch that is down is its own component and reaches nobody.
  for (uint32_t s = 0; s < switches_.size(); ++s)
    if (!vertex_up(switches_[s])) comp_[s] = -1;
  comp_gen_ = switch_generation_ + 1;
  // One component holding every scale-out attachment switch, all of them up?
  int first = -2;
  scale_out_whole_ = every_gpu_scale_out_;
  for (uint32_t s = 0; s < switches_.size() && scale_out_whole_; ++s) {
    if (scale_out_attachment_[s] == 0) continue;
    if (comp_[s] < 0 || (first != -2 && comp_[s] != first)) scale_out_whole_ = false;
    first = comp_[s];
  }
}

bool Router::scale_out_whole() {
  update_components();
  return scale_out_whole_;
}

uint32_t Router::components() {
  update_components();
  return ncomp_;
}

bool Router::reachable(VertexId a, VertexId b) { return cost(a, b) != UINT32_MAX; }

PlacementCheck Router::check_placement(std::span<const VertexId> gpus) {
  update_components();
  PlacementCheck pc;
  const size_t n = gpus.size();
  pc.group_of.assign(n, 0);
  if (n == 0) return pc;
  // Union-find over placement GPUs; GPUs attached to the same switch component are merged.
  std::vector<uint32_t> parent(n);
  std::iota(parent.begin(), parent.end(), 0u);
  auto find = [&](uint32_t x) {
    while (parent[x] != x) x = parent[x] = parent[parent[x]];
    return x;
  };
  std::vector<int64_t> owner(ncomp_, -1);  // first placement GPU seen per component
  for (uint32_t i = 0; i < n; ++i) {
    const VertexId g = gpus[i];
    if (!vertex_up(g)) continue;
    for (const Out& o : out(g)) {
      const uint32_t si = switch_index_[o.to];
      if (si == UINT32_MAX || !usable(o.e) || comp_[si] < 0) continue;
      auto& w = owner[static_cast<size_t>(comp_[si])];
      if (w < 0) {
        w = i;
      } else {
        const uint32_t ra = find(i), rb = find(static_cast<uint32_t>(w));
        if (ra != rb) parent[std::max(ra, rb)] = std::min(ra, rb);
      }
    }
  }
  // Number the groups in order of first appearance.
  std::vector<int64_t> label(n, -1);
  uint32_t groups = 0;
  for (uint32_t i = 0; i < n; ++i) {
    const uint32_t r = find(i);
    if (label[r] < 0) label[r] = groups++;
    pc.group_of[i] = static_cast<uint32_t>(label[r]);
  }
  pc.groups = groups;
  pc.connected = groups == 1;
  return pc;
}

}  // namespace fleetsim
