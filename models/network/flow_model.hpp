// SPDX-License-Identifier: Apache-2.0
// FlowModel: flow-level network simulation with max-min fair sharing, on the engine.
//
//   Topology topo = build_topology(spec);
//   Router router(topo);
//   FlowModel flows(topo, router, engine);
//   FlowId f = flows.start(topo.endpoint(0, 0), topo.endpoint(0, 9), 10e6, [&] { done = true; });
//   engine.run(SimTime::max());       // the flow finishes when its 10 MB have crossed at its fair rate
//
// Model. A flow is (source, destination, bytes) on one route (Router, ECMP by flow key). While active
// it gets a rate from max-min fair sharing of every directed link's capacity among the flows crossing
// it (the fluid model of Bertsekas and Gallager, Data Networks, 2nd ed., section 6.5.2), computed by
// progressive filling: raise every rate together until a link saturates, freeze the flows crossing it,
// continue with the rest. The flow's last byte arrives its path latency (sum of link latencies) after it
// is sent, so an idle-fabric flow takes latency + bytes / bottleneck bandwidth. An optional per-flow rate
// cap (max_bytes_per_s) acts as a private link.
//
// Incremental. When a flow starts or ends, or a link changes, only the flows connected to the change
// through shared links (the connected component of the flow-link graph containing the touched links)
// are re-solved; other flows keep their rates and their events. Changes at one instant are batched: the
// first change schedules one "net-solve" event at the same instant (Phase::Completion, after every
// completion already queued for that instant), which solves all of them together, so same-time
// completions cost one solve. A flow's rate is replaced only when it moves by more than 1e-9 relative
// (re-solving a component reorders additions and moves unaffected rates by an ulp; ignoring such
// moves keeps their events in place).
//
// Departures only. When every change of a batch is a flow leaving (no start, reroute or capacity
// change), the solve first checks whether the allocation still stands: a feasible allocation is
// max-min fair if and only if every flow has a bottleneck link, a saturated link on which no flow has a
// higher rate (Bertsekas and Gallager, section 6.5.2), or is at its own rate cap. Only the flows that
// crossed a link the departures touched can have lost their bottleneck, so only they are checked (on
// their own links' current loads, saturated within 1e-10 of capacity, ties within 1e-9). When all of
// them keep one, no rate can move and the component solve is skipped (stats: solves_skipped). With
// equal-sized flows the fastest finish first, and their links are nobody else's bottleneck, so most
// completion instants end here: this is what makes 65,536 concurrent flows on a k=64 fat-tree cheap.
// Spray flows (weighted links) always take the full solve.
//
// Events: each flow has at most ONE pending engine event, its drain (last byte sent), cancelled and
// rescheduled through its EventHandle when its rate changes; at the drain its bandwidth is released and,
// when the path has latency, the same handle becomes the delivery event (last byte received) that calls
// the flow's callback. Progress is settled lazily: remaining bytes are brought up to date only when the
// flow's rate changes.
//
// Solver cost: O(sum of path lengths + L log L) for a component of L links (lazy min-heap: a link's fair
// share only rises as flows freeze elsewhere, so stale keys are lower bounds and are re-pushed when
// popped). Buffers are members, reused: no allocation on the hot path once flow slots and link lists
// have grown to the peak load.
//
// Link changes: set_link_up(link, false) reroutes the flows crossing it (settling their progress); a
// flow left without a route fails (its callback runs with finishing_failed() true, at the same
// instant). Bringing a link or switch back recomputes every active flow's route, as ECMP rehashing over
// the new next-hop sets does, and moves the flows whose route changed. set_link_capacity scales a link
// (degraded optics, a network outage at a fraction of nominal).
//
// Routing policies (routing_policy.hpp), by the source's cluster: ecmp and pinned take Router::route;
// spray puts the flow on the equal-cost DAG with a fraction per link (Router::spray), and max-min
// sharing is then weighted: a flow at rate r puts r x fraction on each of its links, so a link's fair
// share is its residual capacity over the sum of its unfrozen flows' fractions (Bertsekas and
// Gallager's progressive filling with path weights; every fraction 1 is the unweighted case, to the
// bit). adaptive takes, at the flow's start, Router::route_least_loaded with each link's headroom the
// fair share a new flow would get there, capacity / (flows on it + 1); the flow keeps that path while
// it stays up (a link's return moves ECMP and spray flows, not adaptive ones: they chose at start).
//
// Utilization: per link kind, the time-integral of the allocated load; with options.sample_interval > 0
// and a recorder, one row per link kind per interval into the "network_utilization" table:
//   time_ns, class, links_up, capacity_bytes_per_s, mean_load_bytes_per_s, utilization_fraction
// (mean over the interval just ended; capacity is of usable directed links of that kind).
//
// Per-link utilization (links.csv): with sampling on, each directed link also integrates its own load,
// and each interval adds to the "links" table one row per link class and one per link among the
// options.top_links hottest of the interval (tidy: one utilization figure per row):
//   time_ns, scope ("class" | "link"), class, link (its name "a->b"; the class name for class rows),
//   rank (0 for class rows, 1 = hottest), capacity_bytes_per_s, mean_load_bytes_per_s,
//   utilization_fraction
// Only links whose load changed in the interval are integrated at a sample; the others' mean is their
// load, and the hottest of them come from buckets by load / capacity on a log scale (entries filed again as loads
// change), so a sample costs the links that changed, not the fabric nor every loaded link (a shared-
// fabric run keeps millions of links loaded for years). Load that is not a flow of this model (the averaged
// streams of the shared-fabric ledger, FabricLoad) enters through add_external_load: it counts in
// both tables, never in max-min sharing.
#pragma once

