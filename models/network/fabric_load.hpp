// SPDX-License-Identifier: Apache-2.0
// FabricLoad: the shared-fabric ledger. Every consumer of a fabric (a training job's collectives, P/D
// KV-cache transfers, cross-region failover traffic on the WAN, checkpoint writes to storage) registers
// the load it puts on the directed links; a consumer's communication is then costed against what all
// the OTHERS put on the links it crosses (docs/network.md, "One fabric carries all traffic").
//
//   FabricLoad ledger(topo, router);
//   ConsumerId kv = ledger.add_consumer("inference/chat kv");
//   std::vector<Stream> s{{.src = prefill_gpu, .dst = decode_gpu, .bytes_per_s = 2e9, .flows = 1}};
//   ledger.set_streams(kv, s);                       // routed with ECMP, summed into the links
//   ledger.affected();                               // consumers whose links' load changed
//   double c = ledger.share(e, job, 8);              // what a job with 8 flows on e gets there
//
// Two kinds of consumers, one ledger:
//   streams     a traffic matrix of (src, dst, average bytes/s, concurrent flows): routed here, each
//               stream's `channels` flows by the collectives' ECMP keys (collective_transfer_key), into a
//               sparse routing matrix R (used links x streams, R(e, k) = share of stream k's bytes on e);
//               link load = R x rates and link flows = R x flows (Eigen sparse products). A routing change
//               re-routes; a rate change is one product.
//   pre-routed  a consumer that routes its own traffic (a training job: CollectiveLoad, collective_load.hpp)
//               hands in its per-link average load and time-averaged flow count.
// Loads are averages over the consumer's own cycle (a training step, a checkpoint interval, an hour of
// requests), with the fraction of that cycle the consumer is busy on each link: a job's collective
// meets the others either sending (at their load / busy) or not, independently of its own phase [A].
//
// Sharing rule (weighted max-min, "water-filling", per link). A link of capacity C carries the consumer
// being costed with n flows and every other consumer o with average load a_o over w_o (time-averaged)
// flows. Flows share the link max-min fairly, as the flow model's (and RoCE/TCP's) per-flow fairness
// does: every flow gets the same level L unless its consumer needs less; consumer o is held to its
// demand a_o. L solves  n L + sum_o min(a_o, w_o L) = C,  and the costed consumer gets n L. A consumer
// whose flows run at a_o / w_o below L keeps its load; an elastic one (a job that would go faster) is
// held to w_o L. With no one else there, the consumer gets C. The job's time on a link is its bytes
// there over that share, and its slowest link (the bottleneck) sets each step (collective_load.hpp).
// Others that send only part of the time (busy p < 1) are on the link with probability p, at their
// load / p, and their flow count there varies between 1 and its peak around its mean (others(): busy,
// load, mean and peak flows while sending): the link's time for the job is a random variable, and a
// synchronous step lasts the expected maximum over its links (collective_load.hpp), which is what a
// ring meeting an all-to-all's moving hash collisions sees.
//
// Routing policies (routing_policy.hpp): ecmp and pinned route each channel by Router::route; spray and
// adaptive spread a stream over its equal-cost DAG with Router::spray's fractions (adaptive as spray:
// see route_streams).
//
// Index: per directed link, the consumers with load on it (link -> consumers), so a change of one
// consumer marks only the consumers sharing a link with it (affected()), and a link failure or return
// touches only the consumers routed at that link's ends (touching()).
//
// Cost: memory O(sum over consumers of the links they load); set_streams O(streams x path length);
// share O(consumers on the link). No allocation in share() (scratch members are reused).
#pragma once

#include "models/network/routing.hpp"
#include "models/network/topology.hpp"

#include <Eigen/SparseCore>

#include <array>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

namespace fleetsim {

using ConsumerId = uint32_t;
/// No consumer (an `also` that excludes nobody).
inline constexpr ConsumerId kNoConsumer = UINT32_MAX;
/// A value per directed edge (EdgeIndex), sparse: a consumer's load touches few of a fabric's links.
using LinkVector = Eigen::SparseVector<double>;

/// One entry of a traffic matrix.
struct Stream {
  VertexId src = 0, dst = 0;
  double bytes_per_s = 0;  ///< average over the consumer's cycle
  double flows = 1;        ///< concurrent flows while it sends (time-averaged); > 0 when bytes_per_s > 0
  uint32_t channels = 1;   ///< ECMP paths it is spread over (NCCL channels, parallel TCP connections)
  uint64_t key_base = 0;   ///< mixed into the ECMP keys (collective_transfer_key)
};

/// Sparse ECMP routing of streams on the fabric as it is: R(l, k) = fraction of stream k on used link l,
/// `links[l]` the directed edge of row l (sorted). Streams without a route have an empty column.
struct RoutedStreams {
  std::vector<EdgeIndex> links;
  Eigen::SparseMatrix<double> routing;  // links.size() x streams
  uint32_t unrouted = 0;
  /// Per stream: the latency of its channel-0 ECMP route (zero without a route), as one transfer of it
  /// sees it (what collective_load takes the pattern's latency from, without routing it again).
  std::vector<Duration> latency;
  /// R x v as a LinkVector of `edges` entries (v: one value per stream).
  LinkVector apply(const Eigen::VectorXd& v, uint32_t edges) const;
};
RoutedStreams route_streams(Router& router, std::span<const Stream> streams);

class FabricLoad {
 public:
  FabricLoad(const Topology& topo, Router& router);

