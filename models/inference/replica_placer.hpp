// SPDX-License-Identifier: Apache-2.0
// ReplicaPlacer: where an inference replica runs, as concrete GPUs of the fleet. Implemented by the
// world's SchedulerBroker over the one GangScheduler, so training ranks and inference replicas are
// placed by the same scheduler on the same nodes, and a failure acts on exactly what runs where it
// strikes (issue 14: "placement is the truth").
//
//   std::vector<ReplicaGpus> slots;
//   const uint32_t placement = placer.place("chat", region, "GB200", 64, 8, slots);  // 64 replicas of 8 GPUs
//   // a node under replica k failed:
//   if (auto n = placer.replace(placement, failed_node, /*within=*/std::nullopt)) ...  // a free node took its place
//   // autoscaling: GPUs already granted by CapacityBroker::acquire, bound to one replica
//   if (auto gpus = placer.bind(region, "GB200", 8)) ...; placer.unbind(region, "GB200", *gpus);
//
// Without a placer (standalone tests of the inference model) a service's dedicated replicas take the
// region's first GPUs of the accelerator in index order, and borrowed replicas have no GPUs of their
// own (they are counts and no failure reaches them).
#pragma once

#include "models/hardware/fleet.hpp"

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

namespace fleetsim {

/// GPUs [begin, begin + count) of the fleet's GPU index (a node's GPUs are consecutive).
struct GpuSpan {
  uint32_t begin = 0;
  uint32_t count = 0;
  uint32_t end() const { return begin + count; }
  bool operator==(const GpuSpan&) const = default;
};

/// One replica's GPUs: one span inside a node, or one span per node when tensor parallelism is wider
/// than a node (the nodes then share one scale-up domain).
using ReplicaGpus = std::vector<GpuSpan>;

class ReplicaPlacer {
 public:
  virtual ~ReplicaPlacer() = default;
  /// Places `replicas` dedicated replicas of `gpus_per_replica` GPUs of `accelerator` in `region` on
  /// concrete nodes now, and fills `out` with each replica's GPUs. Returns a handle for replace().
  /// Throws std::runtime_error naming the service, region and numbers if they do not fit.
  virtual uint32_t place(std::string_view service, RegionId region, std::string_view accelerator, uint32_t replicas,
                         uint32_t gpus_per_replica, std::vector<ReplicaGpus>& out) = 0;
  /// `failed` (a node of placement `placement`) went down: a free node that takes its place (same
  /// rack, else datacenter, else region; only inside `within` when given), or nullopt if none is free.
  virtual std::optional<NodeId> replace(uint32_t placement, NodeId failed, std::optional<IndexRange> within) = 0;
  /// Autoscaling: GPUs the broker already lent to the service (CapacityBroker::acquire) that are on
  /// nodes it holds now and no other replica uses, bound to one replica of `gpus` GPUs; nullopt while
  /// the nodes are not handed over yet (a preemption still checkpointing).
  virtual std::optional<ReplicaGpus> bind(RegionId region, std::string_view accelerator, uint32_t gpus) = 0;
  /// The replica stopped using them (scale-down, or its hardware failed).
  virtual void unbind(RegionId region, std::string_view accelerator, const ReplicaGpus& gpus) = 0;
};

}  // namespace fleetsim
