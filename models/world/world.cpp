// SPDX-License-Identifier: Apache-2.0
#include "models/world/world.hpp"

#include "models/cost/cost_model.hpp"
#include "models/failures/failure_model.hpp"
#include "models/hardware/fleet.hpp"
#include "models/hardware/fleet_lifecycle.hpp"
#include "models/inference/inference_model.hpp"
#include "models/network/fabric_failures.hpp"
#include "models/world/world_records.hpp"
#include "models/network/fleet_map.hpp"
#include "models/network/placement_check.hpp"
#include "models/network/flow_model.hpp"
#include "models/network/routing.hpp"
#include "models/network/fabric_load.hpp"
#include "models/training/network_comm_cost.hpp"
#include "models/training/shared_fabric_cost.hpp"
#include "models/training/placement_probe.hpp"
#include "models/scheduler/gang_scheduler.hpp"
#include "models/world/scheduler_broker.hpp"
#include "models/scenario/topology_file.hpp"
#include "models/training/training_model.hpp"

#include <algorithm>
#include <optional>

namespace fleetsim {

// The fabric of a scenario with a "network": topology, routes, flows, and the map from fleet
// components to its links, so link and switch failures take the right links down.
struct Fabric {
  Topology topo;
  Router router;
  FlowModel flows;
  FleetNetworkMap map;
  NetworkPlacementCheck placement_check;  // is a training placement still connected? (partitions)
  PlacementProbeOf<NetworkPlacementCheck> placement_probe;
  std::unique_ptr<AlphaBetaCommCost> fallback;
  std::unique_ptr<NetworkCommCost> comm;
  FabricFailures link_failures;  // network.link_failures: leaf-spine, spine-core, WAN links
  // collective_costing "shared" (with training jobs): the ledger every consumer registers its traffic
  // in, and the training jobs' costing against it. Other models register their streams through
  // shared->add_consumer / set_streams / clear (the jobs they affect are re-costed at that instant).
  std::unique_ptr<FabricLoad> ledger;
  std::unique_ptr<SharedFabricCost> shared;

  Fabric(const Scenario& s, const Fleet& fleet, Engine& engine, Recorder& recorder)
      : topo(build_fabric(s.network, s.network_run)),
        router(topo),
        flows(topo, router, engine, &recorder, FlowModelOptions{.sample_interval = s.run.sample_interval}),
        map(fleet, topo, s.network),
        placement_check(fleet, map, router),
        placement_probe(placement_check),
        link_failures(topo, flows, engine, &recorder, s.network_run.link_failures, s.run.seed) {
    // Routing policies per cluster, before anything routes (pinned routes were checked at load on the
    // cluster alone; the names are the same here).
    for (const ClusterRouting& cr : s.network_run.routing) {
      router.set_policy(cr.cluster, cr.policy);
      if (cr.policy == RoutingPolicy::Pinned)
        for (const ResolvedRoute& r : resolve_pinned_routes(topo, cr.routes)) router.pin(r);
    }
    // Collectives of training jobs are costed on this fabric; groups it does not map fall back to the
    // alpha-beta model of the first job's hardware.
    if (s.network_run.collective_costing == CollectiveCosting::Shared) {
      ledger = std::make_unique<FabricLoad>(topo, router);
      // The ledger's average loads are the fabric's utilization in this mode (links.csv and
      // network_utilization.csv); the flow model integrates them with its own flows'.
      ledger->on_load_change = [this](EdgeIndex e, double delta) { flows.add_external_load(e, delta); };
      // A training job stopped within its hold (network.stopped_traffic_hold) sends nothing: its load
      // leaves the class utilization for the spell (its links keep it; docs/network.md).
      ledger->on_kind_load_change = [this](LinkKind k, double delta) { flows.add_external_kind_load(k, delta); };
      // Without training jobs the ledger still carries the other consumers' streams (KV transfers):
      // a link change re-routes those it touches.
      link_failures.on_link = [this](uint32_t link, bool up) {
        std::vector<ConsumerId> moved;
        ledger->touching(link, up, moved);
        ledger->reroute(moved);
      };
    }
    if (!s.training.jobs.empty()) {
      fallback = std::make_unique<AlphaBetaCommCost>(s.training.jobs.front().hardware);
      if (ledger) {
        std::vector<std::string> names;
        for (const auto& j : s.training.jobs) names.push_back(j.name);
        shared = std::make_unique<SharedFabricCost>(router, map, *ledger, engine, kCollectiveAlpha, *fallback, names,
                                                    s.network_run.stopped_traffic_hold);
        link_failures.on_link = [this](uint32_t link, bool up) { shared->link_changed(link, up); };
      } else {
        comm = std::make_unique<NetworkCommCost>(router, map, nominal_capacity(topo), kCollectiveAlpha, *fallback,
                                                 s.network_run.collective_costing);
      }
    }
    // Sets failed at 0s are down now, before any job is placed and costed; later ones are events.
    link_failures.start();
  }

