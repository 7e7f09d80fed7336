// SPDX-License-Identifier: Apache-2.0
// Autoscaling: borrowed replicas from the CapacityBroker, brought up after the scale-up delay, drained on
// scale-down.
#include "models/inference/service.hpp"

#include <algorithm>
#include <cmath>

namespace fleetsim {

/// Borrows up to `want` more replicas for `reg` from the broker: whole replicas only (a remainder the
/// broker granted goes back at once). Returns how many were granted; they are counted as pending.
uint32_t InferenceModel::Service::borrow(Region& reg, uint32_t want) {
  if (m.options_.broker == nullptr || want == 0) return 0;
  CapacityBroker& broker = *m.options_.broker;
  const SimTime now = m.engine_.now();
  const uint64_t granted = broker.acquire(reg.fleet_region, acc_name, uint64_t{want} * gpus_per_replica,
                                          spec.autoscale.priority, now);
  const auto n = static_cast<uint32_t>(granted / gpus_per_replica);
  if (granted > uint64_t{n} * gpus_per_replica) broker.release(reg.fleet_region, acc_name, granted - uint64_t{n} * gpus_per_replica, now);
  if (n == 0) return 0;
  reg.extra_pending += n;
  reg.borrowed_gpus += uint64_t{n} * gpus_per_replica;
  if (m.options_.on_borrowed_change) m.options_.on_borrowed_change();
  return n;
}

/// The replicas the autoscaler wants for a load (requests/s) in one region.
uint32_t InferenceModel::Service::desired_replicas(double load) const {
  return static_cast<uint32_t>(std::ceil(load / (saturation_rps * spec.autoscale.target_utilization)));
}

/// The warm start (autoscale.warm_start): the service has been running before the simulation begins,
/// so each region starts with the replicas the autoscaler would want for the load expected over its
/// first interval, borrowed now and up at once (no scale-up delay, no weight load). Without it the run
/// opens with only the dedicated replicas against the full load until the first evaluation plus
/// scale_up_delay: a cold start that no steady-state question asks about (the 38B flagship timed out
/// 21.6 million requests in its first hour that way, docs/flagship-38b.md).
/// Called from start(), before the first fluid step or arrival is scheduled: the broker's claims are
/// submitted now, at the service's priority, ahead of the training jobs queued at the same instant;
/// the scheduler starts them in its pass at this instant, and the replicas come up in an event queued
/// after that pass (same time and phase, scheduled later) and before the service's first step.
void InferenceModel::Service::warm_start() {
  const SimTime t0 = m.engine_.now();
  const Duration interval = spec.autoscale.interval;
  for (auto& reg : regions) {
    if (reg.max_extra == 0 || saturation_rps <= 0) continue;
    const double load = reg.arrivals->expected(t0, t0 + interval) / interval.seconds();
    const uint32_t desired = desired_replicas(load);
    if (desired <= reg.up()) continue;
    const uint32_t n = borrow(reg, std::min(desired - reg.up(), reg.max_extra));
    if (n == 0) continue;
    m.recorder_.publish(t0, InferenceScaleUp{.service = spec.name,
                                             .region = reg.name,
                                             .replicas = int64_t{n},
                                             .gpus = int64_t{n} * gpus_per_replica,
                                             .ready_in_ns = Duration::zero()});
    Region* r = &reg;
    m.engine_.schedule_in(Duration::zero(), Phase::Control, [this, r, n] { scale_up_ready(*r, n); }, k_scaleup);
  }
}

void InferenceModel::Service::autoscale() {
  const auto& as = spec.autoscale;
  const double interval = as.interval.seconds();
  for (auto& reg : regions) {
    const double load = spec.mode == InferenceMode::Fluid ? reg.load_rate : reg.load_count / interval;
    reg.load_count = 0;
    if (reg.max_extra == 0 || saturation_rps <= 0) continue;
    const uint32_t desired = desired_replicas(load);
    if (reg.unbound > 0) bring_up_borrowed(reg, 0);  // nodes handed over since the last try
    const uint32_t have = reg.up() + reg.extra_pending + reg.unbound;
    const uint32_t extra = reg.extra_active + reg.extra_pending + reg.unbound;
    if (desired > have && extra < reg.max_extra) {
      reg.calm_since = SimTime::max();
      const uint32_t n = borrow(reg, std::min(desired - have, reg.max_extra - extra));
      if (n > 0) {
        Region* r = &reg;
        m.recorder_.publish(m.engine_.now(), InferenceScaleUp{.service = spec.name,
                                                              .region = reg.name,
                                                              .replicas = int64_t{n},
                                                              .gpus = int64_t{n} * gpus_per_replica,
                                                              .ready_in_ns = as.scale_up_delay});
        m.engine_.schedule_in(as.scale_up_delay, Phase::Control, [this, r, n] { scale_up_ready(*r, n); }, k_scaleup);
      }
    } else if (desired < reg.up() && reg.extra_active > 0) {
      if (reg.calm_since == SimTime::max()) reg.calm_since = m.engine_.now();
      if (m.engine_.now() - reg.calm_since >= as.scale_down_delay) {
        const uint32_t n = std::min(reg.extra_active, reg.up() - std::max(desired, 1u));
        scale_down(reg, n);
        reg.calm_since = SimTime::max();
      }
    } else {
      reg.calm_since = SimTime::max();
    }
  }
  m.engine_.schedule_in(as.interval, Phase::Control, [this] { autoscale(); }, k_scale);
}

void InferenceModel::Service::scale_up_ready(Region& reg, uint32_t n) {
  reg.extra_pending -= n;
  bring_up_borrowed(reg, n);
}

/// Brings up `n` newly granted borrowed replicas plus those still waiting for their nodes
/// (reg.unbound). With a placer each takes GPUs of nodes the broker holds now and fails with them;
/// one whose nodes are not handed over yet waits (and is tried again at the next autoscaling
/// interval).
void InferenceModel::Service::bring_up_borrowed(Region& reg, uint32_t n) {
  const uint32_t before = reg.up();
  uint32_t todo = n + reg.unbound;
  reg.unbound = 0;
  for (uint32_t k = reg.dedicated; k < reg.replicas.size() && todo > 0; ++k) {
    const uint32_t rep_i = reg.replicas[k];
    Replica& rep = replicas[rep_i];
    if (rep.up) continue;
    if (ReplicaPlacer* placer = m.options_.placer) {
      std::optional<ReplicaGpus> gpus = placer->bind(reg.fleet_region, acc_name, gpus_per_replica);
      if (!gpus) break;
      rep.gpus = std::move(*gpus);
      index_gpus(rep_i);
    }
    rep.up = true;
    rep.draining = false;
    ++reg.extra_active;
    --todo;
  }
  reg.unbound = todo;
  reg.stats->extra_replicas = std::max(reg.stats->extra_replicas, reg.extra_active);
  region_changed(reg, before);
  if (spec.mode == InferenceMode::Request) pump(reg);
}

void InferenceModel::Service::scale_down(Region& reg, uint32_t n) {
  if (n == 0) return;
  m.recorder_.publish(m.engine_.now(),
                      InferenceScaleDown{.service = spec.name, .region = reg.name, .replicas = int64_t{n}});
  uint32_t done = 0;
  for (size_t k = reg.replicas.size(); k-- > reg.dedicated && done < n;) {
    const uint32_t rep_i = reg.replicas[k];
    Replica& rep = replicas[rep_i];
    if (!rep.up || rep.draining) continue;
    ++done;
    if (spec.mode == InferenceMode::Fluid) {  // a fluid replica holds no requests: it goes at once
      rep.up = false;
      --reg.extra_active;
      return_borrowed(rep_i);
      continue;
    }
    rep.draining = true;  // takes no new requests; returned when empty
    if (!rep.busy) begin_iteration(rep_i);
  }
}


}  // namespace fleetsim