#include "models/network/network_records.hpp"
#include "models/network/routing.hpp"
#include "models/network/topology.hpp"
#include "sim/engine.hpp"
#include "sim/event_fn.hpp"
#include "sim/ids.hpp"
#include "sim/recorder.hpp"

#include <array>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

namespace fleetsim {

using FlowId = Id<struct FlowTag, uint64_t>;

struct FlowModelOptions {
  Duration sample_interval = Duration::zero();  ///< zero: no utilization rows
  std::string table = "network_utilization";
  std::string links_table = "links";
  /// Hottest links written per sample to `links_table` (with every class); 0: no per-link rows.
  uint32_t top_links = 16;
  /// Relative rate change below which a flow keeps its rate and its event.
  double rate_tolerance = 1e-9;
  /// Skip the solve of a batch of departures that leaves every remaining flow a bottleneck (false:
  /// always solve; tests compare the two).
  bool skip_unchanged = true;
};

class FlowModel {
 public:
  FlowModel(const Topology& topology, Router& router, Engine& engine, Recorder* recorder = nullptr,
            FlowModelOptions options = {});
  ~FlowModel();
  FlowModel(const FlowModel&) = delete;
  FlowModel& operator=(const FlowModel&) = delete;

  /// Starts a flow now. `key` picks the ECMP path (0: the flow's own id). `on_done` runs when the last
  /// byte arrives, or at once (next event) if the flow cannot be routed or fails later; inside it,
  /// finishing() is this flow and finishing_failed() says which. Zero bytes or src == dst: done after
  /// the path latency (none for src == dst).
  FlowId start(VertexId src, VertexId dst, double bytes, EventFn on_done, uint64_t key = 0,
               double max_bytes_per_s = std::numeric_limits<double>::infinity());
  /// Aborts an active flow without calling its callback. False if it is not active.
  bool abort(FlowId f);

  bool active(FlowId f) const;
  /// Current rate (0 before the first solve of a new flow or after its drain).
  double rate(FlowId f) const;
  /// Bytes not yet sent, as of now.
  double remaining_bytes(FlowId f) const;
  const std::vector<EdgeIndex>& path(FlowId f) const;
  FlowId finishing() const { return finishing_; }
  bool finishing_failed() const { return finishing_failed_; }
  size_t active_flows() const { return active_count_; }

  /// Solves pending changes now instead of at the batched event (tests, callers that read rates).
  void flush();

