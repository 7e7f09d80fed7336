// SPDX-License-Identifier: Apache-2.0
// InferenceModel: LLM inference services on the fleet, at request level or as a fluid, with
// multi-region failover, spill-over and autoscaling. docs/inference.md has the model and equations.
//
//   InferenceModel inf(spec, fleet, catalog, engine, streams, recorder, {.epoch_unix_ns = s.run.start_unix_ns});
//   failures.on_event.connect([&](const FailureEvent& e) { inf.on_failure_event(e); });
//   inf.start(horizon);                 // first arrivals (request mode) or the first step (fluid)
//   engine.run(horizon);
//   inf.write_summary();                // recorder.summary()["inference"][service]
//
// Request level: a region's requests wait in its gateway queue (FIFO) and are dispatched to the
// least-loaded up replica with a free sequence slot and KV room. A replica runs continuous-batching
// iterations: each serves one token to every decoding sequence plus prompt chunks up to the token
// budget; its duration is IterationCost::step_seconds (rounded to ns). Iterations with no prompt work
// and nothing to admit differ only in KV growth, so a run of them up to the next completion is one
// engine event (a "segment"); an arrival or failure cuts the segment at the next iteration boundary,
// so results are the same as with one event per iteration (a test checks this). When the KV cache
// cannot hold the next iteration's tokens, the latest admitted sequence is preempted (vLLM's
// recompute mode): its KV is freed and it goes back to the front of the queue.
// Disaggregation (request mode): a region's first prefill replicas take new requests and run prompt
// chunks only; a prefilled request leaves its prefill replica, waits FIFO for a decode replica with
// KV room, which reserves the KV and receives it over its inbound link (serialized; latency + bytes /
// bandwidth); TTFT ends when the KV has arrived (arrival -> queue -> prefill -> decode wait ->
// transfer), and TPOT is the decode replica's. A preempted or lost request is prefilled again.
// Fluid: one engine event per step; per region the arrival rate (exact integral over the step) meets
// the healthy capacity; a per-replica steady state (iteration time and batch from a fixed point of
// Little's law and the roofline) gives TPOT and service time, the Allen-Cunneen M/G/c approximation
// over sequence slots the queueing wait, and a fluid backlog anything beyond capacity.
// Regions: a region whose replicas are all down fails its traffic over, and a region whose estimated
// queueing wait exceeds spill_wait spills new requests over, to the nearest region (by RTT) with
// spare capacity; the RTT is added to the request's TTFT and end-to-end latency.
// Replicas run on fleet GPUs. With a ReplicaPlacer (the world's, over the one GangScheduler) a
// service's dedicated replicas are placed on concrete nodes like training gangs, and autoscaled
// replicas are bound to GPUs of the nodes the CapacityBroker claimed; without one (standalone use)
// dedicated replicas take the region's first GPUs of the accelerator in index order and borrowed ones
// are counts. A replica serves while all its GPUs are usable; when they fail it stops at once (its
// requests start over elsewhere) and a dedicated replica moves to a free node if one is free, else
// waits for the repair; either way it serves again after loading its weights (weight_load_s =
// weight bytes per GPU / replica.weight_load_bandwidth). A borrowed replica whose GPUs fail goes back
// to the broker; the autoscaler asks again while the load needs it.
#pragma once

#include "models/failures/failure_model.hpp"
#include "models/hardware/catalog.hpp"
#include "models/hardware/fleet.hpp"
#include "models/inference/distributions.hpp"
#include "models/inference/inference_records.hpp"
#include "models/inference/inference_spec.hpp"
#include "models/inference/iteration_cost.hpp"
#include "models/inference/kv_fabric.hpp"
#include "models/inference/wan_fabric.hpp"
#include "models/inference/replica_placer.hpp"
#include "sim/engine.hpp"
#include "sim/recorder.hpp"
#include "sim/rng.hpp"

#include <functional>
#include <memory>
#include <string_view>
#include <vector>

