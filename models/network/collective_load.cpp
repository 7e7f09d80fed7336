// SPDX-License-Identifier: Apache-2.0
#include "models/network/collective_load.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

namespace fleetsim {

// Coefficient-wise maximum of two sparse vectors (a merge of their sorted entries).
LinkVector cwise_max(const LinkVector& a, const LinkVector& b) {
  LinkVector out(std::max(a.size(), b.size()));
  out.reserve(a.nonZeros() + b.nonZeros());
  LinkVector::InnerIterator x(a), y(b);
  while (x || y) {
    if (x && (!y || x.index() < y.index())) {
      out.insertBack(x.index()) = x.value();
      ++x;
    } else if (y && (!x || y.index() < x.index())) {
      out.insertBack(y.index()) = y.value();
      ++y;
    } else {
      out.insertBack(x.index()) = std::max(x.value(), y.value());
      ++x;
      ++y;
    }
  }
  return out;
}

LinkVector flows_while_busy(const SharedCollectiveCost& c) {
  LinkVector out = c.flow_seconds;
  LinkVector::InnerIterator b(c.busy_seconds);
  for (LinkVector::InnerIterator it(out); it; ++it) {
    while (b && b.index() < it.index()) ++b;
    const double busy = b && b.index() == it.index() ? b.value() : 0.0;
    it.valueRef() = busy > 0 ? it.value() / busy : 0.0;
  }
  return out;
}

LinkVector CollectiveLoad::bytes_per_call() const {
  LinkVector sum(edges);
  for (const auto& p : patterns) sum += p.steps * p.bytes;
  return sum;
}

CollectiveLoad collective_load(Router& router, std::span<const std::vector<VertexId>> placements,
                               const CollectiveSpec& spec) {
  if (spec.channels == 0) throw std::invalid_argument("collective channels must be at least 1");
  CollectiveLoad out;
  out.alpha = spec.alpha;
  out.edges = router.topology().directed_edges();
  std::vector<CollectivePlan> plans;
  plans.reserve(placements.size());
  for (const auto& p : placements) plans.emplace_back(p, spec, router);
  if (plans.empty()) return out;
  const CollectivePlan& plan = plans[0];
  out.steps = plan.steps();
  std::vector<Stream> streams;
  std::vector<Transfer> one;
  for (const auto& ph : plan.phases()) {
    // The patterns standing for this phase: one for a uniform phase, else every step or an even sample.
    std::vector<uint32_t> sample;
    if (ph.same_pattern) {
      sample.push_back(ph.first_step);
    } else if (ph.steps <= kCollectiveSampledSteps) {
      for (uint32_t k = 0; k < ph.steps; ++k) sample.push_back(ph.first_step + k);
    } else {
      for (uint32_t j = 0; j < kCollectiveSampledSteps; ++j)
        sample.push_back(ph.first_step + static_cast<uint32_t>(uint64_t{ph.steps - 1} * j / (kCollectiveSampledSteps - 1)));
    }
    for (uint32_t k : sample) {
      streams.clear();
      for (const auto& p : plans) {
        p.step(k, one);
        // Each transfer is a stream of its bytes (the "rate" of one step) over spec.channels flows.
        for (const Transfer& tr : one)
          streams.push_back({tr.src, tr.dst, tr.bytes, static_cast<double>(spec.channels), spec.channels, spec.key_base});
      }
      const RoutedStreams r = route_streams(router, streams);
      if (r.unrouted > 0) {
        out.connected = false;
        out.patterns.clear();
        return out;
      }
      Eigen::VectorXd bytes(static_cast<Eigen::Index>(streams.size())), flows(static_cast<Eigen::Index>(streams.size()));
      for (size_t i = 0; i < streams.size(); ++i) {
        bytes[static_cast<Eigen::Index>(i)] = streams[i].bytes_per_s;
        flows[static_cast<Eigen::Index>(i)] = streams[i].bytes_per_s > 0 ? streams[i].flows : 0.0;
      }
      CollectivePattern cp;
      cp.steps = static_cast<double>(ph.steps) / static_cast<double>(sample.size());
      cp.bytes = r.apply(bytes, out.edges);
      cp.flows = r.apply(flows, out.edges);
      cp.present = cp.bytes;
      for (LinkVector::InnerIterator it(cp.present); it; ++it) it.valueRef() = 1.0;
      // Latency: the longest path latency among the pattern's transfers (channel 0's route of each,
      // summed while route_streams walked it, not routed again).
      for (Duration lat : r.latency) cp.latency = std::max(cp.latency, lat);
      out.patterns.push_back(std::move(cp));
    }
  }
  return out;
}

CollectiveLoad merge_loads(std::span<const CollectiveLoad* const> parts) {
  CollectiveLoad out;
  if (parts.empty()) return out;
  const CollectiveLoad& first = *parts.front();
  out.alpha = first.alpha;
  out.steps = first.steps;
  out.edges = first.edges;
  for (const CollectiveLoad* p : parts) {
    if (p->connected) continue;
    out.connected = false;  // as collective_load: no patterns when any transfer has no route
    return out;
  }
  for (const CollectiveLoad* p : parts)
    if (p->patterns.size() != first.patterns.size() || p->edges != first.edges)
      throw std::invalid_argument("merge_loads: the groups' collectives do not line up");
  // Summed in a dense scratch over the links the parts touch, then written out sorted: adding the
  // parts' sparse vectors one by one re-merges the growing sum each time (quadratic in the groups).
  // The scratch lives across calls (a merge touches a few links of a fabric with millions; clearing
  // the whole of it per call would cost more than the merge) and is left all zero after each.
  thread_local std::vector<double> bytes, flows;
  thread_local std::vector<char> seen;
  thread_local std::vector<int> touched;
  if (bytes.size() < first.edges) {
    bytes.resize(first.edges, 0.0);
    flows.resize(first.edges, 0.0);
    seen.resize(first.edges, 0);
  }
  out.patterns.resize(first.patterns.size());
  for (size_t k = 0; k < out.patterns.size(); ++k) {
    CollectivePattern& cp = out.patterns[k];
    cp.steps = first.patterns[k].steps;
    touched.clear();
    for (const CollectiveLoad* p : parts) {
      const CollectivePattern& q = p->patterns[k];
      cp.latency = std::max(cp.latency, q.latency);
      for (LinkVector::InnerIterator it(q.bytes); it; ++it) {
        if (!seen[static_cast<size_t>(it.index())]) {
          seen[static_cast<size_t>(it.index())] = 1;
          touched.push_back(it.index());
        }
        bytes[static_cast<size_t>(it.index())] += it.value();
      }
      for (LinkVector::InnerIterator it(q.flows); it; ++it) {
        if (!seen[static_cast<size_t>(it.index())]) {
          seen[static_cast<size_t>(it.index())] = 1;
          touched.push_back(it.index());
        }
        flows[static_cast<size_t>(it.index())] += it.value();
      }
    }
    std::sort(touched.begin(), touched.end());
    cp.bytes = LinkVector(first.edges);
    cp.flows = LinkVector(first.edges);
    cp.present = LinkVector(first.edges);
    cp.bytes.reserve(static_cast<Eigen::Index>(touched.size()));
    cp.flows.reserve(static_cast<Eigen::Index>(touched.size()));
    cp.present.reserve(static_cast<Eigen::Index>(touched.size()));
    for (const int e : touched) {
      const size_t i = static_cast<size_t>(e);
      cp.bytes.insertBack(e) = bytes[i];
      cp.flows.insertBack(e) = flows[i];
      cp.present.insertBack(e) = 1.0;
      bytes[i] = flows[i] = 0;
      seen[i] = 0;
    }
  }
  return out;
}

void GroupedLoad::assign(std::vector<CollectiveLoad> groups) {
  groups_ = std::move(groups);
  full_merge();
}

void GroupedLoad::full_merge() {
  ++full_;
  since_full_ = 0;
  std::vector<const CollectiveLoad*> parts;
  parts.reserve(groups_.size());
  for (const auto& g : groups_) parts.push_back(&g);
  merged_ = merge_loads(parts);
  count_.assign(merged_.patterns.size(), LinkVector());
  if (merged_.patterns.empty()) return;
  // Groups per link, over the union of each group's bytes and flows links (merge_loads' sparsity).
  thread_local std::vector<double> cnt;
  if (cnt.size() < merged_.edges) cnt.resize(merged_.edges, 0.0);
  for (size_t k = 0; k < merged_.patterns.size(); ++k) {
    for (const auto& g : groups_) {
      const CollectivePattern& q = g.patterns[k];
      LinkVector::InnerIterator b(q.bytes), f(q.flows);
      while (b || f) {
        if (b && (!f || b.index() <= f.index())) {
          if (f && f.index() == b.index()) ++f;
          cnt[static_cast<size_t>(b.index())] += 1;
          ++b;
        } else {
          cnt[static_cast<size_t>(f.index())] += 1;
          ++f;
        }
      }
    }
    LinkVector& c = count_[k];
    c = merged_.patterns[k].present;
    for (LinkVector::InnerIterator it(c); it; ++it) {
      it.valueRef() = cnt[static_cast<size_t>(it.index())];
      cnt[static_cast<size_t>(it.index())] = 0;
    }
  }
}

void GroupedLoad::replace(std::span<const size_t> index, std::vector<CollectiveLoad> loads) {
  if (index.size() != loads.size()) throw std::invalid_argument("GroupedLoad::replace: one load per index");
  bool full = !merged_.connected || ++since_full_ >= kFullMergeEvery;
  for (const CollectiveLoad& l : loads)
    if (!l.connected || l.patterns.size() != merged_.patterns.size() || l.edges != merged_.edges) full = true;
  if (full) {
    for (size_t j = 0; j < index.size(); ++j) groups_.at(index[j]) = std::move(loads[j]);
    full_merge();
    return;
  }
  ++deltas_;
  // The difference on the links the old and new groups touch, in a dense scratch left all zero after.
  thread_local std::vector<double> db, df, dc;
  thread_local std::vector<char> seen;
  thread_local std::vector<int> touched;
  thread_local std::vector<Eigen::Index> at;
  if (db.size() < merged_.edges) {
    db.resize(merged_.edges, 0.0);
    df.resize(merged_.edges, 0.0);
    dc.resize(merged_.edges, 0.0);
    seen.resize(merged_.edges, 0);
  }
  auto add = [&](const CollectivePattern& q, double sign) {
    LinkVector::InnerIterator b(q.bytes), f(q.flows);
    while (b || f) {
      int e;
      double vb = 0, vf = 0;
      if (b && (!f || b.index() <= f.index())) {
        e = b.index();
        vb = b.value();
        if (f && f.index() == e) {
          vf = f.value();
          ++f;
        }
        ++b;
      } else {
        e = f.index();
        vf = f.value();
        ++f;
      }
      const auto i = static_cast<size_t>(e);
      if (!seen[i]) {
        seen[i] = 1;
        touched.push_back(e);
      }
      db[i] += sign * vb;
      df[i] += sign * vf;
      dc[i] += sign;
    }
  };
  for (size_t k = 0; k < merged_.patterns.size(); ++k) {
    CollectivePattern& cp = merged_.patterns[k];
    LinkVector& cnt = count_[k];
    touched.clear();
    for (size_t j = 0; j < index.size(); ++j) {
      add(groups_.at(index[j]).patterns[k], -1.0);
      add(loads[j].patterns[k], 1.0);
    }
    std::sort(touched.begin(), touched.end());
    // In place when every touched link stays on the merged load with at least one group.
    const Eigen::Index n = cp.bytes.nonZeros();
    const int* idx = cp.bytes.innerIndexPtr();
    bool in_place = true;
    at.clear();
    for (const int e : touched) {
      const auto i = static_cast<size_t>(e);
      if (dc[i] == 0 && db[i] == 0 && df[i] == 0) {
        at.push_back(-1);  // no change here
        continue;
      }
      const int* p = std::lower_bound(idx, idx + n, e);
      if (p == idx + n || *p != e || cnt.valuePtr()[p - idx] + dc[i] <= 0) {
        in_place = false;
        break;
      }
      at.push_back(p - idx);
    }
    if (in_place) {
      for (size_t t = 0; t < touched.size(); ++t) {
        if (at[t] < 0) continue;
        const auto i = static_cast<size_t>(touched[t]);
        cp.bytes.valuePtr()[at[t]] = std::max(0.0, cp.bytes.valuePtr()[at[t]] + db[i]);
        cp.flows.valuePtr()[at[t]] = std::max(0.0, cp.flows.valuePtr()[at[t]] + df[i]);
        cnt.valuePtr()[at[t]] += dc[i];
      }
    } else {
      // Links come or go: one merge of the sorted entries with the sorted difference.
      LinkVector nb(merged_.edges), nf(merged_.edges), np(merged_.edges), nc(merged_.edges);
      const Eigen::Index cap = n + static_cast<Eigen::Index>(touched.size());
      nb.reserve(cap);
      nf.reserve(cap);
      np.reserve(cap);
      nc.reserve(cap);
      Eigen::Index a = 0;
      size_t t = 0;
      auto put = [&](int e, double b, double f, double c) {
        nb.insertBack(e) = std::max(0.0, b);
        nf.insertBack(e) = std::max(0.0, f);
        np.insertBack(e) = 1.0;
        nc.insertBack(e) = c;
      };
      while (a < n || t < touched.size()) {
        if (t == touched.size() || (a < n && idx[a] < touched[t])) {
          put(idx[a], cp.bytes.valuePtr()[a], cp.flows.valuePtr()[a], cnt.valuePtr()[a]);
          ++a;
        } else {
          const int e = touched[t];
          const auto i = static_cast<size_t>(e);
          if (a < n && idx[a] == e) {
            const double c = cnt.valuePtr()[a] + dc[i];
            if (c > 0) put(e, cp.bytes.valuePtr()[a] + db[i], cp.flows.valuePtr()[a] + df[i], c);
            ++a;
          } else if (dc[i] > 0) {
            put(e, db[i], df[i], dc[i]);
          }
          ++t;
        }
      }
      cp.bytes = std::move(nb);
      cp.flows = std::move(nf);
      cp.present = std::move(np);
      cnt = std::move(nc);
    }
    for (const int e : touched) {
      const auto i = static_cast<size_t>(e);
      db[i] = df[i] = dc[i] = 0;
      seen[i] = 0;
    }
  }
  for (size_t j = 0; j < index.size(); ++j) groups_[index[j]] = std::move(loads[j]);
  // A pattern's latency is the longest of its groups' (one pass over the groups, no links).
  for (size_t k = 0; k < merged_.patterns.size(); ++k) {
    Duration lat;
    for (const auto& g : groups_) lat = std::max(lat, g.patterns[k].latency);
    merged_.patterns[k].latency = lat;
  }
}

namespace {
// E[max] of independent link times. Each random link has values t_0 < t_1 < ... with cumulative
// probabilities c_0 <= c_1 <= ... = 1; `base` is a sure floor (the slowest link nobody else uses part
// of the time). E[max] = base + integral over t > base of (1 - prod_e F_e(t)), walked over the sorted
// breakpoints with the product kept as (count of zero factors, product of the others).
struct Point {
  double t, cum;
  uint32_t link;
};
double expected_max(double base, std::vector<Point>& pts, std::vector<double>& cur, uint32_t links) {
  cur.assign(links, 0.0);
  uint32_t zeros = links;
  double prod = 1;
  // Values at or below the floor count from the start.
  for (const Point& p : pts)
    if (p.t <= base && p.cum > cur[p.link]) {
      if (cur[p.link] == 0) --zeros; else prod /= cur[p.link];
      cur[p.link] = p.cum;
      prod *= p.cum;
    }
  std::erase_if(pts, [&](const Point& p) { return p.t <= base; });
  std::sort(pts.begin(), pts.end(), [](const Point& a, const Point& b) { return a.t < b.t; });
  double e = base, t = base;
  for (const Point& p : pts) {
    const double F = zeros > 0 ? 0.0 : prod;
    e += (1 - F) * (p.t - t);
    t = p.t;
    if (p.cum <= cur[p.link]) continue;
    if (cur[p.link] == 0) --zeros; else prod /= cur[p.link];
    cur[p.link] = p.cum;
    prod *= p.cum;
  }
  return e;
}

// Binomial(n, q) probability of k.
double binomial(uint32_t n, double q, uint32_t k) {
  double c = 1;
  for (uint32_t i = 0; i < k; ++i) c = c * (n - i) / (i + 1);
  return c * std::pow(q, k) * std::pow(1 - q, n - k);
}
}  // namespace

SharedCollectiveCost shared_collective_time(const CollectiveLoad& load, const FabricLoad& ledger, ConsumerId self,
                                            bool want_flow_seconds, ConsumerId also) {
  SharedCollectiveCost c;
  if (!load.connected) {
    c.time = Duration::max();
    return c;
  }
  if (want_flow_seconds) {
    c.peak_flows.resize(load.edges);
    c.flow_seconds.resize(load.edges);
    c.busy_seconds.resize(load.edges);
  }
  // Scratch reused across calls (no allocation per re-cost once grown); one costing at a time per thread.
  thread_local std::vector<Point> pts;
  thread_local std::vector<double> cur;
  double total = 0, latency = 0, worst_pattern = -1;
  c.bottleneck_bytes_per_s = std::numeric_limits<double>::infinity();
  for (const auto& p : load.patterns) {
    double sure = 0, rate = std::numeric_limits<double>::infinity();
    EdgeIndex at = 0;
    pts.clear();
    uint32_t random_links = 0;
    LinkVector::InnerIterator f(p.flows);
    for (LinkVector::InnerIterator b(p.bytes); b; ++b) {
      const auto e = static_cast<EdgeIndex>(b.index());
      while (f && f.index() < b.index()) ++f;
      const double n = f && f.index() == b.index() ? f.value() : 1.0;
      const double C = ledger.capacity(e);
      const FabricLoad::Others o = ledger.others(e, self, also);
      if (o.busy <= 0) {
        if (b.value() / C > sure) {
          sure = b.value() / C;
          rate = C / n;
          at = e;
        }
        continue;
      }
      // While the others send they have K flows here, 1 + Binomial(P - 1, q) with P their peak and
      // mean m [A: their count varies between 1 and P from pattern to pattern, mean kept]; each of
      // their flows wants d = load / m. With k of them, weighted max-min gives us C - k d when d fits
      // under the level (d (n + k) <= C), else n C / (n + k).
      const auto P = static_cast<uint32_t>(std::max(1.0, std::round(o.peak)));
      const double m = std::clamp(o.flows, 1.0, static_cast<double>(P));
      const double q = P > 1 ? (m - 1) / (P - 1) : 0.0;
      const double d = o.load / m;
      const double off = 1 - o.busy;
      auto time_with = [&](uint32_t k) {
        const double share = d * (n + k) <= C ? C - k * d : n * C / (n + k);
        return b.value() / std::max(share, C * 1e-9);
      };
      const bool single = (q <= 0 || q >= 1) && o.busy >= 1;
      if (single) {
        const uint32_t k = q >= 1 ? P : 1;
        const double t = time_with(k);
        if (t > sure) {
          sure = t;
          rate = b.value() / t / n;
          at = e;
        }
        continue;
      }
      const uint32_t link = random_links++;
      double cum = off;
      if (off > 0) pts.push_back({b.value() / C, cum, link});
      for (uint32_t k = 1; k <= P; ++k) {
        cum += o.busy * binomial(P - 1, q, k - 1);
        pts.push_back({time_with(k), k == P ? 1.0 : std::min(1.0, cum), link});
      }
    }
    const double slowest = random_links == 0 ? sure : expected_max(sure, pts, cur, random_links);
    const double lat = load.alpha.seconds() + p.latency.seconds();
    const double pattern_s = lat + slowest;
    total += p.steps * pattern_s;
    latency += p.steps * lat;
    if (slowest > worst_pattern) {
      worst_pattern = slowest;
      c.bottleneck = at;
    }
    c.bottleneck_bytes_per_s = std::min(c.bottleneck_bytes_per_s, rate);
    if (want_flow_seconds) {
      c.peak_flows = cwise_max(c.peak_flows, p.flows);
      c.flow_seconds += (p.steps * pattern_s) * p.flows;
      c.busy_seconds += (p.steps * pattern_s) * p.present;
    }
  }
  if (!std::isfinite(c.bottleneck_bytes_per_s)) c.bottleneck_bytes_per_s = 0;
  c.time = Duration::from_seconds(total);
  c.latency_s = latency;
  return c;
}

}  // namespace fleetsim
