// SPDX-License-Identifier: Apache-2.0
// The shared-fabric ledger (fabric_load.hpp) and the aggregate shared costing (collective_load.hpp),
// checked against the flows mode: the same collectives and streams run on the FlowModel (max-min fair
// flows, the detailed fidelity) at the same time.
#include "models/network/collective_load.hpp"
#include "models/network/fabric_load.hpp"
#include "tests/models/network/network_fixtures.hpp"

#include <catch2/catch.hpp>

#include <cmath>
#include <memory>

using namespace fleetsim;
using namespace fleetsim::test;

namespace {

/// A job of the aggregate side: one collective run back to back (its step is the collective).
struct AggJob {
  std::vector<std::vector<VertexId>> groups;
  CollectiveSpec spec;
  CollectiveLoad load;
  ConsumerId id = 0;
  double time_s = 0;
};

/// Fixed point of the shared costing: every job costed against the others' average load, its own
/// load re-registered at its new pace, until nothing moves (Gauss-Seidel; symmetric cases settle in 2
/// rounds).
void settle(FabricLoad& ledger, std::vector<AggJob>& jobs, int rounds = 40) {
  for (int r = 0; r < rounds; ++r) {
    double moved = 0;
    for (AggJob& j : jobs) {
      const SharedCollectiveCost c = shared_collective_time(j.load, ledger, j.id, true);
      const double t = c.time.seconds();
      moved = std::max(moved, std::abs(t - j.time_s) / t);
      j.time_s = t;
      ledger.set_load(j.id, j.load.bytes_per_call() / t, flows_while_busy(c), c.busy_seconds / t, c.peak_flows);
    }
    if (moved < 1e-6) return;
  }
}

AggJob agg_job(Fabric& f, FabricLoad& ledger, std::vector<VertexId> ranks, CollectiveSpec s, const char* name) {
  AggJob j;
  j.groups.push_back(std::move(ranks));
  j.spec = s;
  j.load = collective_load(f.router, j.groups, s);
  REQUIRE(j.load.connected);
  j.id = ledger.add_consumer(name);
  return j;
}

/// The flows side: each job runs its collective `runs` times back to back on the flow model, while
/// `streams` (checkpoint writers) send for as long as the jobs run. Returns each job's mean collective
/// time over the runs in the middle (the first and last may overlap the others only partly).
std::vector<double> run_flows(Fabric& f, const std::vector<AggJob>& jobs, const std::vector<Stream>& streams, int runs = 6) {
  struct Live {
    std::unique_ptr<CollectiveRun> run;
    std::vector<double> times;
  };
  struct Ctx {
    Fabric& f;
    const std::vector<AggJob>& jobs;
    int runs;
    std::vector<Live> live;
    std::vector<FlowId> bg;
    size_t finished = 0;
    void start(size_t i) {
      live[i].run = std::make_unique<CollectiveRun>(f.flows, f.router, f.engine, jobs[i].groups[0], jobs[i].spec,
                                                    [this, i] { done(i); });
      live[i].run->start();
    }
    void done(size_t i) {
      live[i].times.push_back(live[i].run->elapsed().seconds());
      REQUIRE_FALSE(live[i].run->failed());
      // Restart from a fresh event: the run must not be destroyed inside its own callback.
      f.engine.schedule_in(Duration::zero(), Phase::Completion, [this, i] {
        if (static_cast<int>(live[i].times.size()) < runs) {
          start(i);
        } else if (++finished == jobs.size()) {
          for (FlowId b : bg) f.flows.abort(b);
        }
      });
    }
  } ctx{f, jobs, runs, std::vector<Live>(jobs.size()), {}};
  auto& live = ctx.live;
  auto& bg = ctx.bg;
  for (const Stream& s : streams)
    bg.push_back(f.flows.start(s.src, s.dst, 1e15, [] {}, collective_transfer_key(s.key_base, s.src, s.dst, 0)));
  for (size_t i = 0; i < jobs.size(); ++i) ctx.start(i);
  f.run();
  std::vector<double> mean;
  for (const Live& l : live) {
    REQUIRE(static_cast<int>(l.times.size()) == runs);
    double s = 0;
    for (int k = 1; k + 1 < runs; ++k) s += l.times[static_cast<size_t>(k)];
    mean.push_back(s / (runs - 2));
  }
  return mean;
}

std::vector<VertexId> every(const Fabric& f, uint32_t first, uint32_t stride, uint32_t n) {
  std::vector<VertexId> p;
  for (uint32_t i = 0; i < n; ++i) p.push_back(f.gpu(first + i * stride));
  return p;
}

}  // namespace