namespace fleetsim {

/// Where autoscaling gets GPUs: implemented by the scheduler (which preempts lower-priority training
/// jobs) or by IdlePoolBroker. It grants counts; which GPUs a borrowed replica runs on is the
/// ReplicaPlacer's (bind), when there is one.
class CapacityBroker {
 public:
  virtual ~CapacityBroker() = default;
  /// Takes up to `gpus` GPUs of `accelerator` in `region` from work below `priority`; returns how many
  /// it took now (0..gpus). The inference model adds its own scale-up delay before using them.
  virtual uint64_t acquire(RegionId region, std::string_view accelerator, uint64_t gpus, int priority, SimTime now) = 0;
  /// Gives GPUs back (the scheduler may resume the preempted work).
  virtual void release(RegionId region, std::string_view accelerator, uint64_t gpus, SimTime now) = 0;
};

/// A broker with a fixed pool of idle GPUs per region (tests, scenarios without training).
class IdlePoolBroker final : public CapacityBroker {
 public:
  explicit IdlePoolBroker(std::vector<uint64_t> idle_gpus_per_region) : idle_(std::move(idle_gpus_per_region)) {}
  uint64_t acquire(RegionId region, std::string_view, uint64_t gpus, int, SimTime) override;
  void release(RegionId region, std::string_view, uint64_t gpus, SimTime) override;
  uint64_t idle(RegionId region) const { return idle_.at(region.value()); }

 private:
  std::vector<uint64_t> idle_;
};

struct InferenceOptions {
  int64_t epoch_unix_ns = 0;      ///< the UTC instant of SimTime 0 (diurnal curves are in local time)
  CapacityBroker* broker = nullptr;         ///< autoscaling source; none: autoscaling cannot grow
  ReplicaPlacer* placer = nullptr;          ///< concrete GPUs for replicas; none: first GPUs, counts
  KvFabric* kv_fabric = nullptr;            ///< P/D KV transfers on the shared fabric; none: the spec's link
  WanFabric* wan_fabric = nullptr;          ///< re-routed requests' bytes on the WAN; none: only the round trip
  const TensorParallelComm* comm = nullptr; ///< TP collective cost; none: alpha-beta from the spec
  /// Called when a service's borrowed GPUs change (InferenceModel::borrowed_gpus): the cost model bills
  /// them to the service from that instant.
  std::function<void()> on_borrowed_change = {};
  bool segments = true;           ///< request mode: one event per run of identical iterations
  bool keep_outage_sketches = true;
};

/// A region outage as the service saw it: from when its last replica went down to when one came back.
struct OutageWindowStats {
  uint32_t region = 0;
  SimTime start;
  SimTime end = SimTime::max();   ///< max while still open
  double arrived = 0;             ///< requests arriving at this home region during the window
  double served = 0;              ///< ... that completed (anywhere)
  double late = 0;                ///< ... completed but missed an SLO
  double failed = 0;              ///< ... dropped (no capacity anywhere, queue timeout)
  double timed_out = 0;           ///< ... of them after max_queue_time in a queue
  double rerouted = 0;            ///< ... sent to another region
  LatencySketch ttft;             ///< of the served ones and, censored, the timed-out ones
};

struct InferenceCounters {
  double arrived = 0, completed = 0, failed = 0, late = 0;
  double rerouted_out = 0, rerouted_in = 0;  ///< failover + spill-over
  double retried = 0;       ///< running requests lost with a replica, re-routed
  double preemptions = 0;   ///< KV-cache preemptions (recompute)
  double output_tokens = 0, prompt_tokens = 0;
  /// Of `failed`: gave up after routing.max_queue_time in a gateway queue (an SLO miss). Their TTFT and
  /// E2E enter the sketches censored at the wait when they gave up (docs/inference.md).
  double timed_out = 0;
};

struct InferenceRegionStats {
  std::string name;
  InferenceCounters counters;
  LatencySketch ttft, tpot, e2e;
  uint32_t replicas = 0, replicas_up = 0, extra_replicas = 0;
  double max_queue = 0;
};

struct InferenceServiceStats {
  std::string name;
  InferenceCounters counters;
  LatencySketch ttft, tpot, e2e;   ///< seconds
  std::vector<InferenceRegionStats> regions;
  std::vector<OutageWindowStats> outages;
  double queue_time_weighted = 0;   ///< integral of total queue length over time (request-seconds)
  double kv_util_sum = 0, kv_util_samples = 0;
  uint64_t iterations = 0, segments = 0;
  // steady state of one replica (from the cost model), for reports
  double replica_saturation_rps = 0;  ///< requests/s one replica sustains (batch or KV bound)
  double replica_max_batch = 0;       ///< sequences at saturation
  uint64_t kv_capacity_tokens = 0;
  // prefill/decode disaggregation (zero without it)
  uint32_t prefill_replicas = 0, decode_replicas = 0;  ///< dedicated, all regions
  double prefill_saturation_rps = 0;  ///< requests/s one prefill replica sustains (full token budgets)
  double decode_saturation_rps = 0;   ///< requests/s one decode replica sustains (batch or KV bound)
  double kv_transfers = 0, kv_transfer_bytes = 0;
  double kv_transfer_seconds = 0;     ///< sum over transfers of link wait + latency + bytes / bandwidth
  double kv_transfers_on_fabric = 0;  ///< of kv_transfers: costed on the shared fabric (KvFabric)
  double kv_fabric_bytes_per_s_sum = 0;  ///< sum over those of the rate the fabric gave them
  double weight_load_s = 0;           ///< a replica's weight load before it serves again
  // re-routed requests on the WAN (WanFabric; zero without it)
  double wan_bytes = 0;               ///< prompts out and outputs back, over the run
  double wan_peak_bytes_per_s = 0;    ///< the highest sample interval's average, all region pairs
};

/// One replica as the model holds it now (for tests and reports).
struct ReplicaView {
  uint32_t region = 0;  ///< index into the service's regions
  bool dedicated = true;
  bool up = false;
  bool loading = false;
  ReplicaGpus gpus;
};

class InferenceModel {
 public:
  /// Builds every service: resolves regions and accelerators against the fleet and catalog, maps
  /// replicas onto GPUs, builds the cost model. Throws InferenceSpecError (bad spec, with numbers).
  InferenceModel(const InferenceSpec& spec, Fleet& fleet, const Catalog& catalog, Engine& engine,
                 const RngStreams& streams, Recorder& recorder, InferenceOptions options = {});
  ~InferenceModel();
  InferenceModel(const InferenceModel&) = delete;
  InferenceModel& operator=(const InferenceModel&) = delete;

