// SPDX-License-Identifier: Apache-2.0
#include "models/network/collective_load.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

namespace fleetsim {

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
  const Topology& t = router.topology();
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
      // Latency: the longest path among the pattern's transfers (routes are cached by the router).
      std::vector<EdgeIndex> path;
      for (const Stream& s : streams) {
        Duration lat;
        if (router.route(s.src, s.dst, collective_transfer_key(s.key_base, s.src, s.dst, 0), path))
          for (EdgeIndex e : path) lat += t.edge(e).latency;
        cp.latency = std::max(cp.latency, lat);
      }
      out.patterns.push_back(std::move(cp));
    }
  }
  return out;
}

namespace {
// E[max] of independent link times, each t_on with probability p and t_off otherwise, above a sure
// floor `base`: base + integral over t > base of (1 - prod_e F_e(t)). Breakpoints are walked in order
// with the product kept as (count of zero factors, product of the others).
struct TwoPoint {
  double off, on, p;
};
struct Breakpoint {
  double t;
  uint32_t link;
  bool upper;  // false: t_off reached (factor 0 -> 1-p); true: t_on reached (factor -> 1)
};
// Coefficient-wise maximum of two sparse vectors (a merge of their sorted entries).
LinkVector max_of(const LinkVector& a, const LinkVector& b) {
  LinkVector out(a.size());
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

double expected_max(double base, std::vector<TwoPoint>& links, std::vector<Breakpoint>& bp) {
  bp.clear();
  uint32_t zeros = 0;
  double prod = 1;
  for (uint32_t i = 0; i < links.size(); ++i) {
    TwoPoint& l = links[i];
    l.off = std::max(l.off, base);
    if (l.on <= base) continue;
    if (l.off > base) {
      ++zeros;
      bp.push_back({l.off, i, false});
    } else {
      if (l.p >= 1) ++zeros; else prod *= 1 - l.p;
    }
    bp.push_back({l.on, i, true});
  }
  std::sort(bp.begin(), bp.end(), [](const Breakpoint& a, const Breakpoint& b) { return a.t < b.t; });
  double e = base, t = base;
  for (const Breakpoint& b : bp) {
    const double F = zeros > 0 ? 0.0 : prod;
    e += (1 - F) * (b.t - t);
    t = b.t;
    const TwoPoint& l = links[b.link];
    const bool sure = l.p >= 1;
    if (!b.upper) {  // factor 0 -> 1-p
      if (!sure) {
        --zeros;
        prod *= 1 - l.p;
      }
    } else {  // factor (1-p) -> 1, or 0 -> 1 when p = 1
      if (sure) --zeros; else prod /= 1 - l.p;
    }
  }
  return e;
}
}  // namespace

SharedCollectiveCost shared_collective_time(const CollectiveLoad& load, const FabricLoad& ledger, ConsumerId self,
                                            bool want_flow_seconds) {
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
  thread_local std::vector<TwoPoint> random;
  thread_local std::vector<Breakpoint> bp;
  double total = 0, latency = 0, worst_pattern = -1;
  c.bottleneck_bytes_per_s = std::numeric_limits<double>::infinity();
  for (const auto& p : load.patterns) {
    double sure = 0, rate = std::numeric_limits<double>::infinity();
    EdgeIndex at = 0;
    random.clear();
    LinkVector::InnerIterator f(p.flows);
    for (LinkVector::InnerIterator b(p.bytes); b; ++b) {
      const auto e = static_cast<EdgeIndex>(b.index());
      while (f && f.index() < b.index()) ++f;
      const double n = f && f.index() == b.index() ? f.value() : 1.0;
      double busy = 0;
      const double s = ledger.share(e, self, n, &busy);
      const double t = b.value() / s;
      if (busy > 0 && busy < 1) {
        random.push_back({b.value() / ledger.capacity(e), t, busy});
      } else if (t > sure) {
        sure = t;
        rate = s / n;
        at = e;
      }
    }
    // The sure bottleneck, then the expected maximum with the links others use part of the time.
    const double slowest = random.empty() ? sure : expected_max(sure, random, bp);
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
      c.peak_flows = max_of(c.peak_flows, p.flows);
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