TEST_CASE("water-filling share: demand-limited consumers keep their load, elastic ones split the rest", "[network][fabric_load]") {
  // One link of 100 between two switches; consumers load it through streams across it.
  ClusterSpec c = tor_cluster(4, 4, 2);  // 2 leaves of 2 GPUs, 2 spines: leaf uplinks are single links
  Fabric f(c);
  FabricLoad ledger(f.topo, f.router);
  const ConsumerId a = ledger.add_consumer("a"), b = ledger.add_consumer("b"), me = ledger.add_consumer("me");
  // a: 10 GB/s over 1 flow (below any fair level), b: 40 GB/s over 1 flow.
  std::vector<Stream> sa{{f.gpu(0), f.gpu(2), 10e9, 1, 1, 7}}, sb{{f.gpu(0), f.gpu(2), 40e9, 1, 1, 7}};
  ledger.set_streams(a, sa);
  ledger.set_streams(b, sb);
  // The access link of GPU 0 (its only up-link) carries both: 50 GB/s of 50.
  std::vector<EdgeIndex> path;
  REQUIRE(f.router.route(f.gpu(0), f.gpu(2), collective_transfer_key(7, f.gpu(0), f.gpu(2), 0), path));
  const EdgeIndex e = path[0];
  CHECK(ledger.load(e) == Approx(50e9));
  CHECK(ledger.consumers_on(e) == 2);
  // Hand solution of n L + min(10, L) + min(40, L) = 50 (all GB/s):
  //   n = 1: L = 20 (a keeps 10, b is held to 20): me 20.   n = 2: 2L + 10 + L = 50: L = 13.33, me 26.7.
  CHECK(ledger.share(e, me, 1) == Approx(20e9));
  CHECK(ledger.share(e, me, 2) == Approx(80e9 / 3));
  // b itself sees only a: L + min(10, L) = 50 -> L = 40.
  CHECK(ledger.share(e, b, 1) == Approx(40e9));
  // Nobody else: the whole link.
  CHECK(ledger.share(path[0] ^ 1u, me, 3) == Approx(f.topo.edge(path[0] ^ 1u).bytes_per_s));
  // A flow of `me` along the same path: its first link is the tightest (share 20 for one flow).
  CHECK(ledger.flow_rate(me, Stream{f.gpu(0), f.gpu(2), 0, 1, 1, 7}) == Approx(20e9));
  // Changing a marks b (it shares the link), not a itself.
  ledger.clear_affected();
  sa[0].bytes_per_s = 5e9;
  ledger.set_streams(a, sa);
  REQUIRE(ledger.affected().size() == 1);
  CHECK(ledger.affected()[0] == b);
}

TEST_CASE("aggregate shared costing equals estimate_concurrent on an idle fabric", "[network][fabric_load]") {
  // Source of truth: estimate_concurrent (max-min per step pattern, drained as a fluid). The bottleneck
  // formula is exact for steps of equal flows; tolerance 1% for ring and hierarchical (latency
  // accounting differs by nanoseconds), 5% for all-to-all (the sampled shifts drain unevenly).
  ClusterSpec c = tor_cluster(32, 12, 2, 2.0);  // 2:1 at the leaf: 8 down, 4 up
  Fabric f(c);
  FabricLoad ledger(f.topo, f.router);
  const ConsumerId me = ledger.add_consumer("job");
  const auto cap = f.capacities();
  struct Case {
    CollectiveOp op;
    uint32_t channels;
    double tol;
  };
  for (Case k : {Case{CollectiveOp::AllReduce, 1, 0.01}, Case{CollectiveOp::AllReduce, 4, 0.01},
                 Case{CollectiveOp::AllGather, 2, 0.01}, Case{CollectiveOp::AllToAll, 1, 0.05},
                 Case{CollectiveOp::AllToAll, 4, 0.05}}) {
    CollectiveSpec s{.op = k.op, .algorithm = Algorithm::Ring, .bytes = 256e6, .alpha = Duration::us(5), .key_base = 3,
                     .channels = k.channels};
    // Two concurrent groups (GPU 2i and 2i+1 of every leaf), as the DP groups of one job.
    std::vector<std::vector<VertexId>> groups{every(f, 0, 2, 16), every(f, 1, 2, 16)};
    const CollectiveCost ref = estimate_concurrent(f.router, cap, groups, s);
    const SharedCollectiveCost got = shared_collective_time(collective_load(f.router, groups, s), ledger, me);
    INFO("op " << int(k.op) << " channels " << k.channels << ": flows " << ref.time.seconds() << " s, shared "
               << got.time.seconds() << " s");
    CHECK(got.time.seconds() == Approx(ref.time.seconds()).epsilon(k.tol));
  }
}

