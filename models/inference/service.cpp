// SPDX-License-Identifier: Apache-2.0
// InferenceModel::Service set-up: regions, replicas onto GPUs, the GPU index, the steady-state table,
// start.
#include "models/inference/service.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <stdexcept>

namespace fleetsim {

InferenceModel::Service::Service(InferenceModel& model, const InferenceServiceSpec& s, size_t i, const Catalog& catalog,
                                 const RngStreams& streams)
    : m(model), spec(s), index(i), prompt(s.prompt), output(s.output) {
  validate_service(spec);
  disagg = spec.disaggregation.enabled;
  const AcceleratorSpec* acc = catalog.find_accelerator(spec.replica.accelerator);
  if (acc == nullptr)
    throw InferenceSpecError(fmt::format("inference service \"{}\": accelerator \"{}\" is not in the catalog", spec.name,
                                         spec.replica.accelerator));
  acc_name = acc->name;
  const TensorParallelComm* comm = m.options_.comm;
  if (comm == nullptr) {
    const double bw = spec.replica.allreduce_bytes_per_s > 0 ? spec.replica.allreduce_bytes_per_s : acc->scale_up_bytes_per_s;
    own_comm = std::make_unique<AlphaBetaComm>(spec.replica.allreduce_latency.seconds(), bw > 0 ? bw : 1e11);
    comm = own_comm.get();
  }
  cost = std::make_unique<IterationCost>(spec.model, spec.replica, *acc, *comm);
  gpus_per_replica = spec.replica.gpus();
  kv_capacity = cost->kv_capacity_tokens();
  // A replica that comes back (repaired, moved to a free node, region back) reads its shard of the
  // weights before it serves again.
  load_time = Duration::from_seconds(cost->weight_bytes_per_gpu() / spec.replica.weight_load_bytes_per_s);
  stats.weight_load_s = load_time.seconds();
  stats.name = spec.name;
  stats.kv_capacity_tokens = kv_capacity;
  stats.regions.resize(spec.regions.size());
  build_regions(streams);
  build_steady();
  stats.replica_saturation_rps = saturation_rps;
  if (disagg) build_disagg();
  stats.replica_max_batch = max_batch;
  trace_rng = streams.stream(fmt::format("inference/{}/trace-route", spec.name));
  // Registered here, not in start(): a failure at time zero may reach a replica before start().
  k_load = m.engine_.register_kind("inference-weight-load");
}

void InferenceModel::Service::build_regions(const RngStreams& streams) {
  Fleet& fleet = m.fleet_;
  double replicas_total = 0;
  for (const auto& r : spec.regions) replicas_total += r.replicas;
  const auto& accs = fleet.accelerators();
  const auto acc_it = std::find(accs.begin(), accs.end(), acc_name);
  regions.resize(spec.regions.size());
  for (size_t ri = 0; ri < spec.regions.size(); ++ri) {
    const auto& rs = spec.regions[ri];
    Region& reg = regions[ri];
    reg.idx = static_cast<uint32_t>(ri);
    reg.name = rs.region;
    reg.stats = &stats.regions[ri];
    reg.stats->name = rs.region;
    const auto fr = fleet.find_region(rs.region);
    if (!fr)
      throw InferenceSpecError(fmt::format("inference service \"{}\": region \"{}\" is not in the fleet", spec.name, rs.region));
    reg.fleet_region = *fr;
    reg.share = rs.share >= 0 ? rs.share : (replicas_total > 0 ? rs.replicas / replicas_total : 0.0);
    reg.utc_offset = rs.utc_offset_minutes;
    std::vector<BurstSpec> bursts;
    for (const auto& b : spec.arrivals.bursts)
      if (b.region.empty() || b.region == rs.region) bursts.push_back(b);
    reg.arrivals = std::make_unique<ArrivalProcess>(spec.arrivals, reg.share, rs.utc_offset_minutes,
                                                    m.options_.epoch_unix_ns, std::move(bursts));
    reg.arr_rng = streams.stream(fmt::format("inference/{}/{}/arrivals", spec.name, rs.region));
    reg.len_rng = streams.stream(fmt::format("inference/{}/{}/lengths", spec.name, rs.region));
    // Dedicated replicas: the region's first GPUs of the accelerator, in index order.
    std::vector<IndexRange> ranges;
    uint64_t have = 0;
    if (acc_it != accs.end()) {
      const auto acc_idx = static_cast<uint32_t>(acc_it - accs.begin());
      const IndexRange dcs = fleet.range(reg.fleet_region, Level::Datacenter);
      for (uint32_t d = dcs.begin; d < dcs.end; ++d) {
        const ComponentRef dc{Level::Datacenter, d};
        if (fleet.accelerator_of(dc) != acc_idx) continue;
        const IndexRange g = fleet.range(dc, Level::Gpu);
        ranges.push_back(g);
        have += g.size();
      }
    }
    const uint64_t need = uint64_t{rs.replicas} * gpus_per_replica;
    if (need > have)
      throw InferenceSpecError(fmt::format(
          "inference service \"{}\": region \"{}\" has {} {} GPUs, but {} replicas of {} GPUs need {}", spec.name,
          rs.region, have, acc_name, rs.replicas, gpus_per_replica, need));
    place_dedicated(reg, rs, ranges, have);
    reg.dedicated = rs.replicas;
    reg.max_extra = spec.autoscale.enabled ? rs.max_extra_replicas : 0;
    for (uint32_t k = 0; k < reg.max_extra; ++k) {
      Replica rep;
      rep.region = reg.idx;
      rep.dedicated = false;
      rep.up = false;
      reg.replicas.push_back(static_cast<uint32_t>(replicas.size()));
      replicas.push_back(std::move(rep));
    }
  }
  replica_of_gpu.assign(m.fleet_.gpus(), kNone);
  for (uint32_t i = 0; i < replicas.size(); ++i) index_gpus(i);
  for (auto& reg : regions) {
    reg.dedicated_up = 0;
    for (uint32_t k = 0; k < reg.dedicated; ++k) {
      Replica& rep = replicas[reg.replicas[k]];
      rep.up = gpus_usable(rep);
      reg.dedicated_up += rep.up ? 1 : 0;
    }
    reg.stats->replicas = reg.dedicated;
  }
  build_wan_rtts();
}

/// A region's dedicated replicas: on the placer's nodes when there is a placer, else on the first GPUs
/// of `ranges` (the region's datacenters of the accelerator, `have` GPUs), in index order.
void InferenceModel::Service::place_dedicated(Region& reg, const ServiceRegionSpec& rs,
                                              const std::vector<IndexRange>& ranges, uint64_t have) {
  std::vector<ReplicaGpus> placed;
  if (ReplicaPlacer* placer = m.options_.placer)
    reg.placement = placer->place(spec.name, reg.fleet_region, acc_name, rs.replicas, gpus_per_replica, placed);
  size_t range_i = 0;
  uint32_t next_gpu = ranges.empty() ? 0 : ranges[0].begin;
  for (uint32_t k = 0; k < rs.replicas; ++k) {
    if (!placed.empty()) {
      Replica rep;
      rep.region = reg.idx;
      if (disagg) rep.role = k < prefill_replicas(rs, spec.disaggregation) ? Role::Prefill : Role::Decode;
      rep.gpus = std::move(placed[k]);
      reg.replicas.push_back(static_cast<uint32_t>(replicas.size()));
      replicas.push_back(std::move(rep));
      continue;
    }
    // A replica stays inside one datacenter range.
    while (range_i < ranges.size() && next_gpu + gpus_per_replica > ranges[range_i].end) {
      ++range_i;
      if (range_i < ranges.size()) next_gpu = ranges[range_i].begin;
    }
    if (range_i >= ranges.size())
      throw InferenceSpecError(fmt::format(
          "inference service \"{}\": region \"{}\": {} {} GPUs do not split into {} replicas of {} within datacenters",
          spec.name, rs.region, have, acc_name, rs.replicas, gpus_per_replica));
    Replica rep;
    rep.region = reg.idx;
    if (disagg) rep.role = k < prefill_replicas(rs, spec.disaggregation) ? Role::Prefill : Role::Decode;
    rep.gpus = {GpuSpan{next_gpu, gpus_per_replica}};
    next_gpu += gpus_per_replica;
    reg.replicas.push_back(static_cast<uint32_t>(replicas.size()));
    replicas.push_back(std::move(rep));
  }
}

/// WAN round trips between the service's regions: routing.default_rtt unless a link names the pair.
void InferenceModel::Service::build_wan_rtts() {
  const size_t n = regions.size();
  rtt_s.assign(n, std::vector<double>(n, spec.routing.default_rtt.seconds()));
  for (size_t a = 0; a < n; ++a) rtt_s[a][a] = 0;
  for (const auto& l : spec.routing.rtts) {
    for (size_t a = 0; a < n; ++a)
      for (size_t b = 0; b < n; ++b)
        if ((regions[a].name == l.a && regions[b].name == l.b) || (regions[a].name == l.b && regions[b].name == l.a))
          rtt_s[a][b] = l.rtt.seconds();
  }
}

bool InferenceModel::Service::gpus_usable(const Replica& rep) const {
  for (const GpuSpan& span : rep.gpus)
    for (uint32_t g = span.begin; g < span.end(); ++g)
      if (!m.fleet_.usable(ref(GpuId{g}))) return false;
  return true;
}

void InferenceModel::Service::index_gpus(uint32_t rep_i) {
  for (const GpuSpan& g : replicas[rep_i].gpus) {
    if (g.end() > replica_of_gpu.size()) throw std::logic_error("inference replica on a GPU outside the fleet");
    for (uint32_t x = g.begin; x < g.end(); ++x) {
      if (replica_of_gpu[x] != kNone && replica_of_gpu[x] != rep_i)
        throw std::logic_error(fmt::format("inference service {}: replicas {} and {} on GPU {}", spec.name, replica_of_gpu[x], rep_i, x));
      replica_of_gpu[x] = rep_i;
    }
  }
}

void InferenceModel::Service::unindex_gpus(uint32_t rep_i) {
  for (const GpuSpan& g : replicas[rep_i].gpus)
    for (uint32_t x = g.begin; x < g.end() && x < replica_of_gpu.size(); ++x)
      if (replica_of_gpu[x] == rep_i) replica_of_gpu[x] = kNone;
}

/// Replicas with a GPU in [begin, end), each once, in index order.
std::vector<uint32_t> InferenceModel::Service::replicas_on(uint32_t begin, uint32_t end) const {
  std::vector<uint32_t> out;
  end = std::min<uint32_t>(end, static_cast<uint32_t>(replica_of_gpu.size()));
  uint32_t last = kNone;
  for (uint32_t x = begin; x < end; ++x) {
    const uint32_t r = replica_of_gpu[x];
    if (r != kNone && r != last) out.push_back(last = r);  // a replica's GPUs are adjacent: few repeats
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

void InferenceModel::Service::build_steady() {
  const SteadyInputs in = steady_inputs();
  max_batch = max_batch_at_saturation(in, kv_capacity);
  saturation_rps = find_saturation_rps(in, max_batch);
  output_scv = squared_cv(output);
  output_quantiles = output_level_quantiles(output);
  prompt_quantiles = prompt_level_quantiles(prompt);
  steady_table = build_steady_table(in, prompt_quantiles, saturation_rps);
}

void InferenceModel::Service::start(SimTime end) {
  Engine& eng = m.engine_;
  horizon = end;
  k_arrival = eng.register_kind("inference-arrival");
  k_iter = eng.register_kind("inference-iteration");
  k_step = eng.register_kind("inference-step");
  k_sample = eng.register_kind("inference-sample");
  k_scale = eng.register_kind("inference-autoscale");
  k_scaleup = eng.register_kind("inference-scaleup");
  if (disagg) k_xfer = eng.register_kind("inference-kv-transfer");
  last_sample = eng.now();
  if (spec.autoscale.enabled && spec.autoscale.warm_start) warm_start();
  for (auto& reg : regions)
    if (reg.up() == 0) open_window(reg);
  if (spec.mode == InferenceMode::Fluid) {
    eng.schedule_in(Duration::zero(), Phase::Control, [this] { fluid_step(); }, k_step);
  } else {
    if (spec.trace) {
      schedule_trace();
    } else {
      for (auto& reg : regions) schedule_arrival(reg);
    }
    schedule_sample();
  }
  if (spec.autoscale.enabled)
    eng.schedule_in(spec.autoscale.interval, Phase::Control, [this] { autoscale(); }, k_scale);
}

size_t InferenceModel::Service::queued() const {
  size_t n = 0;
  for (const auto& r : regions) n += r.queue.size();
  return n;
}


}  // namespace fleetsim