  ConsumerId add_consumer(std::string name);
  size_t consumers() const { return consumers_.size(); }
  const std::string& name(ConsumerId c) const { return consumers_[c].name; }

  /// Replaces consumer c's traffic by `streams` (routed now), sent `busy` of the time (in (0, 1]: a
  /// checkpoint writes for its write time of every interval; rates are averages over the whole time).
  /// Returns the streams that had no route (left out: a partition). Throws std::invalid_argument on a
  /// negative rate, a stream with load and no flows, or busy outside (0, 1].
  uint32_t set_streams(ConsumerId c, std::span<const Stream> streams, double busy = 1.0);
  /// Consumer c's streams with every rate times `factor` (> 0) and sent `busy` of the time, on the
  /// routes they have: set_streams with the scaled streams, without routing them again (a checkpoint
  /// whose interval changed writes the same shards to the same storage; the ledger keeps its routes
  /// current through reroute). As set_streams when c is not an active stream consumer.
  void rescale_streams(ConsumerId c, double factor, double busy);
  /// Replaces consumer c's traffic by pre-routed link loads (bytes/s, averaged over its whole cycle),
  /// the flows it has on each link while it sends there (mean), the fraction of time it sends there
  /// (`busy`, in (0, 1]; empty: always, a steady stream) and the most flows it ever has there (`peak`;
  /// empty: the mean). All have the same sparsity.
  void set_load(ConsumerId c, const LinkVector& bytes_per_s, const LinkVector& flows, const LinkVector& busy = {},
                const LinkVector& peak = {});

  /// Everyone but `self` (and `also`, when given) on directed edge e, while they send: with probability
  /// `busy` (the largest of theirs) they put `load` bytes/s (their mean load over that time) over
  /// `flows` flows on average and `peak` at most. busy 0: nobody else there.
  struct Others {
    double busy = 0, load = 0, flows = 0, peak = 0;
  };
  Others others(EdgeIndex e, ConsumerId self, ConsumerId also = kNoConsumer) const;
  /// Removes consumer c's traffic (it stopped).
  void clear(ConsumerId c);
  /// Takes consumer c's traffic off the fabric but keeps its registration: to everyone else (shares,
  /// loads, on_load_change, affected, touching) it is as if cleared; resume() puts the same traffic back
  /// without routing or merging anything (a training job stopped by an interruption that restarts on
  /// the same hosts at the same pace). set_load, set_streams or clear on a suspended consumer apply as
  /// onto a cleared one (and leave it active). Cost: O(consumers) to mark the others (a count of shared links per pair of consumers), plus
  /// one pass over its links when on_load_change is set.
  void suspend(ConsumerId c);
  void resume(ConsumerId c);
  bool suspended(ConsumerId c) const { return suspended_[c] != 0; }
  /// Marks an active consumer idle (registered, but not sending for now: a training job stopped within
  /// its hold, SharedFabricCost) or sending again. To everyone's costing it stays on the fabric, as do
  /// its per-link loads (on_load_change); only its load per link kind is taken off through
  /// on_kind_load_change while it is idle, so that the class utilization counts what is sent. O(kinds).
  /// Ended first by suspend, set_load, set_streams and clear; ignored on a suspended consumer.
  void set_idle(ConsumerId c, bool idle);
  bool idle(ConsumerId c) const { return consumers_[c].idle; }
  /// Changes of the others' entries or of capacity on links where consumer c has an entry (suspended or
  /// not): while it stays the same, so does anything c's costing read from the ledger on its own links.
  uint64_t disturbed(ConsumerId c) const { return disturbed_[c]; }
  /// Changes of c's own registration (set_load, set_streams, clear, reroute; not suspend/resume).
  uint64_t version(ConsumerId c) const { return version_[c]; }

