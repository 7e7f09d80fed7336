// SPDX-License-Identifier: Apache-2.0
#include "models/inference/distributions.hpp"

#include <boost/math/distributions/normal.hpp>

#include <algorithm>
#include <cstring>
#include <cmath>
#include <limits>

namespace fleetsim {

// ---- normal ----

double normal_cdf(double x) { return 0.5 * std::erfc(-x / std::sqrt(2.0)); }

double normal_quantile(double p) {
  if (p <= 0) return -std::numeric_limits<double>::infinity();
  if (p >= 1) return std::numeric_limits<double>::infinity();
  // Boost.Math's inverse of the standard normal (through erfc_inv), a well-kept special function,
  // instead of a hand-written rational approximation with a refinement step.
  return boost::math::quantile(boost::math::normal_distribution<double>(), p);
}

// ---- lengths ----

LengthSampler::LengthSampler(const LengthSpec& spec) : spec_(spec) {
  if (spec_.kind == LengthSpec::Kind::Lognormal) mu_ = std::log(spec_.median);
  if (spec_.kind == LengthSpec::Kind::Empirical) {
    auto pts = spec_.points;
    std::sort(pts.begin(), pts.end());
    double total = 0;
    for (const auto& p : pts) total += p.second;
    double cum = 0;
    for (const auto& p : pts) {
      if (p.second <= 0) continue;
      cum += p.second / total;
      values_.push_back(p.first);
      cdf_.push_back(cum);
    }
    if (!cdf_.empty()) cdf_.back() = 1.0;
  }
  constexpr int n = 4096;
  for (int i = 0; i < n; ++i) {
    const double v = clamp_round(quantile((i + 0.5) / n));
    mean_ += v / n;
    second_ += v * v / n;
  }
}

uint32_t LengthSampler::clamp_round(double v) const {
  const double r = std::nearbyint(std::clamp(v, double(spec_.min), double(spec_.max)));
  return static_cast<uint32_t>(r);
}

uint32_t LengthSampler::sample(Rng& rng) const {
  switch (spec_.kind) {
    case LengthSpec::Kind::Fixed:
      return clamp_round(spec_.value);
    case LengthSpec::Kind::Lognormal:
      return clamp_round(spec_.sigma > 0 ? rng.lognormal(mu_, spec_.sigma) : spec_.median);
    case LengthSpec::Kind::Empirical: {
      const double u = rng.uniform01();
      const auto it = std::upper_bound(cdf_.begin(), cdf_.end(), u);
      const size_t i = std::min<size_t>(static_cast<size_t>(it - cdf_.begin()), values_.size() - 1);
      return clamp_round(values_[i]);
    }
  }
  return 1;
}

double LengthSampler::quantile(double p) const {
  double v = 1;
  switch (spec_.kind) {
    case LengthSpec::Kind::Fixed:
      v = spec_.value;
      break;
    case LengthSpec::Kind::Lognormal:
      v = spec_.median * std::exp(spec_.sigma * normal_quantile(p));
      break;
    case LengthSpec::Kind::Empirical: {
      const auto it = std::lower_bound(cdf_.begin(), cdf_.end(), p);
      v = values_[std::min<size_t>(static_cast<size_t>(it - cdf_.begin()), values_.size() - 1)];
      break;
    }
  }
  return std::clamp(v, double(spec_.min), double(spec_.max));
}

// ---- arrivals ----

namespace {
constexpr int64_t kHourNs = 3'600'000'000'000;
constexpr double kMonthS = 730.0 * 3600.0;
int64_t floor_mod(int64_t a, int64_t m) {
  const int64_t r = a % m;
  return r < 0 ? r + m : r;
}
}  // namespace

ArrivalProcess::ArrivalProcess(const ArrivalSpec& spec, double share, int32_t utc_offset_minutes, int64_t epoch_unix_ns,
                               std::vector<BurstSpec> bursts)
    : diurnal_(spec.diurnal), bursts_(std::move(bursts)) {
  double mean = 0;
  for (double f : diurnal_) mean += f / 24.0;
  base_ = mean > 0 ? spec.rate_per_s * share / mean : 0.0;
  growth_log_per_s_ = std::log1p(spec.growth_per_month) / kMonthS;
  local_offset_ns_ = floor_mod(epoch_unix_ns + int64_t{utc_offset_minutes} * 60'000'000'000, 24 * kHourNs);
}

double ArrivalProcess::factor_at(SimTime t) const {
  const int64_t local = floor_mod(local_offset_ns_ + t.ticks(), 24 * kHourNs);
  double f = diurnal_[static_cast<size_t>(local / kHourNs)];
  for (const auto& b : bursts_)
    if (t >= b.start && t < b.start + b.duration) f *= b.factor;
  return f;
}

double ArrivalProcess::growth_at(SimTime t) const {
  return growth_log_per_s_ == 0 ? 1.0 : std::exp(growth_log_per_s_ * t.seconds());
}

double ArrivalProcess::rate_at(SimTime t) const { return base_ * factor_at(t) * growth_at(t); }

SimTime ArrivalProcess::segment_end(SimTime t) const {
  const int64_t into_hour = floor_mod(local_offset_ns_ + t.ticks(), kHourNs);
  SimTime end = SimTime::from_ticks(t.ticks() + (kHourNs - into_hour));
  for (const auto& b : bursts_) {
    const SimTime e = b.start + b.duration;
    if (b.start > t && b.start < end) end = b.start;
    if (e > t && e < end) end = e;
  }
  return end;
}

double ArrivalProcess::expected(SimTime a, SimTime b) const {
  double n = 0;
  SimTime t = a;
  while (t < b) {
    const SimTime e = std::min(segment_end(t), b);
    const double f = base_ * factor_at(t);
    if (f > 0) {
      if (growth_log_per_s_ == 0) {
        n += f * (e - t).seconds();
      } else {
        n += f * (growth_at(e) - growth_at(t)) / growth_log_per_s_;
      }
    }
    t = e;
  }
  return n;
}

SimTime ArrivalProcess::next(SimTime t, Rng& rng, SimTime limit) const {
  if (base_ <= 0) return SimTime::max();
  while (t < limit) {
    const SimTime end = segment_end(t);
    const double f = base_ * factor_at(t);
    if (f <= 0) {
      t = end;
      continue;
    }
    const double g0 = growth_at(t), g1 = growth_at(end);
    const double gmax = std::max(g0, g1);
    const double gap_s = rng.exponential(f * gmax);
    const double gap_ns = std::nearbyint(gap_s * 1e9);
    if (gap_ns >= double((end - t).ticks())) {
      t = end;  // memoryless: restart at the change point
      continue;
    }
    const SimTime cand = t + Duration::ns(static_cast<int64_t>(gap_ns));
    if (growth_log_per_s_ == 0) return cand;
    if (rng.uniform01() * gmax < growth_at(cand)) return cand;
    t = cand;
  }
  return SimTime::max();
}

// ---- sketch ----

namespace {
const double kGamma = (1 + LatencySketch::kRelativeError) / (1 - LatencySketch::kRelativeError);
const double kLogGamma = std::log(kGamma);
constexpr int kOffset = 1400;   // index of 1 us is about -1382
constexpr int kBuckets = 3200;  // up to about 1e7 s
}  // namespace

LatencySketch::LatencySketch() : buckets_(kBuckets, 0.0) {}

namespace {
/// log(x) for normal x > 0 from the IEEE 754 exponent and a 1024-entry table of log over the mantissa,
/// linearly interpolated: absolute error below 2e-7, so a value lands in a neighbouring bucket only
/// within 2e-5 of a bucket edge (buckets are 0.01 wide in log). Several times faster than std::log.
struct FastLog {
  static constexpr int kBits = 10;
  static constexpr int kN = 1 << kBits;
  std::array<double, kN + 1> table{};
  FastLog() {
    for (int i = 0; i <= kN; ++i) table[static_cast<size_t>(i)] = std::log1p(double(i) / kN);
  }
  double operator()(double x) const {
    uint64_t bits = 0;
    std::memcpy(&bits, &x, sizeof bits);
    const int e = static_cast<int>((bits >> 52) & 0x7ff) - 1023;  // x = (1 + f) 2^e
    const uint64_t frac = bits & ((uint64_t{1} << 52) - 1);
    const auto i = static_cast<size_t>(frac >> (52 - kBits));
    const double f = double(frac & ((uint64_t{1} << (52 - kBits)) - 1)) * 0x1.0p-42;
    return table[i] + f * (table[i + 1] - table[i]) + e * 0.69314718055994530942;
  }
};
const FastLog kFastLog;
}  // namespace

int LatencySketch::index(double v) const {
  const double x = std::max(v, 1e-6);
  const int i = static_cast<int>(std::ceil(kFastLog(x) / kLogGamma)) + kOffset;
  return std::clamp(i, 0, kBuckets - 1);
}

void LatencySketch::add(double seconds, double weight) {
  if (!(weight > 0)) return;
  const int i = index(seconds);
  buckets_[static_cast<size_t>(i)] += weight;
  lo_ = std::min(lo_, i);
  hi_ = std::max(hi_, i);
  count_ += weight;
  sum_ += seconds * weight;
  max_ = std::max(max_, seconds);
}

void LatencySketch::merge(const LatencySketch& o) {
  if (o.count_ <= 0) return;
  for (int i = o.lo_; i <= o.hi_; ++i) buckets_[static_cast<size_t>(i)] += o.buckets_[static_cast<size_t>(i)];
  lo_ = std::min(lo_, o.lo_);
  hi_ = std::max(hi_, o.hi_);
  count_ += o.count_;
  sum_ += o.sum_;
  max_ = std::max(max_, o.max_);
}

void LatencySketch::clear() {
  if (hi_ >= lo_) std::fill(buckets_.begin() + lo_, buckets_.begin() + hi_ + 1, 0.0);
  lo_ = INT32_MAX;
  hi_ = -1;
  count_ = sum_ = max_ = 0;
}

double LatencySketch::quantile(double q) const {
  if (count_ <= 0) return 0.0;
  const double rank = std::clamp(q, 0.0, 1.0) * std::max(count_ - 1.0, 0.0);
  double cum = 0;
  for (int i = lo_; i <= hi_; ++i) {
    cum += buckets_[static_cast<size_t>(i)];
    if (cum > rank) return 2.0 * std::exp((i - kOffset) * kLogGamma) / (kGamma + 1.0);
  }
  return 2.0 * std::exp((hi_ - kOffset) * kLogGamma) / (kGamma + 1.0);
}

double LatencySketch::count_above(double x) const {
  if (count_ <= 0) return 0.0;
  const int k = index(x);
  double n = 0;
  for (int i = std::max(k + 1, lo_); i <= hi_; ++i) n += buckets_[static_cast<size_t>(i)];
  return n;
}

// ---- queueing ----

double erlang_c(double c, double a) {
  if (a <= 0) return 0.0;
  if (a >= c) return 1.0;
  if (c <= 5000) {
    const auto servers = static_cast<int64_t>(c);
    double b = 1.0;
    for (int64_t k = 1; k <= servers; ++k) b = a * b / (double(k) + a * b);
    return c * b / (c - a * (1.0 - b));
  }
  const double beta = (c - a) / std::sqrt(c);
  const double phi = std::exp(-beta * beta / 2) / std::sqrt(2 * M_PI);
  return 1.0 / (1.0 + beta * normal_cdf(beta) / phi);
}

double mmc_mean_wait(double c, double lambda, double mu) {
  if (lambda <= 0) return 0.0;
  if (lambda >= c * mu) return std::numeric_limits<double>::infinity();
  return erlang_c(c, lambda / mu) / (c * mu - lambda);
}

double allen_cunneen_wait(double c, double lambda, double mu, double ca2, double cs2) {
  return mmc_mean_wait(c, lambda, mu) * (ca2 + cs2) / 2.0;
}

double mmc_wait_quantile(double q, double c, double lambda, double mu, double scale) {
  if (lambda <= 0) return 0.0;
  if (lambda >= c * mu) return std::numeric_limits<double>::infinity();
  const double pw = erlang_c(c, lambda / mu);
  if (pw <= 1.0 - q) return 0.0;
  return std::log(pw / (1.0 - q)) / (c * mu - lambda) * scale;
}

}  // namespace fleetsim