TEST_CASE("groups routed one by one and merged give the load of all groups routed together", "[network][fabric_load]") {
  // merge_loads (what SharedFabricCost builds a job's load from, so that a replaced host re-routes only
  // its groups) against collective_load over every group at once: four concurrent groups sharing the
  // 2:1 uplinks, each collective kind; equal link by link to rounding, and equal times on the ledger.
  ClusterSpec c = tor_cluster(32, 12, 2, 2.0);
  Fabric f(c);
  FabricLoad ledger(f.topo, f.router);
  const ConsumerId me = ledger.add_consumer("job");
  for (CollectiveOp op : {CollectiveOp::AllReduce, CollectiveOp::AllGather, CollectiveOp::AllToAll, CollectiveOp::PointToPoint}) {
    CollectiveSpec s{.op = op, .algorithm = Algorithm::Ring, .bytes = 64e6, .alpha = Duration::us(5), .key_base = 9, .channels = 2};
    std::vector<std::vector<VertexId>> groups{every(f, 0, 4, 8), every(f, 1, 4, 8), every(f, 2, 4, 8), every(f, 3, 4, 8)};
    const CollectiveLoad all = collective_load(f.router, groups, s);
    std::vector<CollectiveLoad> each;
    for (const auto& g : groups) each.push_back(collective_load(f.router, std::span(&g, 1), s));
    std::vector<const CollectiveLoad*> parts;
    for (const auto& l : each) parts.push_back(&l);
    const CollectiveLoad merged = merge_loads(parts);
    INFO("op " << int(op));
    REQUIRE(merged.patterns.size() == all.patterns.size());
    REQUIRE(all.patterns.size() > 0);
    for (size_t k = 0; k < all.patterns.size(); ++k) {
      const auto& a = all.patterns[k];
      const auto& m = merged.patterns[k];
      CHECK(m.steps == a.steps);
      CHECK(m.latency == a.latency);
      CHECK(m.present.nonZeros() == a.present.nonZeros());
      CHECK((LinkVector(m.bytes - a.bytes)).norm() <= 1e-9 * a.bytes.norm());
      CHECK((LinkVector(m.flows - a.flows)).norm() <= 1e-9 * a.flows.norm());
    }
    CHECK(shared_collective_time(merged, ledger, me).time.seconds() ==
          Approx(shared_collective_time(all, ledger, me).time.seconds()).epsilon(1e-9));
  }
}

TEST_CASE("shared fabric: two jobs on shared uplinks agree with the flows mode", "[network][fabric_load]") {
  // 32 single-GPU hosts, 8 leaves of 4, 4 spines (radix 8, 1:1). Job A rings over GPU 0 of every
  // leaf, job B over GPU 1: every ring hop leaves its leaf, so A's and B's flows meet on the leaf
  // uplinks (4 per leaf) and spine downlinks wherever ECMP puts them together. Reference: both jobs
  // running their all-reduces back to back on the FlowModel. Tolerance 10% (the bound).
  Fabric f(tor_cluster(32, 8, 2));
  FabricLoad ledger(f.topo, f.router);
  CollectiveSpec s{.op = CollectiveOp::AllReduce, .algorithm = Algorithm::Ring, .bytes = 400e6, .alpha = Duration::us(5),
                   .key_base = 11, .channels = 2};
  std::vector<AggJob> jobs;
  jobs.push_back(agg_job(f, ledger, every(f, 0, 4, 8), s, "A"));
  s.key_base = 12;
  jobs.push_back(agg_job(f, ledger, every(f, 1, 4, 8), s, "B"));
  const double alone = shared_collective_time(jobs[0].load, ledger, jobs[0].id).time.seconds();
  settle(ledger, jobs);
  const auto flows = run_flows(f, jobs, {});
  for (size_t i = 0; i < jobs.size(); ++i) {
    INFO("job " << i << ": alone " << alone << " s, shared aggregate " << jobs[i].time_s << " s, flows " << flows[i] << " s");
    CHECK(jobs[i].time_s == Approx(flows[i]).epsilon(0.10));
  }
  // The case must be able to fail: sharing costs something here (otherwise the check is vacuous).
  CHECK(jobs[0].time_s > 1.2 * alone);
}

