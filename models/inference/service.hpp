// SPDX-License-Identifier: Apache-2.0
// Internal to models/inference: one inference service as InferenceModel holds it. Its member functions
// are defined by concern in
//   service.cpp          set-up (regions, replicas onto GPUs, steady-state table) and start
//   request_level.cpp    arrivals, routing, gateway queues, admission, completion records
//   batching.cpp         continuous-batching iterations, segments, KV preemption
//   disaggregation.cpp   prefill/decode disaggregation: hand-off, KV transfers
//   replicas.cpp         replicas' health: failures, relocation, weight loading, outage windows
//   autoscaling.cpp      borrowed replicas: scale up and down
//   fluid.cpp            the fluid mode
//   service_output.cpp   sample rows and the summary JSON
// and the steady-state maths are pure functions in steady_state.hpp. Not part of the installed API
// (cmake/FleetsimPackage.cmake leaves it out): only inference_model.hpp's sources include it.
#pragma once

#include "models/inference/inference_model.hpp"
#include "models/inference/steady_state.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace fleetsim {

struct InferenceModel::Service {
  // ---------------------------------------------------------------- records
  static constexpr uint32_t kNone = UINT32_MAX;
  enum class RState : uint8_t { Free, Queued, Running };

  struct Req {
    int64_t arrival_ns = 0;
    int64_t queued_ns = 0;
    int64_t first_ns = -1;
    uint64_t decode_start = 0;  // replica iteration index at which this residency's decode began
    uint32_t prompt = 0, output = 0;
    uint32_t generated = 0;     // tokens produced (the first comes with the end of prefill)
    uint32_t gen_at_decode = 0;
    uint32_t prefill_left = 0;
    uint32_t kv_alloc = 0;      // KV tokens allocated at admission (prompt + recomputed tokens)
    uint32_t res = 0;           // residency generation: invalidates stale heap and running entries
    uint32_t replica = kNone;
    uint32_t region = 0;        // where it is queued or served
    uint32_t home = 0;
    int32_t window = -1;        // outage window of its home region it arrived in
    float extra_s = 0;          // WAN round trip added to its latencies
    bool decoding = false;
    bool rerouted = false;
    bool transferring = false;  // disaggregation: its KV is on the way to replica `replica`
    RState state = RState::Free;
    uint32_t next_free = kNone;
    uint32_t prefill_from = kNone;  // disaggregation: the prefill replica its KV leaves from
  };

  /// Most iterations in one segment (one engine event): cutting a segment searches its iteration ends.
  static constexpr uint64_t kMaxSegment = IterationCost::kMaxDecodeRun;

  struct HeapEntry {
    uint64_t finish;  // the replica's iteration count when this request completes
    uint32_t req;
    uint32_t res;
    bool operator>(const HeapEntry& o) const { return finish != o.finish ? finish > o.finish : req > o.req; }
  };

  enum class Role : uint8_t { Mixed, Prefill, Decode };

  struct Replica {
    uint32_t region = 0;
    Role role = Role::Mixed;  // disaggregation: prefill-only or decode-only
    int64_t link_free_ns = 0; // decode replica: when its inbound KV link is free
    ReplicaGpus gpus;         // where it runs; empty: a borrowed replica counted without GPUs (no placer)
    uint32_t load_gen = 0;    // bumped when it goes down: a weight load in flight for it is void
    bool dedicated = true;
    bool up = true;
    bool loading = false;     // its GPUs are usable and it is loading the weights
    bool draining = false;
    bool busy = false;
    std::vector<std::pair<uint32_t, uint32_t>> running;  // (req, res), admission order, with stale entries
    uint32_t nrun = 0;
    std::deque<uint32_t> prefill;
    uint32_t decoding = 0;
    uint64_t kv_used = 0;
    uint64_t it = 0;  // iterations completed
    std::vector<HeapEntry> heap;
    // the iteration (or segment of iterations) in progress
    SimTime seg_start;
    uint32_t seg_k = 0;
    uint32_t seg_d = 0;
    uint64_t seg_kv0 = 0;
    // End of each iteration of the segment, whole ns after seg_start (for cut), held as doubles (exact
    // below 2^53 ns, 104 days) because IterationCost::decode_run_ends_ns sums them in double.
    std::array<double, kMaxSegment> seg_end{};
    std::vector<std::pair<uint32_t, uint32_t>> chunk;  // (req, prompt tokens) of this iteration
    std::vector<std::pair<uint32_t, uint32_t>> arrived;  // decode replica: (req, res) whose KV came mid-iteration
    EventHandle ev;
  };

