// SPDX-License-Identifier: Apache-2.0
#include "models/network/fabric_load.hpp"

#include "models/network/collectives.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

namespace fleetsim {

LinkVector RoutedStreams::apply(const Eigen::VectorXd& v, uint32_t edges) const {
  // The product over the used links only (routing is links x streams), then scattered to edge indices:
  // a dense E-vector per consumer would cost more than the routing at 100k GPUs.
  const Eigen::VectorXd local = routing * v;
  LinkVector out(edges);
  out.reserve(static_cast<Eigen::Index>(links.size()));
  for (size_t l = 0; l < links.size(); ++l)
    if (local[static_cast<Eigen::Index>(l)] != 0) out.insertBack(links[l]) = local[static_cast<Eigen::Index>(l)];
  return out;
}

RoutedStreams route_streams(Router& router, std::span<const Stream> streams) {
  RoutedStreams r;
  const Topology& topo = router.topology();
  r.latency.reserve(streams.size());
  struct Hit {
    EdgeIndex e;
    uint32_t k;
    double frac;
  };
  std::vector<Hit> hits;
  std::vector<EdgeIndex> path;
  std::vector<double> frac;
  for (uint32_t k = 0; k < streams.size(); ++k) {
    const Stream& s = streams[k];
    const uint32_t ch = std::max(1u, s.channels);
    bool ok = true;
    // Spray, and adaptive (as spray: loads here are averages over many flow starts, and least-loaded
    // choices at each start even the load out over the equal-cost paths [A]; docs/topologies.md): the
    // stream's fractions on the equal-cost DAG, whatever its channels.
    const RoutingPolicy pol = router.any_policy() ? router.policy(s.src) : RoutingPolicy::Ecmp;
    Duration& lat = r.latency.emplace_back();
    if (pol == RoutingPolicy::Spray || pol == RoutingPolicy::Adaptive) {
      ok = router.spray(s.src, s.dst, path, frac);
      for (size_t i = 0; ok && i < path.size(); ++i) hits.push_back({path[i], k, frac[i]});
      if (!ok) ++r.unrouted;
      // The latency is channel 0's ECMP route's, as for the other policies.
      if (ok && router.route(s.src, s.dst, collective_transfer_key(s.key_base, s.src, s.dst, 0), path))
        for (EdgeIndex e : path) lat += topo.edge(e).latency;
      continue;
    }
    for (uint32_t c = 0; c < ch && ok; ++c) {
      ok = router.route(s.src, s.dst, collective_transfer_key(s.key_base, s.src, s.dst, c), path);
      for (EdgeIndex e : path) hits.push_back({e, k, 1.0 / ch});
      if (ok && c == 0)
        for (EdgeIndex e : path) lat += topo.edge(e).latency;
    }
    if (!ok) {
      ++r.unrouted;
      while (!hits.empty() && hits.back().k == k) hits.pop_back();
    }
  }
  // Rows: the used links in edge order, so the result scatters into a LinkVector in order.
  r.links.reserve(hits.size());
  for (const Hit& h : hits) r.links.push_back(h.e);
  std::sort(r.links.begin(), r.links.end());
  r.links.erase(std::unique(r.links.begin(), r.links.end()), r.links.end());
  std::vector<Eigen::Triplet<double>> trip;
  trip.reserve(hits.size());
  for (const Hit& h : hits) {
    const auto row = std::lower_bound(r.links.begin(), r.links.end(), h.e) - r.links.begin();
    trip.emplace_back(static_cast<int>(row), static_cast<int>(h.k), h.frac);
  }
  r.routing.resize(static_cast<Eigen::Index>(r.links.size()), static_cast<Eigen::Index>(streams.size()));
  r.routing.setFromTriplets(trip.begin(), trip.end());  // duplicates (two channels on one link) add up
  return r;
}

FabricLoad::FabricLoad(const Topology& topo, Router& router)
    : topo_(topo), router_(router), capacity_(topo.directed_edges()), on_edge_(topo.directed_edges()) {
  for (EdgeIndex e = 0; e < capacity_.size(); ++e) capacity_[e] = topo.edge(e).bytes_per_s;
}

ConsumerId FabricLoad::add_consumer(std::string name) {
  Consumer c;
  c.name = std::move(name);
  c.load.resize(edges());
  consumers_.push_back(std::move(c));
  affected_mark_.push_back(0);
  touch_mark_.push_back(0);
  suspended_.push_back(0);
  disturbed_.push_back(0);
  version_.push_back(0);
  for (auto& row : shared_) row.push_back(0);
  shared_.emplace_back(consumers_.size(), 0);
  return static_cast<ConsumerId>(consumers_.size() - 1);
}

uint32_t FabricLoad::set_streams(ConsumerId c, std::span<const Stream> streams, double busy) {
  if (!(busy > 0 && busy <= 1))
    throw std::invalid_argument("fabric streams of \"" + consumers_[c].name + "\": busy must be in (0, 1]");
  for (const Stream& s : streams) {
    if (!(s.bytes_per_s >= 0) || !std::isfinite(s.bytes_per_s))
      throw std::invalid_argument("fabric stream of \"" + consumers_[c].name + "\": bytes_per_s must be >= 0 and finite");
    if (s.bytes_per_s > 0 && !(s.flows > 0))
      throw std::invalid_argument("fabric stream of \"" + consumers_[c].name + "\": a stream with load needs flows > 0");
  }
  Consumer& k = consumers_[c];
  k.streams.assign(streams.begin(), streams.end());
  k.streams_busy = busy;
  k.streams_set = true;
  const RoutedStreams r = route_streams(router_, streams);
  Eigen::VectorXd rate(static_cast<Eigen::Index>(streams.size())), flows(static_cast<Eigen::Index>(streams.size()));
  for (size_t i = 0; i < streams.size(); ++i) {
    rate[static_cast<Eigen::Index>(i)] = streams[i].bytes_per_s;
    flows[static_cast<Eigen::Index>(i)] = streams[i].bytes_per_s > 0 ? streams[i].flows : 0.0;
  }
  LinkVector load = r.apply(rate, edges());
  LinkVector b;
  if (busy < 1) {
    b = load;
    for (LinkVector::InnerIterator it(b); it; ++it) it.valueRef() = busy;
  }
  replace(c, std::move(load), r.apply(flows, edges()), std::move(b), {});
  return r.unrouted;
}

void FabricLoad::rescale_streams(ConsumerId c, double factor, double busy) {
  Consumer& k = consumers_[c];
  if (!(factor > 0) || !std::isfinite(factor))
    throw std::invalid_argument("fabric streams of \"" + k.name + "\": a rescale needs a factor > 0");
  if (!(busy > 0 && busy <= 1))
    throw std::invalid_argument("fabric streams of \"" + k.name + "\": busy must be in (0, 1]");
  for (Stream& st : k.streams) st.bytes_per_s *= factor;
  if (!k.streams_set || suspended_[c]) {
    const std::vector<Stream> streams = k.streams;
    set_streams(c, streams, busy);
    return;
  }
  k.streams_busy = busy;
  // Flows per link do not move with the rates (a stream with load keeps its flows): read back from
  // the entries, which hold them.
  LinkVector load = k.load * factor;
  LinkVector flows = k.load;
  for (LinkVector::InnerIterator it(flows); it; ++it) {
    const auto& v = on_edge_[static_cast<size_t>(it.index())];
    const auto e = std::find_if(v.begin(), v.end(), [&](const Entry& x) { return x.c == c; });
    it.valueRef() = e == v.end() ? 0.0 : e->flows;
  }
  LinkVector b;
  if (busy < 1) {
    b = load;
    for (LinkVector::InnerIterator it(b); it; ++it) it.valueRef() = busy;
  }
  replace(c, std::move(load), flows, b, {});
}

void FabricLoad::set_load(ConsumerId c, const LinkVector& bytes_per_s, const LinkVector& flows, const LinkVector& busy,
                          const LinkVector& peak) {
  consumers_[c].streams_set = false;
  consumers_[c].streams.clear();
  replace(c, bytes_per_s, flows, busy, peak);
}

void FabricLoad::clear(ConsumerId c) {
  consumers_[c].streams.clear();
  replace(c, LinkVector(edges()), LinkVector(edges()), {}, {});
}

void FabricLoad::reroute(std::span<const ConsumerId> which) {
  for (ConsumerId c : which)
    if (consumers_[c].streams_set) {
      const std::vector<Stream> s = consumers_[c].streams;
      set_streams(c, s, consumers_[c].streams_busy);
    }
}

void FabricLoad::mark_others(EdgeIndex e, ConsumerId self) {
  for (const Entry& x : on_edge_[e]) {
    if (x.c == self) continue;
    ++disturbed_[x.c];  // suspended ones too: what they cached from this link is stale
    if (!affected_mark_[x.c] && active(x)) {
      affected_mark_[x.c] = 1;
      affected_.push_back(x.c);
    }
  }
}

// The consumers sharing a link with c (the pair counts), as mark_others over every link of c would mark
// them: O(consumers), not O(c's links).
void FabricLoad::mark_neighbours(ConsumerId c) {
  const auto& row = shared_[c];
  for (ConsumerId x = 0; x < row.size(); ++x) {
    if (x == c || row[x] == 0) continue;
    ++disturbed_[x];
    if (!affected_mark_[x] && !suspended_[x]) {
      affected_mark_[x] = 1;
      affected_.push_back(x);
    }
  }
}

void FabricLoad::set_idle(ConsumerId c, bool idle) {
  Consumer& k = consumers_[c];
  if (k.idle == idle || suspended_[c]) return;
  k.idle = idle;
  if (on_kind_load_change)
    for (int i = 0; i < kLinkKinds; ++i)
      if (k.kind_load[i] != 0) on_kind_load_change(static_cast<LinkKind>(i), idle ? -k.kind_load[i] : k.kind_load[i]);
}

void FabricLoad::suspend(ConsumerId c) {
  if (suspended_[c]) return;
  set_idle(c, false);  // its kind loads back first: the walk below takes them off with the links'
  suspended_[c] = 1;
  // As clear() would: the others on its links are affected, and the link totals drop by its load.
  mark_neighbours(c);
  if (on_load_change)
    for (LinkVector::InnerIterator it(consumers_[c].load); it; ++it)
      if (it.value() != 0) on_load_change(static_cast<EdgeIndex>(it.index()), -it.value());
}

void FabricLoad::resume(ConsumerId c) {
  if (!suspended_[c]) return;
  suspended_[c] = 0;
  mark_neighbours(c);
  if (on_load_change)
    for (LinkVector::InnerIterator it(consumers_[c].load); it; ++it)
      if (it.value() != 0) on_load_change(static_cast<EdgeIndex>(it.index()), it.value());
}

size_t FabricLoad::consumers_on(EdgeIndex e) const {
  size_t n = 0;
  for (const Entry& x : on_edge_[e]) n += active(x) ? 1 : 0;
  return n;
}

void FabricLoad::clear_affected() {
  for (ConsumerId c : affected_) affected_mark_[c] = 0;
  affected_.clear();
}

// Merges the old and the new load of c edge by edge: the index is updated where c's entry changed,
// and the other consumers on exactly those links are marked affected.
void FabricLoad::replace(ConsumerId c, LinkVector load, const LinkVector& flows, const LinkVector& busy,
                         const LinkVector& peak) {
  // A suspended consumer's entries are off the fabric for everyone else: the update is then as onto a
  // cleared consumer (every new entry counted and marked, the old ones already taken off).
  set_idle(c, false);  // (its kind loads back first: the changes below are counted from there)
  const bool was_suspended = suspended_[c] != 0;
  suspended_[c] = 0;
  ++updates_;
  ++version_[c];
  Consumer& k = consumers_[c];
  // (An empty busy or peak has no entries: every link then reads as busy 1 and peak = mean below.)
  LinkVector::InnerIterator o(k.load), n(load), nf(flows), nb(busy), np(peak);
  auto peak_at = [&](EdgeIndex e, double mean) {
    while (np && static_cast<EdgeIndex>(np.index()) < e) ++np;
    return std::max(mean, np && static_cast<EdgeIndex>(np.index()) == e ? np.value() : 0.0);
  };
  auto busy_at = [&](EdgeIndex e) {
    while (nb && static_cast<EdgeIndex>(nb.index()) < e) ++nb;
    const double b = nb && static_cast<EdgeIndex>(nb.index()) == e ? nb.value() : 1.0;
    return std::clamp(b, 1e-6, 1.0);
  };
  auto upsert = [&](EdgeIndex e, double l, double f) {
    auto& v = on_edge_[e];
    auto it = std::find_if(v.begin(), v.end(), [&](const Entry& x) { return x.c == c; });
    const double after = l <= 0 && f <= 0 ? 0.0 : l;
    k.kind_load[static_cast<int>(topo_.edge(e).kind)] += after - (it == v.end() ? 0.0 : it->load);
    if (on_load_change) {
      const double before = it == v.end() || was_suspended ? 0.0 : it->load;
      if (after != before) on_load_change(e, after - before);
    }
    if (l <= 0 && f <= 0) {
      if (it != v.end()) {
        for (const Entry& x : v)
          if (x.c != c) {
            --shared_[c][x.c];
            --shared_[x.c][c];
          }
        *it = v.back();
        v.pop_back();
      }
    } else if (it == v.end()) {
      for (const Entry& x : v) {
        ++shared_[c][x.c];
        ++shared_[x.c][c];
      }
      v.push_back({c, l, f, busy_at(e), peak_at(e, f)});
    } else {
      it->load = l;
      it->flows = f;
      it->busy = busy_at(e);
      it->peak = peak_at(e, f);
    }
    if (!(was_suspended && l <= 0 && f <= 0)) mark_others(e, c);
  };
  // flows has the sparsity of load (both R x something over the same rows) or a subset of it.
  auto flow_at = [&](EdgeIndex e) {
    while (nf && static_cast<EdgeIndex>(nf.index()) < e) ++nf;
    return nf && static_cast<EdgeIndex>(nf.index()) == e ? nf.value() : 0.0;
  };
  while (o || n) {
    const EdgeIndex eo = o ? static_cast<EdgeIndex>(o.index()) : std::numeric_limits<EdgeIndex>::max();
    const EdgeIndex en = n ? static_cast<EdgeIndex>(n.index()) : std::numeric_limits<EdgeIndex>::max();
    if (eo < en) {
      upsert(eo, 0, 0);
      ++o;
    } else if (en < eo) {
      upsert(en, n.value(), flow_at(en));
      ++n;
    } else {
      const double f = flow_at(en);
      const double b = busy_at(en), pk = peak_at(en, f);
      if (was_suspended || o.value() != n.value() || std::find_if(on_edge_[en].begin(), on_edge_[en].end(), [&](const Entry& x) {
                                      return x.c == c && x.flows == f && x.busy == b && x.peak == pk;
                                    }) == on_edge_[en].end())
        upsert(en, n.value(), f);
      ++o;
      ++n;
    }
  }
  k.load = std::move(load);  // (flows, busy and peak live in the entries only)
  if (k.load.nonZeros() == 0) k.kind_load.fill(0.0);  // no rounding residue once it has no entry
}

FabricLoad::Others FabricLoad::others(EdgeIndex e, ConsumerId self, ConsumerId also) const {
  Others o;
  for (const Entry& x : on_edge_[e])
    if (x.c != self && x.c != also && x.load > 0 && active(x)) o.busy = std::max(o.busy, x.busy);
  if (o.busy <= 0) return o;
  // Concentrated in the time the busiest of them sends: the same mean load and mean flows.
  for (const Entry& x : on_edge_[e])
    if (x.c != self && x.c != also && x.load > 0 && active(x)) {
      o.load += x.load / o.busy;
      o.flows += x.flows * x.busy / o.busy;
      o.peak += x.peak;
    }
  return o;
}

void FabricLoad::touching(uint32_t link, bool up, std::vector<ConsumerId>& out) {
  if (++touch_epoch_ == 0) {
    std::fill(touch_mark_.begin(), touch_mark_.end(), 0);
    touch_epoch_ = 1;
  }
  for (ConsumerId c : out) touch_mark_[c] = touch_epoch_;
  auto take = [&](EdgeIndex e) {
    for (const Entry& en : on_edge_[e])
      if (touch_mark_[en.c] != touch_epoch_ && active(en)) {
        touch_mark_[en.c] = touch_epoch_;
        out.push_back(en.c);
      }
  };
  const EdgeIndex e0 = EdgeIndex{link} * 2;
  if (!up) {
    take(e0);
    take(e0 + 1);
    return;
  }
  for (VertexId v : {topo_.edge(e0).source, topo_.edge(e0).target})
    for (const Router::Out& x : router_.out(v)) {
      take(x.e);
      take(x.e ^ 1u);
    }
}

double FabricLoad::share(EdgeIndex e, ConsumerId self, double own_flows, double* busy) const {
  const double C = capacity_[e];
  const auto& v = on_edge_[e];
  if (busy != nullptr) *busy = 0;
  if (v.empty() || (v.size() == 1 && v[0].c == self)) return C;  // (suspended ones are skipped below)
  // Water-filling: the others in order of their per-flow demand a_o / w_o; those below the level
  // keep their demand, the rest share the level with our own flows. While they send (probability p,
  // the largest busy fraction among them), their load is the average over p: the same mean,
  // concentrated in the time they are there (exact for one other consumer), over the flows they have
  // there while sending.
  scratch_.clear();
  double p = 0;
  for (const Entry& x : v)
    if (x.c != self && x.load > 0 && active(x)) {
      scratch_.push_back(x);
      p = std::max(p, x.busy);
    }
  if (scratch_.empty()) return C;
  if (busy != nullptr) *busy = p;
  for (Entry& x : scratch_) x.load /= p;
  std::sort(scratch_.begin(), scratch_.end(),
            [](const Entry& a, const Entry& b) { return a.load * b.flows < b.load * a.flows; });
  double residual = C, weight = std::max(0.0, own_flows);
  for (const Entry& x : scratch_) weight += x.flows;
  size_t i = 0;
  for (; i < scratch_.size(); ++i) {
    const Entry& x = scratch_[i];
    // Demand-limited when its per-flow rate is at most the level the rest would reach.
    if (x.load * weight <= residual * x.flows) {
      residual -= x.load;
      weight -= x.flows;
    } else {
      break;
    }
  }
  if (own_flows <= 0) return std::max(residual, C * 1e-9);
  const double level = weight > 0 ? residual / weight : residual;
  return std::max(own_flows * level, C * 1e-9);
}

double FabricLoad::flow_rate(ConsumerId self, const Stream& s) {
  const double n = std::max(1.0, s.flows);
  double rate = std::numeric_limits<double>::infinity();
  const RoutingPolicy pol = router_.any_policy() ? router_.policy(s.src) : RoutingPolicy::Ecmp;
  if (pol == RoutingPolicy::Spray || pol == RoutingPolicy::Adaptive) {
    // Sprayed: a flow has fraction f of itself on e, where its n flows weigh n f.
    if (!router_.spray(s.src, s.dst, path_, frac_)) return 0;
    for (size_t i = 0; i < path_.size(); ++i) rate = std::min(rate, share(path_[i], self, n * frac_[i]) / (n * frac_[i]));
    return std::isfinite(rate) ? rate : 0;
  }
  if (!router_.route(s.src, s.dst, collective_transfer_key(s.key_base, s.src, s.dst, 0), path_)) return 0;
  for (EdgeIndex e : path_) rate = std::min(rate, share(e, self, n) / n);
  return rate;
}

void FabricLoad::set_capacity_fraction(uint32_t link, double fraction) {
  if (!(fraction > 0 && fraction <= 1)) throw std::invalid_argument("link capacity fraction must be in (0, 1]");
  for (EdgeIndex e : {EdgeIndex{link} * 2, EdgeIndex{link} * 2 + 1}) {
    capacity_[e] = topo_.edge(e).bytes_per_s * fraction;
    mark_others(e, std::numeric_limits<ConsumerId>::max());
  }
}

double FabricLoad::load(EdgeIndex e) const {
  double s = 0;
  for (const Entry& x : on_edge_[e])
    if (active(x)) s += x.load;
  return s;
}

double FabricLoad::load_of(ConsumerId c, EdgeIndex e) const {
  for (const Entry& x : on_edge_[e])
    if (x.c == c) return active(x) ? x.load : 0.0;
  return 0;
}

}  // namespace fleetsim