  /// Inference services' prefill -> decode KV transfers on the shared fabric: each transfer gets what
  /// the loaded path leaves one flow, and each service's KV traffic (averaged per sample interval) is a
  /// consumer of the ledger, so the training jobs crossing the same links are re-costed.
  class KvOnFabric final : public KvFabric {
   public:
    KvOnFabric(Fabric& fabric, const InferenceSpec& spec) : f_(fabric) {
      for (const auto& svc : spec.services) {
        std::string name = "inference/" + svc.name + "/kv";
        consumers_.push_back(f_.shared ? f_.shared->add_consumer(std::move(name)) : f_.ledger->add_consumer(std::move(name)));
      }
    }
    double bandwidth(size_t service, uint32_t src_gpu, uint32_t dst_gpu) override {
      const auto a = f_.map.endpoint(GpuId{src_gpu}), b = f_.map.endpoint(GpuId{dst_gpu});
      if (!a || !b) return 0;
      return f_.ledger->flow_rate(consumers_.at(service), Stream{.src = *a, .dst = *b, .bytes_per_s = 0, .flows = 1});
    }
    void publish(size_t service, std::span<const KvFlow> kv_flows) override {
      streams_.clear();
      for (const KvFlow& k : kv_flows) {
        const auto a = f_.map.endpoint(GpuId{k.src_gpu}), b = f_.map.endpoint(GpuId{k.dst_gpu});
        if (a && b && k.bytes_per_s > 0) streams_.push_back(Stream{.src = *a, .dst = *b, .bytes_per_s = k.bytes_per_s, .flows = 1});
      }
      const ConsumerId c = consumers_.at(service);
      if (f_.shared) (void)f_.shared->set_streams(c, streams_);
      else (void)f_.ledger->set_streams(c, streams_);
    }

   private:
    Fabric& f_;
    std::vector<ConsumerId> consumers_;  // per service
    std::vector<Stream> streams_;        // scratch
  };
  std::unique_ptr<KvOnFabric> kv;

  /// Inference services' re-routed requests on the WAN: each pair of regions is a stream between the
  /// two sites' WAN routers (a region is the site of its name, or else the first site that lists it as
  /// its region), one consumer of the ledger per service. Regions without a site carry nothing.
  class WanOnFabric final : public WanFabric {
   public:
    WanOnFabric(Fabric& fabric, const InferenceSpec& spec, const std::vector<SiteSpec>& sites) : f_(fabric) {
      for (const auto& svc : spec.services) {
        std::string name = "inference/" + svc.name + "/failover";
        consumers_.push_back(f_.ledger->add_consumer(std::move(name)));
        auto& routers = routers_.emplace_back();
        for (const auto& reg : svc.regions) routers.push_back(router_of(reg.region, sites));
      }
    }
    void publish(size_t service, std::span<const WanFlow> wan_flows) override {
      streams_.clear();
      const auto& routers = routers_.at(service);
      for (const WanFlow& w : wan_flows) {
        const auto a = routers.at(w.from_region), b = routers.at(w.to_region);
        if (a && b && *a != *b && w.bytes_per_s > 0)
          streams_.push_back(Stream{.src = *a, .dst = *b, .bytes_per_s = w.bytes_per_s, .flows = 1});
      }
      const ConsumerId c = consumers_.at(service);
      if (f_.shared) (void)f_.shared->set_streams(c, streams_);
      else (void)f_.ledger->set_streams(c, streams_);
    }

