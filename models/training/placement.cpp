// SPDX-License-Identifier: Apache-2.0
// Placement: a job's gang request to the scheduler, its start and preemption, and the shape of the
// placement it got (span counts, communication groups) for the step model and the network.
#include "models/training/training_impl.hpp"

#include <algorithm>
#include <stdexcept>

#include <fmt/format.h>

namespace fleetsim {

namespace {

/// The gang of `j` as the scheduler places it: whole hosts, replicas of consecutive hosts, TP wider than
/// a host kept in one scale-up unit, hot spares. Without its callbacks and expected runtime.
GangRequest gang_request(const TrainingJobSpec& spec, uint32_t replica_nodes) {
  GangRequest r;
  r.name = spec.name;
  const uint64_t gpus_per_node = std::max<uint32_t>(1, spec.hardware.gpus_per_node);
  r.nodes = static_cast<uint32_t>((spec.gpus() + gpus_per_node - 1) / gpus_per_node);
  r.replica_nodes = replica_nodes;
  r.unit_nodes = spec.parallel.tp > gpus_per_node ? static_cast<uint32_t>((spec.parallel.tp + gpus_per_node - 1) / gpus_per_node) : 1;
  r.spare_nodes = spec.recovery.hot_spare_nodes;
  r.accelerator = spec.hardware.accelerator;
  r.priority = spec.priority;
  r.preemptible = spec.preemptible;
  return r;
}

/// Expected runtime for backfill: the nominal throughput (alpha-beta: before placement there are no
/// GPUs to cost on a fabric) with a 10% allowance for failures.
Duration expected_runtime(const TrainingJobSpec& spec, uint32_t nodes) {
  AlphaBetaCommCost alpha_beta(spec.hardware);
  PlacementShape guess;
  guess.nodes = nodes;
  const StepBreakdown b = step_breakdown(spec, spec.parallel.dp, guess, alpha_beta);
  return bounded_seconds(spec.total_tokens / b.tokens_per_s / 0.9);
}

}  // namespace

void TrainingModel::Impl::submit(Job& j) {
  const size_t i = j.index;
  j.state = JobState::Queued;
  j.stats.submitted = now();
  GangRequest r = gang_request(j.spec, j.replica_nodes);
  if (!j.spec.region.empty()) {
    r.region = fleet.find_region(j.spec.region);
    if (!r.region) throw std::invalid_argument(fmt::format("training job \"{}\": no region \"{}\"", j.spec.name, j.spec.region));
  }
  r.expected_runtime = expected_runtime(j.spec, r.nodes);
  r.on_start = [this, i](AllocationId, std::span<const NodeId>) { on_started(i); };
  r.on_preempt = [this, i](AllocationId) { on_preempt(i); };
  j.allocation = scheduler.submit(std::move(r));
  if (job_of_allocation.size() <= j.allocation) job_of_allocation.resize(j.allocation + 1, -1);
  job_of_allocation[j.allocation] = static_cast<int32_t>(i);
  recorder.publish(now(), TrainingSubmit{.job = j.spec.name, .gpus = j.spec.gpus(), .layout = layout_name(j.spec.parallel)});
}

void TrainingModel::Impl::on_started(size_t i) {
  Job& j = jobs[i];
  j.shape_dirty = true;
  j.open_faults.clear();
  j.partitioned = false;  // a new placement: resume() asks the probe
  j.dark_share = 0;       // ... on usable hosts
  if (!j.stats.started) {
    j.stats.started = true;
    j.stats.first_start = now();
    j.stats.queued_s += (now() - j.stats.submitted).seconds();
    j.down_since = now();
    j.cause = "launch";
    j.planned = true;
    recorder.publish(now(), TrainingStart{.job = j.spec.name, .gpus = j.spec.gpus()});
  }
  j.state = JobState::Recovering;
  use_full_dp(j);
  schedule_resume(j);
}

void TrainingModel::Impl::on_preempt(size_t i) {
  Job& j = jobs[i];
  if (!has_hosts(j)) {
    scheduler.release(j.allocation, true);
    return;
  }
  stop(j, "preemption", /*planned=*/true);
  ++j.stats.preemptions;
  recorder.publish(now(), TrainingPreempt{.job = j.spec.name, .tokens = j.committed.tokens});
  j.state = JobState::Queued;
  j.open_faults.clear();
  j.partitioned = false;
  j.dark_share = 0;
  scheduler.release(j.allocation, true);
}

bool TrainingModel::Impl::node_active(const Job& j, NodeId n) const {
  const auto& nodes = allocation_of(j).nodes;
  auto it = std::lower_bound(nodes.begin(), nodes.end(), n);
  if (it == nodes.end() || *it != n) return false;
  if (!j.shrunk) return true;
  const size_t r = static_cast<size_t>(it - nodes.begin()) / j.replica_nodes;
  return r < j.replica_active.size() && j.replica_active[r] != 0;
}

void TrainingModel::Impl::update_shape(Job& j) {
  if (!j.shape_dirty) return;
  j.shape_dirty = false;
  ++j.shape.revision;  // the group lists below are rebuilt (a network model's copies are stale)
  const auto& nodes = allocation_of(j).nodes;
  // Nodes are sorted and the hierarchy is laid out in index order, so racks, datacenters, zones
  // and regions of consecutive nodes are non-decreasing: count changes, no sets.
  size_t racks = 0, dcs = 0, zones = 0, regions = 0;
  uint32_t last[4] = {UINT32_MAX, UINT32_MAX, UINT32_MAX, UINT32_MAX};
  for (NodeId n : nodes) {
    const ComponentRef c = ref(n);
    const uint32_t ids[4] = {fleet.rack_of(n).value(), fleet.datacenter_of(c).value(), fleet.zone_of(c).value(),
                             fleet.region_of(c).value()};
    size_t* counts[4] = {&racks, &dcs, &zones, &regions};
    for (int k = 0; k < 4; ++k)
      if (ids[k] != last[k]) {
        last[k] = ids[k];
        ++*counts[k];
      }
  }
  j.shape.nodes = static_cast<uint32_t>(nodes.size());
  j.shape.racks = static_cast<uint32_t>(std::max<size_t>(1, racks));
  j.shape.datacenters = static_cast<uint32_t>(std::max<size_t>(1, dcs));
  j.shape.regions = static_cast<uint32_t>(std::max<size_t>(1, regions));
  // Representative groups for a topology-aware CommCost: TP inside the first node, a pipeline
  // neighbour pair, and one GPU per DP replica.
  j.shape.tp_gpus.clear();
  j.shape.pp_pair_gpus.clear();
  j.shape.dp_gpus.clear();
  if (!nodes.empty()) {
    const uint32_t gpus_per_node = j.spec.hardware.gpus_per_node;
    const IndexRange g0 = fleet.range(ref(nodes.front()), Level::Gpu);
    // TP ranks are consecutive GPUs: a TP group wider than a node (TP8 on 4-GPU GB200 nodes) spans
    // the first nodes of the stage.
    for (size_t n = 0; n < nodes.size() && j.shape.tp_gpus.size() < j.spec.parallel.tp; ++n) {
      const IndexRange gn = fleet.range(ref(nodes[n]), Level::Gpu);
      for (uint32_t k = gn.begin; k < gn.end && j.shape.tp_gpus.size() < j.spec.parallel.tp; ++k) j.shape.tp_gpus.push_back(k);
    }
    const size_t stage_nodes =
        std::max<size_t>(1, (size_t{j.spec.parallel.tp} * j.spec.parallel.cp + gpus_per_node - 1) / gpus_per_node);
    if (j.spec.parallel.pp > 1 && stage_nodes < nodes.size()) {
      j.shape.pp_pair_gpus = {g0.begin, fleet.range(ref(nodes[stage_nodes]), Level::Gpu).begin};
    }
    for (size_t r = 0; r * j.replica_nodes < nodes.size(); ++r)
      j.shape.dp_gpus.push_back(fleet.range(ref(nodes[r * j.replica_nodes]), Level::Gpu).begin);
    layout_groups(j, nodes, stage_nodes);
  }
  j.counts.nodes = nodes.size();
  j.counts.gpus = nodes.size() * j.spec.hardware.gpus_per_node;
  j.counts.racks = racks;
  j.counts.datacenters = dcs;
  j.counts.zones = zones;
  j.counts.regions = regions;
}

/// The job's communication groups on its placement, for a CommCost that costs flows on the real
/// topology. Layout (as the scheduler places it): a replica is `replica_nodes` consecutive nodes
/// holding its `pp` stages in order, `stage_nodes` nodes each; inside a stage the GPU at local index
/// c * tp + t is TP rank t of CP rank c (TP fastest, as Megatron orders tp-cp-ep-dp-pp). So:
///   DP group (s, t):   GPU (r, s, c * tp + t) for every replica r and CP rank c (dp * cp ranks: the
///                      gradient all-reduce spans DP x CP)
///   CP group (r, s, t): GPU (r, s, c * tp + t) for c < cp
///   EP group:          ep consecutive replicas at one (s, c, t): experts are spread over DP ranks
///   expert DP group:   the replicas r = e (mod ep), every CP rank, at one (s, t): dp * cp / ep ranks
///   pipeline pairs:    GPU (r, s, l) and (r, s + 1, l) for every local index l < tp * cp
/// The representative groups (dp_gpus, cp_gpus, ...) are the ones of replica 0, stage 0, TP rank 0;
/// the *_all_gpus lists hold every group, one after the other. Left empty when the placement does
/// not have this regular shape (then the CommCost falls back for those groups).
void TrainingModel::Impl::layout_groups(Job& j, const std::vector<NodeId>& nodes, size_t stage_nodes) {
  PlacementShape& sh = j.shape;
  for (auto* v : {&sh.dp_all_gpus, &sh.pp_pairs_all_gpus, &sh.cp_gpus, &sh.cp_all_gpus, &sh.ep_gpus, &sh.ep_all_gpus,
                  &sh.expert_dp_gpus, &sh.expert_dp_all_gpus})
    v->clear();
  const Parallelism& p = j.spec.parallel;
  const uint32_t gpus_per_node = j.spec.hardware.gpus_per_node;
  const uint64_t stage_gpus = uint64_t{p.tp} * p.cp;
  if (gpus_per_node == 0 || stage_nodes * p.pp != j.replica_nodes || stage_gpus > uint64_t{stage_nodes} * gpus_per_node ||
      nodes.size() % j.replica_nodes != 0)
    return;
  const size_t replicas = nodes.size() / j.replica_nodes;
  // GPU at local index l of stage s of replica r.
  auto gpu = [&](size_t r, size_t s, uint64_t l) {
    return fleet.range(ref(nodes[r * j.replica_nodes + s * stage_nodes + l / gpus_per_node]), Level::Gpu).begin +
           static_cast<uint32_t>(l % gpus_per_node);
  };
  sh.dp_gpus.clear();
  for (size_t r = 0; r < replicas; ++r)
    for (uint32_t c = 0; c < p.cp; ++c) sh.dp_gpus.push_back(gpu(r, 0, uint64_t{c} * p.tp));
  for (size_t s = 0; s < p.pp; ++s)
    for (uint32_t t = 0; t < p.tp; ++t)
      for (size_t r = 0; r < replicas; ++r)
        for (uint32_t c = 0; c < p.cp; ++c) sh.dp_all_gpus.push_back(gpu(r, s, uint64_t{c} * p.tp + t));
  if (p.pp > 1)
    for (size_t r = 0; r < replicas; ++r)
      for (size_t s = 0; s + 1 < p.pp; ++s)
        for (uint64_t l = 0; l < stage_gpus; ++l) {
          sh.pp_pairs_all_gpus.push_back(gpu(r, s, l));
          sh.pp_pairs_all_gpus.push_back(gpu(r, s + 1, l));
        }
  if (p.cp > 1) {
    for (uint32_t c = 0; c < p.cp; ++c) sh.cp_gpus.push_back(gpu(0, 0, uint64_t{c} * p.tp));
    for (size_t r = 0; r < replicas; ++r)
      for (size_t s = 0; s < p.pp; ++s)
        for (uint32_t t = 0; t < p.tp; ++t)
          for (uint32_t c = 0; c < p.cp; ++c) sh.cp_all_gpus.push_back(gpu(r, s, uint64_t{c} * p.tp + t));
  }
  if (p.ep > 1 && replicas % p.ep == 0) {
    for (uint32_t e = 0; e < p.ep; ++e) sh.ep_gpus.push_back(gpu(e, 0, 0));
    for (size_t b = 0; b < replicas / p.ep; ++b)
      for (size_t s = 0; s < p.pp; ++s)
        for (uint64_t l = 0; l < stage_gpus; ++l)
          for (uint32_t e = 0; e < p.ep; ++e) sh.ep_all_gpus.push_back(gpu(b * p.ep + e, s, l));
    for (size_t r = 0; r < replicas; r += p.ep)
      for (uint32_t c = 0; c < p.cp; ++c) sh.expert_dp_gpus.push_back(gpu(r, 0, uint64_t{c} * p.tp));
    for (size_t s = 0; s < p.pp; ++s)
      for (uint32_t t = 0; t < p.tp; ++t)
        for (uint32_t e = 0; e < p.ep; ++e)
          for (size_t r = e; r < replicas; r += p.ep)
            for (uint32_t c = 0; c < p.cp; ++c) sh.expert_dp_all_gpus.push_back(gpu(r, s, uint64_t{c} * p.tp + t));
  }
}

}  // namespace fleetsim