  // ---- link changes ----
  void set_link_up(uint32_t link, bool up);
  void set_switch_up(VertexId v, bool up);
  /// Capacity of a physical link (both directions) as a fraction of nominal, in (0, 1].
  void set_link_capacity(uint32_t link, double fraction);
  double capacity(EdgeIndex e) const { return capacity_[e]; }
  /// Flows crossing a directed edge now.
  size_t flows_on(EdgeIndex e) const { return links_.empty() ? 0 : links_[e].flows.size(); }
  /// Fractions of an active flow on path(f) (spray), or empty (1 on every link).
  const std::vector<double>& fractions(FlowId f) const;
  /// Sum of the rates of the flows crossing a directed edge (times their fractions there).
  double load(EdgeIndex e) const;

  // ---- utilization ----
  /// Mean utilization of usable links of a kind since the last sample (or the model's creation):
  /// integral of load / (capacity * elapsed).
  double mean_utilization(LinkKind k) const;
  double load_integral_bytes(LinkKind k) const;
  /// Load on a directed link from outside the flow model (bytes/s, a change now): counted in the
  /// utilization tables only.
  void add_external_load(EdgeIndex e, double delta_bytes_per_s);
  /// Load of a link kind from outside the flow model (bytes/s, a change now), without any link's:
  /// counted in the class integrals only (an idle spell of a ledger consumer, FabricLoad::set_idle).
  void add_external_kind_load(LinkKind k, double delta_bytes_per_s);

  struct Stats {
    uint64_t flows_started = 0, flows_done = 0, flows_failed = 0, flows_rerouted = 0;
    uint64_t solves = 0;            ///< component solves
    uint64_t solves_skipped = 0;    ///< batches of departures that left every other rate in place
    uint64_t solved_flows = 0;      ///< sum of component sizes (flows)
    uint64_t solved_links = 0;      ///< sum of component sizes (links)
    uint64_t rate_changes = 0;      ///< flows whose rate (and event) changed in a solve
    uint64_t max_component = 0;
  };
  const Stats& stats() const { return stats_; }

 private:
  enum class State : uint8_t { Free, Pending, Active, Draining, Failing };
  struct Flow {
    uint32_t gen = 0;
    State state = State::Free;
    VertexId src = 0, dst = 0;
    uint64_t key = 0;
    double bytes = 0, remaining = 0, rate = 0, cap = 0;
    SimTime last;
    Duration latency;
    EventHandle ev;
    EventFn done;
    std::vector<EdgeIndex> path;
    std::vector<double> frac;   // spray: fraction of the flow on path[i]; empty: 1 on every link
    std::vector<uint32_t> pos;  // index of this flow in links_[path[i]].flows
    uint32_t stamp = 0;
    double next = 0;  // rate found by the current solve
    bool frozen = false;
  };
  struct Link {
    std::vector<uint32_t> flows;
    std::vector<double> weight;  // per entry of flows: that flow's fraction on this link
    double residual = 0, unfrozen_weight = 0;
    uint32_t unfrozen = 0;
    uint32_t stamp = 0;
    uint32_t dirty = 0;
  };

  Flow* get(FlowId f);
  const Flow* get(FlowId f) const;
  FlowId id_of(uint32_t slot) const { return FlowId{(uint64_t{flows_[slot].gen} << 32) | slot}; }
  uint32_t alloc_slot();
  void attach(uint32_t slot);   // add to its path's links, mark them dirty
  void detach(uint32_t slot);   // remove from links, release its load, mark links dirty
  void mark_dirty(EdgeIndex e);
  void request_solve();
  void solve();
  /// True when the pending changes are departures only and every flow left on a touched link still
  /// has a bottleneck (so the max-min allocation is unchanged and the solve can be skipped).
  bool departures_keep_allocation() const;
  void set_rate(Flow& f, double r);
  void schedule_drain(uint32_t slot);
  void on_drain(uint32_t slot);
  void deliver(uint32_t slot, bool failed);
  void fail_later(uint32_t slot);
  void reroute(uint32_t slot);
  /// Routes a flow by its source's policy into (out, frac); false: no route.
  bool route_flow(const Flow& f, std::vector<EdgeIndex>& out, std::vector<double>& frac, Duration& latency);
  static double weight(const Flow& f, size_t i) { return f.frac.empty() ? 1.0 : f.frac[i]; }
  void reroute_all();
  void integrate();
  void recount_capacity();
  void sample();
  void link_load_changed(EdgeIndex e, double delta);  // per-link integral (sampling on)
  void sample_links(double span);