   private:
    std::optional<VertexId> router_of(const std::string& region, const std::vector<SiteSpec>& sites) const {
      if (const auto s = f_.topo.find_site(region)) return f_.topo.router(*s);
      for (const SiteSpec& site : sites)
        if (site.region == region)
          if (const auto s = f_.topo.find_site(site.name)) return f_.topo.router(*s);
      return std::nullopt;
    }
    Fabric& f_;
    std::vector<ConsumerId> consumers_;                      // per service
    std::vector<std::vector<std::optional<VertexId>>> routers_;  // per service, per region
    std::vector<Stream> streams_;                            // scratch
  };
  std::unique_ptr<WanOnFabric> wan;

  NetworkSummary summary() const {
    NetworkSummary s;
    if (comm) {
      // Per collective kind and reason, the fallbacks to alpha-beta.
      s.collectives_costed_on_fabric = Nullable<uint64_t>::of(comm->network_answers());
      s.collectives_costed_by_fallback = Nullable<uint64_t>::of(comm->fallback_answers());
      s.collectives_by_fallback.has = true;
      constexpr std::array<std::pair<Collective, std::string_view>, 5> kinds{
          {{Collective::AllReduce, "all_reduce"}, {Collective::AllGather, "all_gather"},
           {Collective::ReduceScatter, "reduce_scatter"}, {Collective::AllToAll, "all_to_all"},
           {Collective::SendRecv, "send_recv"}}};
      for (const auto& [c, name] : kinds) {
        Keyed<uint64_t> by_reason;
        for (int r = 0; r < NetworkCommCost::kReasons; ++r)
          if (comm->fallbacks(c, r) > 0) by_reason[std::string(NetworkCommCost::kReasonNames[r])] = comm->fallbacks(c, r);
        if (!by_reason.empty()) s.collectives_by_fallback.value.entries.emplace_back(std::string(name), std::move(by_reason));
      }
      s.collective_costs_computed = Nullable<uint64_t>::of(comm->computed());
    }
    if (shared) {
      s.collectives_costed_on_fabric = Nullable<uint64_t>::of(shared->network_answers());
      s.collectives_costed_by_fallback = Nullable<uint64_t>::of(shared->fallback_answers());
      const bool held = shared->stopped_traffic_hold() > Duration::zero();
      s.shared_fabric = Nullable<SharedFabricSummary>::of(
          {.consumers = ledger->consumers(),
           .collective_loads_routed = Nullable<uint64_t>::of(shared->collective_loads_built()),
           .job_recosts = Nullable<uint64_t>::of(shared->recost_requests()),
           .job_reroutes = Nullable<uint64_t>::of(shared->reroutes()),
           .stops_held = held ? Nullable<uint64_t>::of(shared->stops_held()) : Nullable<uint64_t>::none(),
           .holds_expired = held ? Nullable<uint64_t>::of(shared->holds_expired()) : Nullable<uint64_t>::none()});
    } else if (ledger) {  // no training jobs: the other consumers (KV transfers, failover) alone
      s.shared_fabric = Nullable<SharedFabricSummary>::of({.consumers = ledger->consumers(),
                                                           .collective_loads_routed = {},
                                                           .job_recosts = {},
                                                           .job_reroutes = {},
                                                           .stops_held = {},
                                                           .holds_expired = {}});
    }
    if (!link_failures.empty()) s.link_failures = Nullable<FabricFailureSummary>::of(link_failures.summary());
    return s;
  }

