// SPDX-License-Identifier: Apache-2.0
// Collective communication on a placement (a list of GPU endpoints), costed two ways:
//   detailed:  CollectiveRun puts every step's flows on the FlowModel, one step after the other; the
//              time emerges from max-min sharing with whatever else crosses the fabric.
//   aggregate: estimate_collective() solves max-min once per distinct step pattern on the fabric as it
//              is (idle, or with given background load) and sums alpha-beta terms:
//                  time = sum over phases of steps * (alpha + latency + bytes_per_flow / B_bottleneck)
//              where B_bottleneck is the slowest flow's max-min rate in that phase's pattern.
//   On an idle fabric the two agree (tested to 5%; they differ by nanosecond rounding only).
//
//   CollectiveSpec s{.op = CollectiveOp::AllReduce, .algorithm = Algorithm::Ring, .bytes = 1e9,
//                    .alpha = Duration::us(5)};
//   CollectiveCost c = estimate_collective(router, capacities, placement, s);   // aggregate
//   CollectiveRun run(flows, engine, placement, s, [&] { ... });                 // detailed
//   run.start();  ...  run.elapsed();
//
// Algorithms, with n ranks, S = `bytes` (the per-GPU buffer: all-reduce input, all-gather output,
// reduce-scatter input, all-to-all total sent per GPU, point-to-point message):
//   ring all-reduce      2(n-1) steps, each rank sends S/n to the next rank (reduce-scatter then
//                        all-gather, Patarasuk and Yuan 2009): 2(n-1)/n * S/B + 2(n-1) * alpha.
//   ring all-gather,     n-1 steps of S/n: (n-1)/n * S/B + (n-1) * alpha.
//   ring reduce-scatter
//   tree all-reduce      binary tree (parent of rank i is (i-1)/2), not pipelined: reduce up level by
//                        level (two children share the parent's downlink), then broadcast down:
//                        2 * depth steps of S. Latency-optimal for small S.
//   hierarchical         ranks grouped by scale-up domain (equal groups of g): ring reduce-scatter
//   all-reduce           inside each domain (g-1 steps of S/g), then g concurrent ring all-reduces of S/g
//                        across the m domains (2(m-1) steps of S/(g m)), then ring all-gather inside
//                        (g-1 steps of S/g). Falls back to ring when groups are unequal or g == 1.
//   all-to-all           n-1 shift steps (rank i sends S/n to rank i+k in step k); the aggregate mode
//                        solves up to 32 evenly spaced shifts and scales their mean to n-1 steps.
//   point-to-point       one flow of S from placement[0] to placement[1] (a pipeline send).
// alpha is the per-step software overhead (kernel launch, protocol handshake); the path latency of
// each flow is added by the flow model, so the per-step alpha of the formulas is alpha + latency.
#pragma once

#include "models/network/flow_model.hpp"
#include "models/network/routing.hpp"

#include <cstdint>
#include <functional>
#include <span>
#include <vector>

namespace fleetsim {

enum class CollectiveOp : uint8_t { AllReduce, AllGather, ReduceScatter, AllToAll, PointToPoint };
enum class Algorithm : uint8_t { Ring, Tree, Hierarchical };

struct CollectiveSpec {
  CollectiveOp op = CollectiveOp::AllReduce;
  Algorithm algorithm = Algorithm::Ring;
  double bytes = 0;
  Duration alpha = Duration::zero();
  /// Mixed into every transfer's ECMP key: two jobs with different bases hash onto different paths.
  uint64_t key_base = 0;
  /// Each transfer is split into this many flows of bytes/channels with distinct ECMP keys, as NCCL
  /// spreads a peer's traffic over several channels (queue pairs): fewer synchronous steps held back
  /// by one unlucky hash collision.
  uint32_t channels = 1;
};

/// One transfer of a step.
struct Transfer {
  VertexId src = 0, dst = 0;
  double bytes = 0;
};

/// The steps of a collective, generated on demand (a 16,384-rank ring has 32,766 steps of 16,384
/// transfers: never materialised). Steps are grouped into phases; every step of a phase has the same
/// (src, dst, bytes) pattern except all-to-all shifts.
class CollectivePlan {
 public:
  CollectivePlan(std::span<const VertexId> placement, const CollectiveSpec& spec, const Router& router);
  uint32_t steps() const { return total_steps_; }
  /// Fills `out` (cleared first) with the transfers of step `step` (0-based).
  void step(uint32_t step, std::vector<Transfer>& out) const;

