// SPDX-License-Identifier: Apache-2.0
// Fleet: the built hierarchy regions > availability zones > datacenters > racks > nodes > GPUs, with a
// health state per component and capacity counts kept up to date on every change.
//
//   Fleet fleet = Fleet::build(spec);                    // spec: FleetSpec (fleet_spec.hpp)
//   GpuId g = fleet.gpus_of(NodeId{3}).begin_id();
//   fleet.path(ref(g));                                  // "us-east-1/use1-az4/dc1/rack0/node3/gpu0"
//   fleet.set_health(ref(NodeId{3}), Health::Failed);    // O(depth): counts follow at once
//   fleet.usable_gpus(RegionId{0});                      // GPUs usable now: own state and every
//                                                        // enclosing domain up
//   fleet.begin_outage(ref(RegionId{0}));                // the whole region is offline, O(1)
//
// Storage (why 500,000 GPUs cost about a megabyte): components are dense index ranges, not objects.
// A datacenter holds contiguous ranges of racks, nodes and GPUs and one shape (GPUs per node, nodes
// per rack), so the parent of a GPU, node or rack is arithmetic after a binary search over the few
// datacenters; a region's GPUs are contiguous too. Per GPU we keep one byte (its Health); per node
// two bytes (Health, count of up GPUs); per rack five. Names exist only for regions, zones and
// datacenters; rack/node/GPU names are built on demand from their index within the parent
// ("rack17", "node3", "gpu5", counted from 0). Slowdown factors of stragglers are sparse.
//
// Health and usability. Each component has its own Health. "Up" means Healthy or Degraded (a slowed
// component still works); a domain (datacenter, zone, region) is also down while an outage holds it
// (begin_outage/end_outage nest, so overlapping outages are fine), and a datacenter is down before it
// is installed and after it retires. A GPU is usable when it and every enclosing component are up.
// Usable counts are kept hierarchically: every node, rack and domain stores how many GPUs below it are
// usable if it and its ancestors were up; a change walks up the (at most five) ancestors and stops at
// the first one that is down, so a region outage, a rack failure or a GPU failure each cost O(depth),
// never a scan. The only scans are installing or retiring a whole datacenter (rare, explicit).
//
// Counts by state (for utilization.csv) are per (region, accelerator) and component level, of the
// state each component reports (health()): own Health, except NotInstalled/Retired when its
// datacenter is not installed or retired (or its node retired), and Offline for a domain held by an
// outage. Not thread-safe.
#pragma once