  struct Region {
    uint32_t idx = 0;
    RegionId fleet_region;
    std::string name;
    double share = 0;
    int32_t utc_offset = 0;
    std::unique_ptr<ArrivalProcess> arrivals;
    Rng arr_rng{0};
    Rng len_rng{0};
    std::vector<uint32_t> replicas;  // dedicated first, then borrowed
    uint32_t dedicated = 0;
    uint32_t dedicated_up = 0;
    uint32_t extra_active = 0, extra_pending = 0;
    uint32_t unbound = 0;   // borrowed replicas past their scale-up delay whose nodes are not handed over yet
    uint64_t borrowed_gpus = 0;  // granted by the broker and not given back: what the service is billed for
    uint32_t placement = 0; // the placer's handle for its dedicated replicas
    uint32_t max_extra = 0;
    std::deque<uint32_t> queue;
    std::deque<uint32_t> dqueue;  // disaggregation: prefilled requests waiting for a decode replica
    int32_t window = -1;
    // the current sample interval
    InferenceCounters iv;
    LatencySketch iv_ttft, iv_e2e, iv_tpot;
    double iv_q_ttft50 = 0, iv_q_ttft99 = 0, iv_q_e2e50 = 0, iv_q_e2e99 = 0, iv_q_tpot50 = 0, iv_w = 0;  // fluid
    double iv_kv = 0, iv_kv_n = 0;
    double load_count = 0;  // requests routed here since the last autoscale evaluation
    double load_rate = 0;   // fluid: last step's load
    SimTime calm_since = SimTime::max();
    double backlog = 0;     // fluid
    InferenceRegionStats* stats = nullptr;

    uint32_t up() const { return dedicated_up + extra_active; }
  };

  // ---------------------------------------------------------------- state
  InferenceModel& m;
  const InferenceServiceSpec& spec;
  size_t index;
  std::unique_ptr<AlphaBetaComm> own_comm;
  std::unique_ptr<IterationCost> cost;
  std::string acc_name;
  uint32_t gpus_per_replica = 1;
  uint64_t kv_capacity = 0;  // KV tokens one replica holds
  LengthSampler prompt, output;
  std::vector<Region> regions;
  std::vector<std::vector<double>> rtt_s;
  std::vector<Replica> replicas;
  // The replica running on each GPU of the fleet (kNone: none of this service's): which replicas a
  // failed component touches. One GPU runs one replica, so an entry per GPU is exact; a flat array
  // rather than a search tree of spans, because at the flagship's scale thousands of borrowed
  // replicas come and go at every autoscaling step and each tree insert and erase allocated.
  std::vector<uint32_t> replica_of_gpu;
  // Disaggregation on a shared fabric: KV bytes per (prefill GPU, decode GPU) since the last sample.
  std::map<std::pair<uint32_t, uint32_t>, double> kv_bytes_since_sample;
  void publish_kv_traffic(double interval_s);
  // Re-routed requests on the WAN (WanFabric): bytes per (from region, to region) since the last
  // sample, row-major n x n; `wan_published` whether the last publish put anything on the WAN.
  std::vector<double> wan_bytes_since_sample;
  bool wan_published = false;
  void add_wan_bytes(uint32_t from, uint32_t to, double prompt_tokens, double output_tokens);
  void publish_wan_traffic(double interval_s);
  Duration load_time;  // weights onto a replica's GPUs (InferenceServiceStats::weight_load_s)
  std::vector<Req> reqs;
  uint32_t free_head = kNone;
  InferenceServiceStats stats;
  // one replica's steady state (steady_state.hpp): the fluid mode's table, and figures for reports
  double saturation_rps = 0;  // requests/s one replica sustains
  double max_batch = 0;       // decoding sequences at saturation
  double output_scv = 1;      // squared coefficient of variation of output lengths
  bool disagg = false;
  double prefill_replica_rps = 0, decode_replica_rps = 0;  // disaggregation: saturation of one prefill / decode replica
  std::vector<SteadyState> steady_table;
  LevelValues output_quantiles{}, prompt_quantiles{};  // at kQuantLevels
  bool merged_dirty = false;  // fluid: service sketches are rebuilt from the regions' on demand (sync)
  // fluid_step's per-region rates (fluid_route fills them, fluid_serve reads them), kept between steps
  // to reuse their storage; flows[q]: (source region, rate) spilled or failed over into q
  std::vector<double> scratch_lam, scratch_cap, scratch_keep, scratch_load, scratch_spare, scratch_overflow;
  std::vector<std::vector<std::pair<uint32_t, double>>> scratch_flows;
  // trace replay
  size_t trace_next = 0;
  Rng trace_rng{0};
  EventKind k_xfer = 0;
  EventKind k_arrival = 0, k_iter = 0, k_step = 0, k_sample = 0, k_scale = 0, k_scaleup = 0, k_load = 0;
  SimTime last_sample;
  SimTime horizon = SimTime::max();  // no step or row beyond it; a last partial row at it