  // Per-hop software latency of a collective step (NCCL-like), an assumption: no published figure
  // fits every fabric; docs/network.md discusses it.
  static constexpr Duration kCollectiveAlpha = Duration::us(5);

  void on_failure(const FailureEvent& e) {
    const bool failed = e.kind == FailureEvent::Kind::Failure;
    const bool repaired = e.kind == FailureEvent::Kind::Repair;
    if (!failed && !repaired) return;
    if (e.cls == ComponentClass::Link)
      for (uint32_t link : map.access_links(GpuId{e.component.index})) {
        flows.set_link_up(link, repaired);
        if (shared) shared->link_changed(link, repaired);
      }
    if (e.cls == ComponentClass::Switch)
      if (auto tor = map.tor_of(RackId{e.component.index})) {
        flows.set_switch_up(*tor, repaired);
        if (shared)
          for (const Router::Out& o : router.out(*tor)) shared->link_changed(Router::link_of(o.e), repaired);
      }
  }
};

// Declaration order is construction order: each model is built after what it stands on.
struct World::Models {
  Fleet fleet;
  FleetLifecycle lifecycle;
  FailureModel failures;
  GangScheduler scheduler;
  std::unique_ptr<Fabric> fabric;           // only when the scenario has a network
  SchedulerBroker broker;                   // autoscaling borrows training capacity through it
  std::optional<InferenceModel> inference;  // only when the scenario has services
  std::optional<TrainingModel> training;    // only when the scenario has jobs
  std::optional<CostModel> cost;            // only when the scenario has a "cost" section

  Models(const Scenario& s, Engine& engine, const RngStreams& streams, Recorder& recorder)
      : fleet(Fleet::build(s.fleet)),
        lifecycle(s.fleet, fleet, engine, &recorder),
        failures(s.failures, fleet, engine, streams, recorder, &lifecycle),
        scheduler(fleet, engine, &failures),
        broker(scheduler, fleet) {
    lifecycle.on_change.connect([this](const CapacityChange&) { scheduler.request_pass(); });
    if (!s.network.clusters.empty()) {
      fabric = std::make_unique<Fabric>(s, fleet, engine, recorder);
      failures.on_event.connect([this](const FailureEvent& e) { fabric->on_failure(e); });
    }
    if (!s.training.jobs.empty())
      training.emplace(s.training, fleet, engine, recorder, scheduler, &failures, &s.failures,
                       fabric ? fabric->comm.get() : nullptr);
    // The fabric's listener (connected above) updates the router before the training model, which
    // connects in start(), asks whether each running job's placement is still connected.
    if (training && fabric) training->set_placement_probe(&fabric->placement_probe);
    if (training && fabric) fabric->link_failures.on_change = [this](bool) { training->on_fabric_change(!fabric->shared); };
    if (training && fabric && fabric->shared) {
      // Shared fabric: each job is costed against the others' traffic; the jobs whose links changed
      // are re-costed (and only they).
      training->set_fabric_traffic(fabric->shared.get());
      fabric->shared->on_recost = [this](std::span<const size_t> jobs) { training->recost(jobs); };
    }
    if (!s.inference.services.empty()) {
      InferenceOptions opt;
      opt.epoch_unix_ns = s.run.start_unix_ns;
      opt.broker = &broker;
      opt.placer = &broker;  // replicas on nodes the scheduler places, beside the training gangs
      opt.on_borrowed_change = [this] {
        if (cost) cost->changed();
      };
      const bool disaggregated = std::any_of(s.inference.services.begin(), s.inference.services.end(),
                                             [](const auto& svc) { return svc.disaggregation.enabled; });
      if (fabric && fabric->ledger && disaggregated) {
        fabric->kv = std::make_unique<Fabric::KvOnFabric>(*fabric, s.inference);
        opt.kv_fabric = fabric->kv.get();
      }
      // Failover and spill-over between regions load the WAN when there is one to load.
      const bool multi_region = std::any_of(s.inference.services.begin(), s.inference.services.end(),
                                            [](const auto& svc) { return svc.regions.size() > 1; });
      if (fabric && fabric->ledger && multi_region && !fabric->topo.sites().empty()) {
        fabric->wan = std::make_unique<Fabric::WanOnFabric>(*fabric, s.inference, s.network.sites);
        opt.wan_fabric = fabric->wan.get();
      }
      inference.emplace(s.inference, fleet, s.catalog, engine, streams, recorder, opt);
      failures.on_event.connect([this](const FailureEvent& e) { inference->on_failure_event(e); });
      lifecycle.on_change.connect([this](const CapacityChange& c) { inference->on_fleet_change(c.what); });
    }
    if (s.cost.enabled) connect_cost(s, engine, recorder);
  }