  const Topology& topo_;
  Router& router_;
  Engine& engine_;
  Recorder* recorder_;
  FlowModelOptions opt_;
  std::vector<Flow> flows_;
  std::vector<uint32_t> free_;
  // Per directed link: its capacity now and its kind, for every link; its flows and the solver's
  // figures (links_) only once a first flow starts: a run whose fabric carries no flow (shared or
  // aggregate costing) keeps 9 bytes per link instead of about 90 (335 MB for the 38B flagship).
  std::vector<double> capacity_;
  std::vector<Link> links_;
  void ensure_links();
  size_t active_count_ = 0;

  // Batched solving.
  std::vector<EdgeIndex> dirty_;
  uint32_t dirty_epoch_ = 1;
  bool departures_only_ = true;  // every change since the last solve was a flow leaving
  EventHandle solve_ev_;
  bool solve_pending_ = false;
  // Component buffers (reused).
  uint32_t epoch_ = 0;
  std::vector<EdgeIndex> comp_links_;
  std::vector<uint32_t> comp_flows_;
  struct HeapEntry {
    double share;
    uint32_t id;  // link, or flow | kFlowBit for a rate cap
  };
  std::vector<HeapEntry> heap_;
  std::vector<EdgeIndex> scratch_path_;
  std::vector<double> scratch_frac_;

  FlowId finishing_;
  bool finishing_failed_ = false;

  // Utilization integrals per link kind.
  std::array<double, kLinkKinds> kind_load_{}, kind_integral_{};
  std::array<double, kLinkKinds> kind_capacity_{};
  std::array<uint32_t, kLinkKinds> kind_links_{};
  SimTime integrated_to_;
  std::array<double, kLinkKinds> sample_integral_{};
  SimTime last_sample_;
  TableOf<NetworkClassSample> table_;
  EventHandle sample_ev_;
  // Per-link integrals, kept only while sampling (link_sampling_): load now, integral since `since`
  // (a time in the current interval, or before it for a link unchanged since: its integral then starts
  // at the last sample), the links whose load changed in this interval, and the loaded links that did
  // not change in buckets by load / capacity (`by_load_`; an entry is valid while its version is the
  // link's), so that a sample costs the links that changed, not every loaded link.
  bool link_sampling_ = false;
  struct LinkSample {
    double load, integral;
    SimTime since;
    uint32_t version;
    uint8_t listed;     // in changed_links_
    uint8_t in_bucket;  // has a valid entry in by_load_
  };
  std::vector<LinkSample> link_sample_;
  std::vector<uint8_t> kind_of_;  // each link's LinkKind
  std::vector<EdgeIndex> changed_links_;
  struct LoadKey {  // (its key, load / capacity, is the link's as long as the entry is valid)
    EdgeIndex e;
    uint32_t version;
  };
  // Buckets on a log scale of the key, kBucketsPerOctave per factor of two from 2^kLowestOctave to
  // 2^(kLowestOctave + kOctaves) (smaller keys in the first, larger in the last): a sample reads the top
  // buckets down to where the hottest links must be, and a link whose load changed is filed again by an
  // append. (A max-heap did the same, but a big job's re-registration changes millions of links at
  // once, and re-heaping every loaded link at each such sample was a tenth of a shared-costing run.)
  static constexpr int kBucketsPerOctave = 256, kLowestOctave = -64, kOctaves = 96;
  static size_t bucket_of(double key);
  std::vector<std::vector<LoadKey>> by_load_;
  size_t filed_ = 0;      // entries in by_load_, stale ones included
  size_t in_bucket_ = 0;  // links with a valid entry
  size_t top_bucket_ = 0;  // no entry in a higher bucket
  void file_loaded(EdgeIndex e);
  void drop_stale();
  std::vector<double> nth_keys_;  // sample_links: the keys taken so far
  struct HotLink {
    double utilization, load;
    EdgeIndex e;
  };
  std::vector<HotLink> hot_;
  TableOf<LinkLoadSample> links_table_;

  EventKind kind_drain_, kind_deliver_, kind_solve_, kind_sample_;
  Stats stats_;
};

}  // namespace fleetsim