  // ---------------------------------------------------------------- set-up (service.cpp)
  Service(InferenceModel& model, const InferenceServiceSpec& s, size_t i, const Catalog& catalog,
          const RngStreams& streams);
  SteadyInputs steady_inputs() const { return {*cost, prompt, output, spec.batching}; }
  void build_regions(const RngStreams& streams);
  void place_dedicated(Region& reg, const ServiceRegionSpec& rs, const std::vector<IndexRange>& ranges, uint64_t have);
  void build_wan_rtts();
  bool gpus_usable(const Replica& rep) const;
  void index_gpus(uint32_t rep_i);
  void unindex_gpus(uint32_t rep_i);
  std::vector<uint32_t> replicas_on(uint32_t begin, uint32_t end) const;
  void build_steady();
  void start(SimTime end);
  size_t queued() const;

  // ---------------------------------------------------------------- requests (request_level.cpp)
  uint32_t alloc_req();
  void free_req(uint32_t i);
  void schedule_arrival(Region& reg);
  void schedule_trace();
  void arrive(Region& home, uint32_t p, uint32_t o);
  double region_capacity(const Region& reg) const;
  double est_wait(const Region& reg, size_t extra) const;
  // Small and on the hot path of every iteration: kept inline here.
  bool room(const Replica& rep, uint32_t need) const {
    return rep.up && !rep.draining && rep.nrun < spec.batching.max_seqs &&
           rep.kv_used + need + rep.decoding + 1 <= kv_capacity;
  }
  uint32_t pick_replica(const Region& reg, uint32_t need, bool decode = false) const;
  bool spare(const Region& reg) const;
  uint32_t pick_other(uint32_t home, bool need_spare) const;
  void route(uint32_t ri);
  void enqueue(Region& reg, uint32_t ri, bool front);
  void fail(uint32_t ri);
  void time_out(uint32_t ri);
  bool timed_out(const Req& q) const {
    return m.engine_.now().ticks() - q.queued_ns > spec.routing.max_queue_time.ticks();
  }
  void pump(Region& reg);
  void pump_into(uint32_t rep_i);
  void admit(uint32_t rep_i, uint32_t ri);
  bool live(const Replica& rep, uint32_t rep_i, uint32_t ri, uint32_t res) const {
    const Req& q = reqs[ri];
    (void)rep;
    return q.state == RState::Running && q.res == res && q.replica == rep_i;
  }
  void complete(uint32_t rep_i, uint32_t ri);
  void record(const Req& q);

  // ---------------------------------------------------------------- iterations (batching.cpp)
  static int64_t round_ns(double s) { return IterationCost::round_ns(s); }
  int64_t step_ns(uint32_t prefill_tokens, uint32_t d, uint64_t kv) const {
    return round_ns(cost->step_seconds(double(prefill_tokens), double(d), double(kv)));
  }
  void begin_iteration(uint32_t rep_i);
  void cut(uint32_t rep_i);
  void end_iteration(uint32_t rep_i);
  void prefill_done(uint32_t rep_i, uint32_t ri);
  void start_decode(uint32_t rep_i, uint32_t ri);
  uint64_t kv_of(const Replica& rep, const Req& q) const {
    return q.decoding ? q.kv_alloc + (rep.it - q.decode_start) : q.kv_alloc;
  }
  void preempt(uint32_t rep_i);

  // ---------------------------------------------------------------- disaggregation (disaggregation.cpp)
  void build_disagg();
  void pump_decode(Region& reg);
  void hand_off(uint32_t rep_i, uint32_t ri);
  void start_transfer(uint32_t rep_i, uint32_t ri);
  void end_transfer(uint32_t rep_i, uint32_t ri);

  // ---------------------------------------------------------------- health (replicas.cpp)
  void replica_down(uint32_t rep_i);
  void finish_drain(uint32_t rep_i);
  void on_fleet_change(ComponentRef c);
  void take_down(uint32_t rep_i);
  void return_borrowed(uint32_t rep_i);
  void relocate(uint32_t rep_i);
  void start_loading(uint32_t rep_i);
  void loaded(uint32_t rep_i, uint32_t gen);
  void open_window(Region& reg);
  void region_changed(Region& reg, uint32_t before);

  // ---------------------------------------------------------------- autoscaling (autoscaling.cpp)
  void autoscale();
  void warm_start();
  uint32_t borrow(Region& reg, uint32_t want);
  uint32_t desired_replicas(double load) const;
  void scale_up_ready(Region& reg, uint32_t n);
  void bring_up_borrowed(Region& reg, uint32_t n);
  void scale_down(Region& reg, uint32_t n);

  // ---------------------------------------------------------------- fluid mode (fluid.cpp)
  void fluid_step();
  void fluid_route(SimTime t0, SimTime t1, double dt);
  void fluid_serve(size_t q, double dt);
  void fluid_rows(SimTime t1);
  void add_fluid_latency(Region& reg, const SteadyState& st, double weight, double rtt, const SlotQueueWait& wait,
                         int32_t window);
  void sync();

  // ---------------------------------------------------------------- sample rows (service_output.cpp)
  void sample();
  void schedule_sample();
  void write_row(const Region& reg, SimTime now, double queue, double kv_util, double ttft50, double ttft99,
                 double tpot50, double e2e50, double e2e99, double interval_s);
};

}  // namespace fleetsim