  // The cost model hears busy GPUs from the scheduler, who holds them from the workloads, and outage
  // windows from the failure model (docs/cost.md).
  void connect_cost(const Scenario& s, Engine& engine, Recorder& recorder) {
    cost.emplace(s.cost, fleet, engine, recorder, s.run.sample_interval, s.run.start_unix_ns);
    cost->set_busy([this](RegionId r, uint32_t acc) { return scheduler.gang_gpus(r, acc); });
    struct Held {
      uint32_t consumer;
      uint32_t service;
      RegionId region;
      uint32_t acc;
      uint64_t gpus;  // dedicated replicas: fixed for the run; borrowed ones are asked for each time
    };
    std::vector<Held> services;
    const auto& accs = fleet.accelerators();
    for (uint32_t i = 0; i < s.inference.services.size(); ++i) {
      const auto& svc = s.inference.services[i];
      const uint32_t c = cost->add_consumer("inference", svc.name);
      const auto a = std::find(accs.begin(), accs.end(), svc.replica.accelerator);
      for (const auto& reg : svc.regions)
        if (const auto id = fleet.find_region(reg.region); id && a != accs.end())
          services.push_back({c, i, *id, static_cast<uint32_t>(a - accs.begin()), uint64_t{reg.replicas} * svc.replica.gpus()});
    }
    const uint32_t first_job = training ? cost->add_consumer("training", s.training.jobs.front().name) : 0;
    for (size_t j = 1; training && j < s.training.jobs.size(); ++j) cost->add_consumer("training", s.training.jobs[j].name);
    // Where each job's first node is (region, accelerator, GPUs per node), kept while that node stays
    // its first: usage is asked at every change of the fleet (millions of times over the flagship's
    // seven years), and the fleet's look-ups walk up the node's ancestors.
    struct Place {
      uint32_t node = UINT32_MAX;
      RegionId region;
      uint32_t acc = 0;
      uint64_t gpn = 0;
    };
    cost->set_usage([this, services, first_job, places = std::vector<Place>()](std::vector<CostModel::Use>& out) mutable {
      for (const Held& h : services)
        out.push_back({h.consumer, h.region, h.acc, h.gpus + (inference ? inference->borrowed_gpus(h.service, h.region) : 0)});
      if (training) places.resize(training->jobs());
      for (size_t j = 0; training && j < training->jobs(); ++j) {
        const AllocationId id = training->allocation(j);
        if (id == kNoAllocation) continue;
        const auto& a = scheduler.allocation(id);
        if (a.nodes.empty() || (a.state != GangScheduler::State::Running && a.state != GangScheduler::State::Preempting)) continue;
        Place& p = places[j];
        if (p.node != a.nodes.front().value()) {
          const ComponentRef n = ref(a.nodes.front());
          p = Place{a.nodes.front().value(), fleet.region_of(n), fleet.accelerator_of(n),
                    fleet.gpus_per_node(fleet.datacenter_of(n))};
        }
        out.push_back({first_job + static_cast<uint32_t>(j), p.region, p.acc, (a.nodes.size() + a.spares.size()) * p.gpn});
      }
    });
    // Every change of paid, usable or busy GPUs is billed from the instant it happens, not from the
    // next sample (docs/cost.md).
    failures.on_event.connect([this](const FailureEvent& e) {
      if (e.kind == FailureEvent::Kind::OutageStart || e.kind == FailureEvent::Kind::OutageEnd)
        cost->outage(fleet.region_of(e.component), e.kind == FailureEvent::Kind::OutageStart);
      else
        cost->changed();
    });
    lifecycle.on_change.connect([this](const CapacityChange&) { cost->changed(); });
    scheduler.on_gang_change = [this] { cost->changed(); };
  }