namespace {

/// 28 single-GPU hosts on 7 leaves (radix 8: a spine port goes to storage), storage on the 4 spines
/// (4 x 50 GB/s), and a job that rings 400 MB over GPU 0 of every leaf.
struct RingBesideStorage {
  static ClusterSpec cluster() {
    ClusterSpec c = tor_cluster(28, 8, 2);
    c.storage_bytes_per_s = 4 * kPort;
    return c;
  }
  Fabric f{cluster()};
  VertexId storage = f.topo.storage(0).value();
  FabricLoad ledger{f.topo, f.router};
  CollectiveSpec spec{.op = CollectiveOp::AllReduce, .algorithm = Algorithm::Ring, .bytes = 400e6, .alpha = Duration::us(5),
                      .key_base = 21, .channels = 1};
  AggJob job = agg_job(f, ledger, every(f, 0, 4, 7), spec, "job");
  /// One writer per leaf, GPU `slot` of it, each streaming to storage at its NIC's rate.
  std::vector<Stream> writers(uint32_t slot) const {
    std::vector<Stream> w;
    for (uint32_t l = 0; l < 7; ++l) w.push_back({f.gpu(4 * l + slot), storage, kPort, 1, 1, 99});
    return w;
  }
};

}  // namespace

TEST_CASE("shared fabric: a checkpoint burst beside a training job agrees with the flows mode", "[network][fabric_load]") {
  // The job rings over GPU 0 of every leaf; 7 writers (GPU 2 of every leaf) stream a checkpoint to
  // storage as fast as their NIC allows (demand 50 GB/s each: elastic, held back only by the fabric).
  // Their flows and the ring's meet on leaf uplinks. Reference: FlowModel with both. Tolerance 10%.
  RingBesideStorage x;
  Fabric& f = x.f;
  FabricLoad& ledger = x.ledger;
  std::vector<AggJob> jobs{x.job};
  const double alone = shared_collective_time(jobs[0].load, ledger, jobs[0].id).time.seconds();
  const std::vector<Stream> ckpt = x.writers(2);
  const ConsumerId writer = ledger.add_consumer("checkpoint");
  REQUIRE(ledger.set_streams(writer, ckpt) == 0);
  settle(ledger, jobs);
  const auto flows = run_flows(f, jobs, ckpt);
  INFO("alone " << alone << " s, shared aggregate " << jobs[0].time_s << " s, flows " << flows[0] << " s");
  CHECK(jobs[0].time_s == Approx(flows[0]).epsilon(0.10));
  CHECK(jobs[0].time_s > 1.2 * alone);
}

TEST_CASE("shared fabric: all-to-all under 2:1 oversubscription agrees with the flows mode", "[network][fabric_load]") {
  // 32 single-GPU hosts, radix 12 at 2:1 (8 down, 4 up per leaf: 4 leaves). An expert-parallel
  // all-to-all over the even GPUs (16 ranks, 15 shifts) beside a ring all-reduce over the odd ones;
  // 3/4 of the all-to-all's traffic and every ring hop between leaves cross the oversubscribed uplinks.
  // Reference: FlowModel with both jobs, 1, 2 and 4 channels. Tolerance: 10% (the bound) for
  // both jobs. The ring is the hard one: each of its synchronous steps waits for its worst link, where
  // the all-to-all's hash collisions of that shift sit; the shared costing sees them as a per-link
  // distribution of the all-to-all's flow count (busy fraction, mean and peak while present). With a
  // two-point (present or not, at the mean) view it came out 18-30% optimistic; measured now: ring
  // +0.9 / +6.0 / -9.9%, all-to-all -1.9 / -2.1 / -1.1% for 1 / 2 / 4 channels.
  const uint32_t CH = GENERATE(1u, 2u, 4u);
  Fabric f(tor_cluster(32, 12, 2, 2.0));
  FabricLoad ledger(f.topo, f.router);
  std::vector<AggJob> jobs;
  CollectiveSpec a2a{.op = CollectiveOp::AllToAll, .algorithm = Algorithm::Ring, .bytes = 256e6, .alpha = Duration::us(5),
                     .key_base = 31, .channels = CH};
  jobs.push_back(agg_job(f, ledger, every(f, 0, 2, 16), a2a, "all-to-all"));
  CollectiveSpec ring{.op = CollectiveOp::AllReduce, .algorithm = Algorithm::Ring, .bytes = 128e6, .alpha = Duration::us(5),
                      .key_base = 32, .channels = CH};
  jobs.push_back(agg_job(f, ledger, every(f, 1, 2, 16), ring, "ring"));
  const double alone = shared_collective_time(jobs[0].load, ledger, jobs[0].id).time.seconds();
  settle(ledger, jobs);
  const auto flows = run_flows(f, jobs, {});
  INFO("channels " << CH << ": all-to-all alone " << alone << " s, shared aggregate " << jobs[0].time_s << " s, flows "
                   << flows[0] << " s; ring shared aggregate " << jobs[1].time_s << " s, flows " << flows[1] << " s");
  CHECK(jobs[0].time_s == Approx(flows[0]).epsilon(0.10));
  CHECK(jobs[0].time_s > 1.1 * alone);
  CHECK(jobs[1].time_s == Approx(flows[1]).epsilon(0.10));
}