#include "models/hardware/fleet_spec.hpp"
#include "sim/ids.hpp"

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace fleetsim {

using RegionId = Id<struct RegionTag>;
using ZoneId = Id<struct ZoneTag>;
using DatacenterId = Id<struct DatacenterTag>;
using RackId = Id<struct RackTag>;
using NodeId = Id<struct NodeTag>;
using GpuId = Id<struct GpuTag>;

/// Levels of the hierarchy, outermost first.
enum class Level : uint8_t { Region = 0, Zone = 1, Datacenter = 2, Rack = 3, Node = 4, Gpu = 5 };
inline constexpr int kLevels = 6;
std::string_view level_name(Level l);  ///< "region", "zone", "datacenter", "rack", "node", "gpu"

/// Health of one component. Degraded = up but slowed (a straggler).
enum class Health : uint8_t {
  Healthy = 0,
  Degraded = 1,
  Failed = 2,        ///< broken, repair not started (detection, queueing)
  Repairing = 3,
  Offline = 4,       ///< a domain held down by an outage (reported only, never set directly)
  NotInstalled = 5,  ///< capacity that ramps in later
  Retired = 6,
};
inline constexpr int kHealthStates = 7;
std::string_view health_name(Health h);  ///< "healthy", "degraded", "failed", "repairing", ...
constexpr bool is_up(Health h) { return h == Health::Healthy || h == Health::Degraded; }

/// Any component: its level and its index among the components of that level.
struct ComponentRef {
  Level level = Level::Gpu;
  uint32_t index = 0;
  friend bool operator==(ComponentRef, ComponentRef) = default;
};
inline ComponentRef ref(RegionId id) { return {Level::Region, id.value()}; }
inline ComponentRef ref(ZoneId id) { return {Level::Zone, id.value()}; }
inline ComponentRef ref(DatacenterId id) { return {Level::Datacenter, id.value()}; }
inline ComponentRef ref(RackId id) { return {Level::Rack, id.value()}; }
inline ComponentRef ref(NodeId id) { return {Level::Node, id.value()}; }
inline ComponentRef ref(GpuId id) { return {Level::Gpu, id.value()}; }

/// A half-open range [begin, end) of indices of one level.
struct IndexRange {
  uint32_t begin = 0;
  uint32_t end = 0;
  uint32_t size() const { return end - begin; }
  bool contains(uint32_t i) const { return i >= begin && i < end; }
};

class Fleet {
 public:
  /// Builds the hierarchy. Throws std::invalid_argument on a spec that breaks FleetSpec's invariants.
  static Fleet build(const FleetSpec& spec);

  // ---- sizes and names ----
  uint32_t count(Level l) const;
  uint32_t regions() const { return count(Level::Region); }
  uint32_t gpus() const { return count(Level::Gpu); }
  uint32_t nodes() const { return count(Level::Node); }
  uint32_t racks() const { return count(Level::Rack); }
  const std::string& region_name(RegionId r) const { return regions_[r.value()].name; }
  const std::string& zone_name(ZoneId z) const { return zones_[z.value()].name; }
  const std::string& datacenter_name(DatacenterId d) const { return dcs_[d.value()].name; }
  std::optional<RegionId> find_region(std::string_view name) const;
  /// "us-east-1/use1-az4/dc2/rack17/node3/gpu5" (indices from 0 within the parent).
  std::string path(ComponentRef c) const;
  /// The component a path names (as path() writes it), or nullopt.
  std::optional<ComponentRef> find(std::string_view path) const;

  // ---- hierarchy ----
  RegionId region_of(ComponentRef c) const;
  ZoneId zone_of(ComponentRef c) const;  ///< c at zone level or below
  DatacenterId datacenter_of(ComponentRef c) const;  ///< c at datacenter level or below
  RackId rack_of(NodeId n) const;
  NodeId node_of(GpuId g) const;
  /// The parent of c (c must not be a region).
  ComponentRef parent(ComponentRef c) const;
  /// Components of level `l` inside c (c itself when l == c.level). l must not be above c.level.
  IndexRange range(ComponentRef c, Level l) const;
  /// Components of level l in a region (contiguous by construction).
  IndexRange range(RegionId r, Level l) const { return range(ref(r), l); }
  /// Nodes sharing n's scale-up (NVLink) domain, n included.
  IndexRange scale_up_domain(NodeId n) const;

  // ---- accelerators ----
  /// Accelerator names present in the fleet, in order of first appearance; indices are "acc".
  const std::vector<std::string>& accelerators() const { return accelerators_; }
  uint32_t accelerator_of(ComponentRef c) const;  ///< c at datacenter level or below
  const std::string& instance_of(DatacenterId d) const { return dcs_[d.value()].instance; }
  uint32_t gpus_per_node(DatacenterId d) const { return dcs_[d.value()].gpn; }

  // ---- state ----
  /// The reported state (see the header comment).
  Health health(ComponentRef c) const;
  /// Own Health as last set, ignoring installation and outages.
  Health own_health(ComponentRef c) const;
  /// Up by its own state (and, for domains, no outage; for datacenters, installed and not retired).
  bool own_up(ComponentRef c) const;
  /// Installed, not retired (its datacenter installed and not retired, its node not retired).
  bool active(ComponentRef c) const;
  /// c and every component enclosing it are up: a GPU that can run work, a node whose GPUs can.
  bool usable(ComponentRef c) const;
  /// Usable GPUs inside c (O(1) for domains, racks and nodes thanks to the hierarchical counts).
  uint64_t usable_gpus(ComponentRef c) const;
  uint64_t usable_gpus(RegionId r) const { return usable_gpus(ref(r)); }
  uint64_t usable_gpus(RegionId r, uint32_t acc) const;
  uint64_t usable_gpus_total() const;
  /// Installed and not retired GPUs of (region, accelerator).
  uint64_t installed_gpus(RegionId r, uint32_t acc) const { return installed_[group(r.value(), acc)]; }
  uint64_t installed_gpus(RegionId r) const;
  /// Components of level l in (region, accelerator) reporting state h. Zone and region levels have no
  /// accelerator: use count_domains.
  uint64_t count(RegionId r, uint32_t acc, Level l, Health h) const;
  /// Zones, regions or datacenters of region r reporting state h.
  uint64_t count_domains(RegionId r, Level l, Health h) const;

  // ---- changes (the failure model calls these) ----
  /// Sets c's own Health to Healthy, Degraded, Failed or Repairing. Ignored on a component that is not
  /// active (not installed, retired). Going down clears a slowdown (the part was taken out; it
  /// returns repaired). O(depth).
  void set_health(ComponentRef c, Health h);
  /// Outage holds on a domain (region, zone, datacenter); they nest. O(depth).
  void begin_outage(ComponentRef domain);
  void end_outage(ComponentRef domain);
  int outage_depth(ComponentRef domain) const;
  /// Capacity over time. install: a NotInstalled datacenter becomes active. retire: a datacenter or
  /// a node stops counting. O(size of what changes).
  void install(DatacenterId d);
  void retire(DatacenterId d);
  void retire(NodeId n);
  /// Retires whole nodes worth at least `gpus` GPUs of region r, oldest datacenters first; returns the
  /// retired nodes.
  std::vector<NodeId> retire_gpus(RegionId r, uint64_t gpus);

  // ---- stragglers ----
  /// Slowdown factor of a GPU or node (>= 1; 1.25 = 25% slower). 1 clears it. A Healthy component
  /// with a factor > 1 reports Degraded, and back.
  void set_slowdown(ComponentRef gpu_or_node, double factor);
  /// max(own factor, its node's factor); 1 when neither is slowed.
  double slowdown(GpuId g) const;
  /// Slowest factor over a placement: a synchronous job runs at the pace of this.
  double slowest(std::span<const GpuId> gpus) const;
  double slowest(std::span<const NodeId> nodes) const;  ///< includes the nodes' GPUs
  size_t slowed_components() const { return gpu_slow_.size() + node_slow_.size(); }

  // ---- partial outages ----
  /// New capacity cannot launch in a domain while a block holds (blocks nest).
  void add_launch_block(ComponentRef domain, int delta);
  bool launch_allowed(ComponentRef c) const;  ///< no block on c's datacenter, zone or region
  /// Scale-out network of a domain degraded to `factor` of nominal (0 < factor <= 1); several
  /// degradations at once: the smallest factor applies.
  void push_network_factor(ComponentRef domain, double factor);
  void pop_network_factor(ComponentRef domain, double factor);
  double network_factor(ComponentRef c) const;  ///< for c at any level: its domains' smallest factor

  /// Bytes of heap memory this fleet uses (for the benchmark).
  size_t memory_bytes() const;

 private:
  struct RegionRec {
    std::string name;
    IndexRange zones, dcs, racks, nodes, gpus;
  };
  struct ZoneRec {
    std::string name;
    uint32_t region;
    IndexRange dcs;
  };
  struct DcRec {
    std::string name, instance;
    uint32_t zone, region, acc;
    uint32_t gpn, npr, scale_up_nodes;
    IndexRange racks, nodes, gpus;
  };
  struct DomainState {
    Health health = Health::Healthy;
    uint16_t outage_depth = 0;
    uint16_t launch_blocks = 0;
    std::vector<double> net_factors;
  };

  uint32_t group(uint32_t region, uint32_t acc) const { return region * naccs_ + acc; }
  uint32_t dc_of_rack(uint32_t rack) const;
  uint32_t dc_of_node(uint32_t node) const;
  uint32_t dc_of_gpu(uint32_t gpu) const;
  uint32_t dc_index(ComponentRef c) const;
  DomainState& domain(ComponentRef c);
  const DomainState& domain(ComponentRef c) const;
  bool dc_active(uint32_t dc) const;
  /// The up count a component holds (GPUs below it that would be usable if it and its ancestors were up).
  uint64_t up_count(ComponentRef c, uint32_t acc) const;
  void add_up_count(ComponentRef c, uint32_t acc, int64_t delta);
  /// Adds `delta` to the up counts of c's ancestors, stopping above the first one that is down.
  void propagate(ComponentRef c, uint32_t acc, int64_t delta);
  void count_move(ComponentRef c, Health from, Health to);
  /// Adds `sign` to the counter of every component of a datacenter (and to installed_), around
  /// install/retire, which may move all of them.
  void recount_dc(uint32_t di, int sign);
  int64_t& counter(uint32_t region, uint32_t acc, Level l, Health h);

  std::vector<RegionRec> regions_;
  std::vector<ZoneRec> zones_;
  std::vector<DcRec> dcs_;
  std::vector<std::string> accelerators_;
  uint32_t naccs_ = 0;
  uint32_t nracks_ = 0, nnodes_ = 0, ngpus_ = 0;
  // Sorted begin indices per datacenter, for the binary searches.
  std::vector<uint32_t> dc_rack_begin_, dc_node_begin_, dc_gpu_begin_;

  std::vector<DomainState> region_state_, zone_state_, dc_state_;
  std::vector<Health> rack_health_, node_health_, gpu_health_;
  std::vector<uint32_t> rack_up_;   // up GPUs under each rack
  std::vector<uint8_t> node_up_;    // up GPUs in each node (<= 255)
  std::vector<uint64_t> dc_up_;     // per datacenter
  std::vector<uint64_t> zone_up_;   // per (zone, acc)
  std::vector<uint64_t> region_up_; // per (region, acc)

  std::vector<int64_t> installed_;  // per (region, acc)
  // counts_[((group * kLevels) + level) * kHealthStates + health]; zone/region levels use acc 0.
  std::vector<int64_t> counts_;

  std::unordered_map<uint32_t, double> gpu_slow_, node_slow_;  // sparse; never iterated for output
};

}  // namespace fleetsim