  // What the workloads report for the unit economics of the cost model.
  CostInputs cost_inputs(const Scenario& s) const {
    CostInputs in;
    for (size_t i = 0; inference && i < inference->services(); ++i) {
      const auto& st = inference->stats(i);
      CostInputs::Service sv{st.name, st.counters.prompt_tokens, st.counters.output_tokens, st.counters.failed,
                             st.counters.late, 0, 0};
      for (const auto& w : st.outages) {
        sv.outage_failed += w.failed;
        sv.outage_late += w.late;
      }
      in.services.push_back(std::move(sv));
    }
    for (size_t j = 0; training && j < training->jobs(); ++j) {
      const JobStats& st = training->stats(j);
      const double gpus = static_cast<double>(s.training.jobs[j].gpus());
      CostInputs::Job job{s.training.jobs[j].name, gpus, (st.lost_s + st.down_s) * gpus, 0, training->tokens_committed(j),
                          st.done, st.dark_s * gpus};
      // The training model marks the causes that are scheduled outages; their dark part is in the
      // outage's paid_failed capacity already.
      for (const auto& [cause, loss] : st.by_cause)
        if (loss.outage) job.outage_lost_gpu_s += (loss.lost_s + loss.down_s - loss.dark_s) * gpus;
      in.jobs.push_back(std::move(job));
    }
    return in;
  }
};

World::World(const Scenario& scenario, Engine& engine, const RngStreams& streams, Recorder& recorder)
    : scenario_(scenario),
      engine_(engine),
      recorder_(recorder),
      models_(std::make_unique<Models>(scenario, engine, streams, recorder)) {}

World::~World() = default;

void World::start() {
  models_->lifecycle.start();
  models_->failures.start();
  if (models_->training) models_->training->start();
  if (models_->inference) models_->inference->start(SimTime::zero() + scenario_.run.horizon);
  if (models_->cost) models_->cost->start();
}

void World::write_summary() {
  const Fleet& fleet = models_->fleet;
  recorder_.summarize(FleetSummary{.regions = fleet.regions(),
                                   .racks = fleet.racks(),
                                   .nodes = fleet.nodes(),
                                   .gpus = fleet.gpus(),
                                   .gpus_usable_at_end = fleet.usable_gpus_total()});
  recorder_.summarize(ScenarioSummary{.name = scenario_.run.name,
                                      .start = format_utc_ns(scenario_.run.start_unix_ns),
                                      .horizon = format_duration(scenario_.run.horizon)});
  models_->failures.write_summary();
  if (models_->fabric) {
    nlohmann::json network = record_json(models_->fabric->summary());
    if (!network.empty()) recorder_.summary()[std::string(NetworkSummary::key)].update(network);  // next to anything else under /network
  }
  if (models_->training) models_->training->write_summary();
  if (models_->inference) models_->inference->write_summary();
  if (models_->cost) models_->cost->write_summary(models_->cost_inputs(scenario_));
}

}  // namespace fleetsim