TEST_CASE("re-costing after a link change touches only the jobs whose links changed", "[network][fabric_load]") {
  // 32 single-GPU hosts on 8 leaves (radix 8, 2 tiers). A rings over leaves 0-1, B over leaves 1-2
  // (it shares leaf 1's links with A), C over leaves 5-6 (no link in common with A or B). A leaf-spine
  // link on A's path fails: the ledger names A (and B only if it crosses that very link) to re-route;
  // after A's re-routed load is registered, the jobs to re-cost are those sharing a link with A's old
  // or new load. C is never recomputed. Counted recomputations are exact: this is bookkeeping.
  Fabric f(tor_cluster(32, 8, 2));
  FabricLoad ledger(f.topo, f.router);
  CollectiveSpec s{.op = CollectiveOp::AllReduce, .algorithm = Algorithm::Ring, .bytes = 100e6, .alpha = Duration::us(5),
                   .key_base = 41, .channels = 2};
  auto ranks = [&](uint32_t leaf_a, uint32_t leaf_b) {
    return std::vector<VertexId>{f.gpu(4 * leaf_a), f.gpu(4 * leaf_a + 1), f.gpu(4 * leaf_b + 2), f.gpu(4 * leaf_b + 3)};
  };
  std::vector<AggJob> jobs;
  jobs.push_back(agg_job(f, ledger, ranks(0, 1), s, "A"));
  jobs.push_back(agg_job(f, ledger, ranks(1, 2), s, "B"));
  jobs.push_back(agg_job(f, ledger, ranks(5, 6), s, "C"));
  settle(ledger, jobs);
  std::vector<uint64_t> recomputed(jobs.size(), 0);
  auto recost = [&](size_t i) {
    ++recomputed[i];
    const SharedCollectiveCost c = shared_collective_time(jobs[i].load, ledger, jobs[i].id, true);
    jobs[i].time_s = c.time.seconds();
    ledger.set_load(jobs[i].id, jobs[i].load.bytes_per_call() / jobs[i].time_s, flows_while_busy(c),
                    c.busy_seconds / jobs[i].time_s, c.peak_flows);
  };
  // A leaf-spine link carrying A.
  uint32_t link = UINT32_MAX;
  for (LinkVector::InnerIterator it(ledger.loads(jobs[0].id)); it; ++it)
    if (f.topo.edge(static_cast<EdgeIndex>(it.index())).kind == LinkKind::LeafSpine) {
      link = Router::link_of(static_cast<EdgeIndex>(it.index()));
      break;
    }
  REQUIRE(link != UINT32_MAX);
  REQUIRE(f.router.set_link_up(link, false));
  std::vector<ConsumerId> touched;
  ledger.touching(link, false, touched);
  REQUIRE(std::find(touched.begin(), touched.end(), jobs[0].id) != touched.end());
  CHECK(std::find(touched.begin(), touched.end(), jobs[2].id) == touched.end());
  for (ConsumerId c : touched) CHECK(ledger.load_of(c, 2 * link) + ledger.load_of(c, 2 * link + 1) > 0);
  // Re-route and re-cost the touched jobs, then whoever their moves affected, until it settles.
  ledger.clear_affected();
  std::vector<char> pending(jobs.size(), 0);
  for (ConsumerId c : touched) {
    jobs[c].load = collective_load(f.router, jobs[c].groups, jobs[c].spec);
    pending[c] = 1;
  }
  for (int round = 0; round < 8; ++round) {
    bool any = false;
    for (size_t i = 0; i < jobs.size(); ++i)
      if (pending[i]) {
        pending[i] = 0;
        recost(i);  // consumer ids are the job indices here (added in order)
        any = true;
      }
    for (ConsumerId c : ledger.affected()) pending[c] = 1;
    ledger.clear_affected();
    if (!any) break;
  }
  INFO("recomputations A " << recomputed[0] << ", B " << recomputed[1] << ", C " << recomputed[2]);
  CHECK(recomputed[0] >= 1);
  CHECK(recomputed[2] == 0);
  // The return: only consumers at the link's ends are candidates, and A is one of them.
  REQUIRE(f.router.set_link_up(link, true));
  touched.clear();
  ledger.touching(link, true, touched);
  CHECK(std::find(touched.begin(), touched.end(), jobs[0].id) != touched.end());
  CHECK(touched.size() <= jobs.size());
}