  /// Re-routes the stream consumers among `which` (after the router's state changed); pre-routed
  /// consumers are the caller's to re-route.
  void reroute(std::span<const ConsumerId> which);
  /// The consumers whose routes a change of physical link `link` can move, appended to `out`
  /// (deduplicated). A failure: those with load on the link (either direction); the others keep their
  /// routes, as the flow model keeps the flows that do not cross it. A return: those with load on any
  /// link at either end of it [A: in a Clos every route that could take a returning link already passes
  /// one of its ends; docs/network.md].
  void touching(uint32_t link, bool up, std::vector<ConsumerId>& out);
  bool is_stream_consumer(ConsumerId c) const { return consumers_[c].streams_set; }

  /// Consumers whose links' load was changed by another consumer since the last clear_affected().
  const std::vector<ConsumerId>& affected() const { return affected_; }
  void clear_affected();

  /// Capacity consumer `self` gets on directed edge e when it puts `own_flows` flows there, given every
  /// other consumer's load (the sharing rule above), while the others send; `busy` (optional) gets the
  /// fraction of time they do (the largest of theirs; 1 for steady streams). The rest of the time the
  /// consumer has the whole link.
  double share(EdgeIndex e, ConsumerId self, double own_flows, double* busy = nullptr) const;
  double capacity(EdgeIndex e) const { return capacity_[e]; }
  /// The rate one flow of `s` would get now, sent by consumer `self` with s.flows flows on its path
  /// (channel 0's ECMP route): the least per-flow share over the path's links, while the others send.
  /// 0 when it has no route. What a P/D KV transfer or a failover request sees on a loaded fabric.
  double flow_rate(ConsumerId self, const Stream& s);
  /// A link degraded to a fraction of nominal (both directions); marks its consumers affected.
  void set_capacity_fraction(uint32_t link, double fraction);
  /// Total load on a directed edge (bytes/s) and consumers with load there.
  double load(EdgeIndex e) const;
  size_t consumers_on(EdgeIndex e) const;
  /// Consumer c's load on e (bytes/s).
  double load_of(ConsumerId c, EdgeIndex e) const;
  const LinkVector& loads(ConsumerId c) const { return consumers_[c].load; }
  uint32_t edges() const { return static_cast<uint32_t>(capacity_.size()); }
  /// Changes of consumers' traffic so far (set_streams, set_load, clear, reroute).
  uint64_t updates() const { return updates_; }
  /// Told of every change of a directed edge's total load (bytes/s, new minus old), as it happens: the
  /// flow model's per-link utilization counts the ledger's loads through it (models/world/world.cpp).
  std::function<void(EdgeIndex, double)> on_load_change;
  /// Told when an idle spell starts or ends (set_idle): a link kind's total load moves by the idle
  /// consumer's load on links of that kind (bytes/s, new minus old).
  std::function<void(LinkKind, double)> on_kind_load_change;

 private:
  struct Entry {
    ConsumerId c;
    double load, flows, busy, peak;
  };
  struct Consumer {
    std::string name;
    LinkVector load;  // its links, in edge order (the entries hold the rest: flows, busy, peak)
    std::array<double, kLinkKinds> kind_load{};  // its entries' load summed per link kind
    bool idle = false;
    std::vector<Stream> streams;
    double streams_busy = 1;
    bool streams_set = false;
  };
  // flows, busy and peak are read once (their values go into the entries): by reference, not copied.
  void replace(ConsumerId c, LinkVector load, const LinkVector& flows, const LinkVector& busy, const LinkVector& peak);
  void mark_others(EdgeIndex e, ConsumerId self);
  void mark_neighbours(ConsumerId c);
  bool active(const Entry& x) const { return suspended_[x.c] == 0; }

  const Topology& topo_;
  Router& router_;
  std::vector<double> capacity_;
  std::vector<Consumer> consumers_;
  std::vector<std::vector<Entry>> on_edge_;  // link -> consumers index
  std::vector<ConsumerId> affected_;
  std::vector<uint32_t> affected_mark_;  // per consumer: 1 when in affected_
  std::vector<char> suspended_;          // per consumer
  std::vector<uint64_t> disturbed_, version_;
  // Per pair of consumers, the links where both have an entry (suspended ones included): whom a
  // suspend or resume affects, without a walk over the links.
  std::vector<std::vector<uint32_t>> shared_;
  std::vector<uint32_t> touch_mark_;
  uint32_t touch_epoch_ = 0;
  mutable std::vector<Entry> scratch_;
  std::vector<EdgeIndex> path_;
  std::vector<double> frac_;
  uint64_t updates_ = 0;
};

}  // namespace fleetsim