  struct Phase {
    uint32_t first_step = 0, steps = 0;
    bool same_pattern = true;  ///< every step of the phase has step(first_step)'s pattern
  };
  const std::vector<Phase>& phases() const { return phases_; }
  /// The algorithm actually used (hierarchical may fall back to ring).
  Algorithm algorithm() const { return algorithm_; }
  /// Scale-up groups found (hierarchical): group size g and group count m.
  uint32_t group_size() const { return g_; }
  uint32_t groups() const { return m_; }

 private:
  std::vector<VertexId> ranks_;  // placement; for hierarchical reordered group by group
  CollectiveSpec spec_;
  Algorithm algorithm_;
  uint32_t n_ = 0, g_ = 1, m_ = 1, depth_ = 0;
  uint32_t total_steps_ = 0;
  std::vector<Phase> phases_;
};

struct CollectiveCost {
  Duration time;                       ///< total
  uint32_t steps = 0;
  double bottleneck_bytes_per_s = 0;   ///< slowest flow rate over the phases (the placement's bottleneck)
  Duration step_latency;               ///< alpha + the longest path latency seen
  bool connected = true;               ///< false: some transfer has no route (time is then max())
};

/// Aggregate cost. `capacity` gives each directed edge's capacity (FlowModel::capacity or nominal);
/// `background` (optional, same indexing) load already on each edge, subtracted first.
CollectiveCost estimate_collective(Router& router, std::span<const double> capacity, std::span<const VertexId> placement,
                                   const CollectiveSpec& spec, std::span<const double> background = {});

/// Aggregate cost of several collectives of the same shape (same op, algorithm and rank count) running
/// in lockstep, such as the data-parallel all-reduces of the 8 tensor-parallel ranks of a job: each
/// step's pattern is the union of theirs, so they share the fabric as they would.
CollectiveCost estimate_concurrent(Router& router, std::span<const double> capacity,
                                   std::span<const std::vector<VertexId>> placements, const CollectiveSpec& spec,
                                   std::span<const double> background = {});

/// The ECMP key of channel `channel` of a transfer src -> dst of a collective with `key_base`: what both
/// costings (and the shared-fabric ledger, fabric_load.hpp) route the transfer with.
uint64_t collective_transfer_key(uint64_t key_base, VertexId src, VertexId dst, uint32_t channel);

/// All-to-all phases longer than this are costed on this many evenly spaced shifts (aggregate modes).
inline constexpr uint32_t kCollectiveSampledSteps = 32;

/// Max-min fair rates of flows over directed-edge paths (progressive filling, from scratch): the
/// reference solver the incremental FlowModel is tested against. Flows with an empty path get +inf.
std::vector<double> max_min_fair(std::span<const std::vector<EdgeIndex>> paths, std::span<const double> capacity);

/// The same rates by a lazy-heap progressive filling over the used links only (what the aggregate
/// costing uses); tested equal to max_min_fair.
std::vector<double> max_min_fair_fast(std::span<const std::vector<EdgeIndex>> paths, std::span<const double> capacity);

/// Closed forms (alpha-beta), for checks and documentation.
Duration ring_allreduce_time(uint32_t n, double bytes, double bytes_per_s, Duration alpha);

/// Detailed execution on the flow model. The object must outlive the run.
class CollectiveRun {
 public:
  CollectiveRun(FlowModel& flows, Router& router, Engine& engine, std::span<const VertexId> placement,
                const CollectiveSpec& spec, std::function<void()> on_done = {});
  CollectiveRun(const CollectiveRun&) = delete;
  CollectiveRun& operator=(const CollectiveRun&) = delete;
  ~CollectiveRun();
  void start();
  bool done() const { return done_; }
  /// A transfer failed (no route): the collective stopped there.
  bool failed() const { return failed_; }
  Duration elapsed() const { return end_ - begin_; }
  SimTime began() const { return begin_; }
  const CollectivePlan& plan() const { return plan_; }

 private:
  void begin_step();
  void launch_step();
  void flow_done();
  void finish();

  FlowModel& flows_;
  Engine& engine_;
  CollectivePlan plan_;
  CollectiveSpec spec_;
  std::function<void()> on_done_;
  uint32_t step_ = 0;
  uint32_t outstanding_ = 0;
  std::vector<Transfer> transfers_;
  std::vector<FlowId> current_;
  SimTime begin_, end_;
  bool done_ = false, failed_ = false, started_ = false;
  EventHandle wait_;
};

}  // namespace fleetsim