TEST_CASE("a stream consumer rescaled keeps its routes and equals the same streams set at the new rate", "[network][fabric_load]") {
  // A checkpoint whose interval changed: the same 7 writers to storage at 0.4x the rate and a new busy
  // fraction. rescale_streams must give every link what set_streams with the scaled streams gives
  // (load, flows and busy as another consumer sees them), without routing anything.
  ClusterSpec c = tor_cluster(28, 8, 2);
  c.storage_bytes_per_s = 4 * kPort;
  Fabric f(c);
  const auto storage = f.topo.storage(0);
  REQUIRE(storage);
  FabricLoad a(f.topo, f.router), b(f.topo, f.router);
  std::vector<Stream> ckpt;
  for (uint32_t l = 0; l < 7; ++l) ckpt.push_back({f.gpu(4 * l + 2), *storage, kPort, 2, 2, 99});
  const ConsumerId wa = a.add_consumer("checkpoint"), wb = b.add_consumer("checkpoint");
  const ConsumerId oa = a.add_consumer("other"), ob = b.add_consumer("other");
  REQUIRE(a.set_streams(wa, ckpt, 0.5) == 0);
  const uint64_t misses = f.router.route_cache_misses(), hits = f.router.route_cache_hits();
  a.rescale_streams(wa, 0.4, 0.2);
  CHECK(f.router.route_cache_misses() == misses);  // nothing routed
  CHECK(f.router.route_cache_hits() == hits);
  for (Stream& s : ckpt) s.bytes_per_s *= 0.4;
  REQUIRE(b.set_streams(wb, ckpt, 0.2) == 0);
  int links = 0;
  for (EdgeIndex e = 0; e < f.topo.directed_edges(); ++e) {
    CHECK(a.load(e) == Approx(b.load(e)).epsilon(1e-12));
    const FabricLoad::Others x = a.others(e, oa), y = b.others(e, ob);
    CHECK(x.busy == y.busy);
    CHECK(x.flows == y.flows);
    CHECK(x.load == Approx(y.load).epsilon(1e-12));
    links += b.load(e) > 0 ? 1 : 0;
  }
  CHECK(links >= 14);  // every writer's access link and a leaf uplink, at least
  // A non-positive factor is refused.
  CHECK_THROWS_AS(a.rescale_streams(wa, 0.0, 0.2), std::invalid_argument);
}

TEST_CASE("a job's own blocking checkpoint is not counted against its collectives", "[network][fabric_load]") {
  // The ring and the checkpoint writers of the test above, as one job's two consumers: its collectives
  // and its checkpoint writes. A blocking checkpoint stalls the job while it writes, so the ring never
  // meets those writes: costed with the checkpoint as `also`, the ring takes what it takes alone; an
  // asynchronous checkpoint's writes do meet it (no `also`): slower.
  RingBesideStorage x;
  const double alone = shared_collective_time(x.job.load, x.ledger, x.job.id).time.seconds();
  const ConsumerId own = x.ledger.add_consumer("job checkpoint");
  REQUIRE(x.ledger.set_streams(own, x.writers(0), 0.05) == 0);  // the ring's own GPUs
  CHECK(shared_collective_time(x.job.load, x.ledger, x.job.id, false, own).time.seconds() == Approx(alone).epsilon(1e-12));
  CHECK(shared_collective_time(x.job.load, x.ledger, x.job.id).time.seconds() > 1.01 * alone);
}