  /// Schedules the first arrivals, steps and samples. Once. `horizon` is where the run will end: the
  /// fluid mode steps no further (a last step is cut there) and both modes write a last partial row
  /// there when it is not on a sample_interval; SimTime::max() when the end is not known.
  void start(SimTime horizon = SimTime::max());
  /// Hears the failure model (failures, repairs, outages); re-checks the replicas on that component.
  void on_failure_event(const FailureEvent& e);
  /// The same for any fleet change made directly (tests): re-checks replicas on GPUs inside c.
  void on_fleet_change(ComponentRef c);

  size_t services() const;
  const InferenceServiceStats& stats(size_t service) const;
  const IterationCost& cost(size_t service) const;
  /// Every replica slot of a service (dedicated first per region, then borrowed slots).
  std::vector<ReplicaView> replicas(size_t service) const;
  /// GPUs the broker has granted a service's autoscaling in `region` and not had back (borrowed replicas
  /// loading, serving or draining): the service pays for them (docs/cost.md).
  uint64_t borrowed_gpus(size_t service, RegionId region) const;
  /// Total requests waiting in gateway queues of a service now.
  size_t queued(size_t service) const;
  /// Writes recorder.summary()["inference"] (every service, its regions, its outage windows) and the
  /// "inference_outages" table. Call once at the end.
  void write_summary();

 private:
  struct Service;
  const InferenceSpec spec_;
  Fleet& fleet_;
  Engine& engine_;
  Recorder& recorder_;
  InferenceOptions options_;
  std::vector<std::unique_ptr<Service>> services_;
  TableOf<InferenceSample> table_;
  bool started_ = false;
};

}  // namespace fleetsim
