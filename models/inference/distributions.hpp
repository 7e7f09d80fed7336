// SPDX-License-Identifier: Apache-2.0
// What the inference model draws and summarizes: token-length samplers, the non-homogeneous arrival
// process, a latency sketch, and the queueing formulas of the fluid mode.
//
//   LengthSampler out(LengthSpec::lognormal(200, 0.8));
//   uint32_t tokens = out.sample(rng);          // rounded, clamped to [min, max]
//   ArrivalProcess arr(spec.arrivals, 0.5, -300, epoch_unix_ns);   // half the traffic, UTC-5
//   SimTime t = arr.next(SimTime::zero(), rng);  // thinning (Lewis and Shedler 1979)
//   LatencySketch sk; sk.add(0.25); sk.quantile(0.99);
//   double c = erlang_c(64, 60.0);               // P(wait) in M/M/64 at offered load 60 Erlangs
#pragma once

#include "models/inference/inference_spec.hpp"
#include "sim/rng.hpp"
#include "sim/time.hpp"

#include <array>
#include <cstdint>
#include <vector>

namespace fleetsim {

/// Draws token counts. quantile() and mean() describe the same rounded, clamped distribution (mean and
/// second moment by a 4096-point stratified quadrature of the quantile function) for the fluid mode.
class LengthSampler {
 public:
  explicit LengthSampler(const LengthSpec& spec);
  uint32_t sample(Rng& rng) const;
  /// The p-quantile, p in (0, 1), before rounding (after clamping).
  double quantile(double p) const;
  double mean() const { return mean_; }
  double second_moment() const { return second_; }

 private:
  uint32_t clamp_round(double v) const;
  LengthSpec spec_;
  double mu_ = 0;
  std::vector<double> cdf_;        // Empirical: cumulative normalized weights
  std::vector<uint32_t> values_;   // Empirical: sorted token counts
  double mean_ = 0, second_ = 0;
};

/// Inverse of the standard normal CDF (Boost.Math's normal quantile); -inf / +inf at p <= 0 / p >= 1.
double normal_quantile(double p);
double normal_cdf(double x);

/// The arrival rate of one (service, region) and a generator of its arrivals.
///   rate(t) = rate * share * diurnal[local hour] / mean(diurnal) * (1 + growth)^(t / 730 h) * bursts(t)
/// Generation is by thinning (Lewis and Shedler, "Simulation of nonhomogeneous Poisson processes by
/// thinning", Naval Research Logistics Quarterly 26(3), 1979): between consecutive change points
/// (local hour boundaries, burst starts and ends) the rate varies only through growth, which is
/// monotone, so the larger end value is a tight majorant; candidates come at the majorant's rate and
/// are kept with probability rate/majorant (always kept, with no draw, when there is no growth).
/// Crossing a change point restarts the exponential gap there (memorylessness keeps this exact).
class ArrivalProcess {
 public:
  ArrivalProcess(const ArrivalSpec& spec, double share, int32_t utc_offset_minutes, int64_t epoch_unix_ns,
                 std::vector<BurstSpec> bursts);
  double rate_at(SimTime t) const;
  /// Expected arrivals in [a, b) (exact: closed-form integral of the growth within each segment).
  double expected(SimTime a, SimTime b) const;
  /// The next arrival after `t`, or SimTime::max() if the rate stays zero until `limit`.
  SimTime next(SimTime t, Rng& rng, SimTime limit) const;

 private:
  /// End of the constant-factor segment holding t (next local hour boundary or burst edge).
  SimTime segment_end(SimTime t) const;
  double factor_at(SimTime t) const;  // diurnal * bursts, without growth
  double growth_at(SimTime t) const;

  double base_;                  // rate * share / mean(diurnal)
  std::array<double, 24> diurnal_;
  double growth_log_per_s_;      // ln(1 + growth) / month
  int64_t local_offset_ns_;      // epoch + utc offset, for the local hour
  std::vector<BurstSpec> bursts_;
};

/// A latency sketch with bounded relative error (DDSketch: Masson, Rim and Lee, "DDSketch: a fast and
/// fully-mergeable quantile sketch with relative-error guarantees", VLDB 2019): values fall into
/// logarithmic buckets of ratio gamma = (1 + a) / (1 - a), and a quantile is reported as its bucket's
/// representative 2 gamma^i / (gamma + 1), within a relative error a = 0.5% of an exact order
/// statistic of rank floor(q (n - 1)). Values below 1 us count as 1 us. Weights may be fractional
/// (the fluid mode adds weighted quantile points). Memory: about 22 KB.
class LatencySketch {
 public:
  static constexpr double kRelativeError = 0.005;
  LatencySketch();
  void add(double seconds, double weight = 1.0);
  void merge(const LatencySketch& other);
  void clear();
  double count() const { return count_; }
  double mean() const { return count_ > 0 ? sum_ / count_ : 0.0; }
  double max() const { return max_; }
  /// The q-quantile (q in [0, 1]); 0 when empty.
  double quantile(double q) const;
  /// Weight of values above x (at bucket resolution).
  double count_above(double x) const;

 private:
  int index(double v) const;
  std::vector<double> buckets_;
  double count_ = 0, sum_ = 0, max_ = 0;
  int lo_ = INT32_MAX, hi_ = -1;
};

/// Erlang's C formula: the probability that an arrival waits in M/M/c with offered load a = lambda/mu
/// (< c). Erlang B by its stable recursion B(k) = a B(k-1) / (k + a B(k-1)) for c <= 5000; above, the
/// Halfin-Whitt limit C ~ [1 + beta Phi(beta) / phi(beta)]^-1 with beta = (c - a) / sqrt(c) (Halfin and
/// Whitt, "Heavy-traffic limits for queues with many exponential servers", Operations Research 1981).
/// Returns 1 when a >= c.
double erlang_c(double c, double a);
/// Mean wait in queue of M/M/c: C(c, a) / (c mu - lambda).
double mmc_mean_wait(double c, double lambda, double mu);
/// Allen-Cunneen approximation for G/G/c: the M/M/c wait times (ca2 + cs2) / 2, where ca2 and cs2
/// are the squared coefficients of variation of interarrival and service times (A. O. Allen,
/// "Probability, Statistics, and Queueing Theory", 2nd ed., Academic Press 1990, section 6).
double allen_cunneen_wait(double c, double lambda, double mu, double ca2, double cs2);
/// The q-quantile of the M/M/c wait: P(W > t) = C exp(-(c mu - lambda) t); scaled like Allen-Cunneen.
double mmc_wait_quantile(double q, double c, double lambda, double mu, double scale = 1.0);

}  // namespace fleetsim
