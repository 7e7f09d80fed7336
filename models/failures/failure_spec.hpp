// SPDX-License-Identifier: Apache-2.0
// FailureSpec: what breaks the fleet, as plain config in SI units and simulated time. The loader
// (models/scenario/load_failures.hpp) fills it from the scenario's "failures" key; FailureModel
// (failure_model.hpp) runs it. docs/failures.md has the model and the equations.
//
//   FailureSpec spec;
//   ProcessSpec& p = spec.processes.emplace_back();
//   p.name = "gpu"; p.cls = ComponentClass::Gpu; p.cause = "Faulty GPU";
//   p.lifetime = LifetimeSpec::exponential_mtbf(143470.7 * 3600);        // seconds
//   p.repair = RepairSpec::lognormal_median(24 * 3600, 1.0);
//   spec.outages.push_back({.name = "use1", .kind = OutageKind::Full, .target = "us-east-1",
//                           .from = t0, .duration = Duration::hours(15), ...});
//
// Component classes and the population each one draws its victims from:
//   gpu, hbm      one per GPU; the GPU goes down
//   link          one per GPU scale-out rail (its NIC port to the leaf switch); reported to listeners
//                 (the network model), the GPU stays up
//   node, nic,    one per node (host); the node goes down with its GPUs
//   software
//   switch        one per rack (its top-of-rack switch); reported to listeners, nothing goes down here
//   rack_power    one per rack; the rack goes down with every node in it
//   datacenter, az, region   one per domain; everything inside goes down
// A process with slowdown > 1 is a straggler process: its victim is slowed (Degraded) by that factor
// for the "repair" duration instead of failing.
#pragma once

#include "models/hardware/fleet.hpp"
#include "sim/time.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace fleetsim {

enum class ComponentClass : uint8_t {
  Gpu, Hbm, Link, Node, Nic, Software, Switch, RackPower, Datacenter, Az, Region,
};
inline constexpr int kComponentClasses = 11;
/// "gpu", "hbm", "link", "node", "nic", "software", "switch", "rack_power", "datacenter", "az", "region"
std::string_view class_name(ComponentClass c);
std::optional<ComponentClass> parse_class(std::string_view name);
/// All class names, in enum order (for did-you-mean).
const std::vector<std::string>& class_names();
/// The fleet level whose components form the class's population.
Level population_level(ComponentClass c);
/// Whether a failure of this class takes fleet capacity down (false for link and switch: the network
/// model hears of those and decides what they mean for flows).
bool takes_capacity_down(ComponentClass c);

/// Time to failure of one component.
struct LifetimeSpec {
  enum class Kind : uint8_t { Exponential, Weibull };
  Kind kind = Kind::Exponential;
  double mean_s = 0;  ///< MTBF: the mean lifetime, seconds (> 0)
  double shape = 1;   ///< Weibull shape k (> 0); 1 is exponential. Scale = mean / Gamma(1 + 1/k).

  static LifetimeSpec exponential_mtbf(double mtbf_s) { return {Kind::Exponential, mtbf_s, 1.0}; }
  static LifetimeSpec weibull_mtbf(double mtbf_s, double k) { return {Kind::Weibull, mtbf_s, k}; }
  /// Weibull scale (eta) for this mean and shape; the mean for exponential.
  double scale_s() const;
};

/// Downtime after a failure: `detect` in state Failed, then a drawn repair time in state Repairing.
struct RepairSpec {
  enum class Kind : uint8_t { Fixed, Exponential, Lognormal };
  Kind kind = Kind::Fixed;
  double value_s = 0;   ///< Fixed: the time; Exponential: the mean; Lognormal: the median (exp(mu))
  double sigma = 0;     ///< Lognormal: sd of the logarithm
  Duration detect = Duration::zero();

  static RepairSpec fixed(double s) { return {Kind::Fixed, s, 0, Duration::zero()}; }
  static RepairSpec exponential_mean(double s) { return {Kind::Exponential, s, 0, Duration::zero()}; }
  static RepairSpec lognormal_median(double s, double sigma) { return {Kind::Lognormal, s, sigma, Duration::zero()}; }
  /// Mean of the drawn part (without detect), seconds.
  double mean_s() const;
};

struct ProcessSpec {
  std::string name;   ///< unique; names the RNG streams ("failures/<name>/<region>")
  ComponentClass cls = ComponentClass::Gpu;
  std::string cause;  ///< label in events.jsonl ("Faulty GPU"); defaults to the class name
  LifetimeSpec lifetime;
  RepairSpec repair;
  std::vector<std::string> regions;       ///< empty: every region
  std::vector<std::string> accelerators;  ///< empty: every accelerator (domain classes ignore it)
  double slowdown = 0;  ///< > 1: a straggler process (see the header comment)
};

enum class OutageKind : uint8_t {
  Full,     ///< the domain is offline: its capacity is unusable
  Launch,   ///< running capacity keeps running; new capacity cannot launch (Fleet::launch_allowed)
  Network,  ///< scale-out network degraded to network_factor of nominal (Fleet::network_factor)
};
std::string_view outage_kind_name(OutageKind k);  ///< "full", "launch", "network"

/// A scheduled outage of a region, zone or datacenter.
struct OutageSpec {
  std::string name;
  OutageKind kind = OutageKind::Full;
  std::string target;  ///< fleet path: "us-east-1", "us-east-1/use1-az4", "us-east-1/use1-az4/dc1"
  SimTime from;
  Duration duration;
  double network_factor = 1.0;  ///< Network kind: fraction of nominal bandwidth left, (0, 1]
  std::string cause;
};

/// A scheduled straggler: the GPU or node at `target` runs `slowdown` times slower for `duration`.
struct StragglerSpec {
  std::string name;
  std::string target;  ///< fleet path of a GPU or node
  SimTime at;
  Duration duration;
  double slowdown = 1.0;
  std::string cause;
};

struct FailureSpec {
  std::vector<ProcessSpec> processes;  ///< presets expanded, then the scenario's own
  std::vector<OutageSpec> outages;
  std::vector<StragglerSpec> stragglers;
  /// Interval between capacity samples in the utilization table; zero: no samples.
  Duration sample_interval = Duration::hours(1);
  /// Name of the capacity table (utilization.csv by default).
  std::string table = "utilization";
};

}  // namespace fleetsim
