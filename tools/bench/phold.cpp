// SPDX-License-Identifier: Apache-2.0
// PHOLD kernel benchmark: N entities each start with M pending events; every event, when it runs,
// schedules one new event at now + Exp(mean 1 us) for a uniformly random entity. The population of
// pending events stays at N*M, so this measures the future-event set and the run loop under a steady
// load. Prints one JSON line.
//
//   bench_phold --entities 10000 --events-per-entity 16 --events 20000000 --seed 1
//   bench_phold --baseline ...     # the same arithmetic over a bare std::priority_queue, for comparison
//   bench_phold --until 100us ...  # stop at a simulated time (with --events too: whichever comes first)
//   bench_phold --mean-delay 1ms   # sparser event times (default 1us: about 160 events per ns here)
//   bench_phold --delay uniform    # the delay's distribution, always with the given mean (default exp)
//
// Delay distributions (--delay), each with mean --mean-delay m, rounded to whole nanoseconds:
//   exp        Exp(m), the classic PHOLD
//   uniform    U[0, 2m)
//   const      m exactly: every event lands after all pending ones (a FIFO, the easiest pattern for a heap)
//   bimodal    Exp(m / 1000) or Exp(1.999 m), each with probability 1/2: dense and sparse times mixed
//   lognormal  lognormal with sigma 2 (median m e^-2, mean m): heavy-tailed, times 1000x apart common
//
// Both modes draw the same random numbers in the same order and break ties by (time, scheduling
// order), so they execute the identical event sequence: "checksum" (a hash of each event's time and
// target, in order) must match between them for the same options. One RNG stream feeds all entities.
//
// Output fields: events executed, wall_s and events_per_s over the run loop only (setup excluded),
// peak_rss_mb (getrusage ru_maxrss), cpu_s and events_per_cpu_s (process CPU time, which on a shared
// machine shows the rate without time lost to other processes), sim_time reached, checksum.
#include "sim/engine.hpp"
#include "sim/rng.hpp"
#include "sim/rounding.hpp"
#include "sim/time.hpp"

#include <fmt/format.h>
#include <sys/resource.h>
#include <time.h>

#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <queue>
#include <string>
#include <string_view>
#include <vector>

namespace {

using fleetsim::Duration;
using fleetsim::Engine;
using fleetsim::EventKind;
using fleetsim::Phase;
using fleetsim::Rng;
using fleetsim::SimTime;

struct Options {
  uint64_t entities = 10'000;
  uint64_t events_per_entity = 16;
  uint64_t events = 0;  // executed events to stop after (0: no limit); 20 million if no --until either
  SimTime until = SimTime::max();
  uint64_t seed = 1;
  double mean_delay_ns = 1000.0;  // 1 us
  std::string delay = "exp";
  bool baseline = false;
};

[[noreturn]] void usage(const std::string& error) {
  std::fprintf(stderr,
               "error: %s\n"
               "usage: bench_phold [--entities N] [--events-per-entity M] [--events E] [--until T] [--seed S] "
               "[--mean-delay D] [--delay exp|uniform|const|bimodal|lognormal] [--baseline]\n"
               "  e.g. bench_phold --entities 10000 --events-per-entity 16 --events 20000000\n",
               error.c_str());
  std::exit(2);
}

uint64_t parse_count(std::string_view flag, const char* text) {
  char* end = nullptr;
  const unsigned long long v = std::strtoull(text, &end, 10);
  if (end == text || *end != '\0' || text[0] == '-') {
    usage(fmt::format("{} expects a non-negative integer, got \"{}\"", flag, text));
  }
  return v;
}

Options parse_options(int argc, char** argv) {
  Options o;
  bool until_given = false;
  for (int i = 1; i < argc; ++i) {
    const std::string_view a = argv[i];
    if (a == "--baseline") {
      o.baseline = true;
      continue;
    }
    if (a != "--entities" && a != "--events-per-entity" && a != "--events" && a != "--until" && a != "--seed" &&
        a != "--mean-delay" && a != "--delay") {
      usage(fmt::format("unknown option \"{}\"", a));
    }
    if (i + 1 >= argc) usage(fmt::format("{} needs a value", a));
    const char* v = argv[++i];
    if (a == "--entities") {
      o.entities = parse_count(a, v);
    } else if (a == "--events-per-entity") {
      o.events_per_entity = parse_count(a, v);
    } else if (a == "--events") {
      o.events = parse_count(a, v);
    } else if (a == "--until") {
      try {
        o.until = SimTime::zero() + fleetsim::parse_duration(v);
      } catch (const std::exception& e) {
        usage(fmt::format("--until: {}", e.what()));
      }
      until_given = true;
    } else if (a == "--mean-delay") {
      try {
        o.mean_delay_ns = static_cast<double>(fleetsim::parse_duration(v).ticks());
      } catch (const std::exception& e) {
        usage(fmt::format("--mean-delay: {}", e.what()));
      }
      if (o.mean_delay_ns <= 0) usage("--mean-delay must be positive");
    } else if (a == "--delay") {
      o.delay = v;
      if (o.delay != "exp" && o.delay != "uniform" && o.delay != "const" && o.delay != "bimodal" &&
          o.delay != "lognormal") {
        usage(fmt::format("--delay expects exp, uniform, const, bimodal or lognormal, got \"{}\"", v));
      }
    } else {
      o.seed = parse_count(a, v);
    }
  }
  if (o.entities == 0 || o.entities > UINT32_MAX) usage("--entities must be in 1 .. 2^32-1");
  if (o.events == 0 && !until_given) o.events = 20'000'000;
  return o;
}

enum class DelayDist : uint8_t { Exp, Uniform, Const, Bimodal, Lognormal };

DelayDist delay_dist(const std::string& name) {
  if (name == "uniform") return DelayDist::Uniform;
  if (name == "const") return DelayDist::Const;
  if (name == "bimodal") return DelayDist::Bimodal;
  if (name == "lognormal") return DelayDist::Lognormal;
  return DelayDist::Exp;
}

// A delay with the given mean and distribution, in whole nanoseconds, rounded as Duration::from_seconds
// rounds (halves away from zero, sim/rounding.hpp). Exp draws exactly as before the other distributions
// were added, so its checksums are unchanged.
struct DelayDraw {
  static constexpr double kSigma = 2.0;
  DelayDraw(double mean, DelayDist d)
      // exp(N(mu, sigma)) has mean exp(mu + sigma^2 / 2) = mean_ns: mu is a constant of the run.
      : mean_ns(mean), dist(d), lognormal_mu(std::log(mean) - kSigma * kSigma / 2.0) {}
  double mean_ns;
  DelayDist dist;
  double lognormal_mu;

  int64_t operator()(Rng& rng) const {
    using fleetsim::round_half_away;
    switch (dist) {
      case DelayDist::Exp:
        break;
      case DelayDist::Uniform:
        return round_half_away(rng.uniform(0.0, 2.0 * mean_ns));
      case DelayDist::Const:
        return round_half_away(mean_ns);
      case DelayDist::Bimodal: {
        const double e = rng.exponential(1.0);  // drawn first: the order of draws is part of the benchmark
        return round_half_away(e * (rng.bernoulli(0.5) ? mean_ns / 1000.0 : 1.999 * mean_ns));
      }
      case DelayDist::Lognormal:
        return round_half_away(rng.lognormal(lognormal_mu, kSigma));
    }
    return round_half_away(rng.exponential(1.0) * mean_ns);
  }
};

uint64_t checksum_step(uint64_t h, int64_t time, uint32_t target) {
  return (h ^ (static_cast<uint64_t>(time) * 0x9e3779b97f4a7c15ull + target)) * 0x100000001b3ull;
}

// CPU time of this process: on a shared machine it shows what wall time would be without contention.
double cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

struct Result {
  uint64_t events = 0;
  double wall_s = 0;
  double cpu_s = 0;
  int64_t sim_end_ns = 0;
  uint64_t checksum = 0;
};

// ----- the engine -----

struct Phold {
  Engine* engine;
  Rng rng;
  DelayDraw delay;
  uint32_t entities;
  EventKind kind;
  std::vector<uint64_t> received;
  uint64_t checksum = 0;
};

struct PholdEvent {
  Phold* p;
  uint32_t target;
  void operator()() const {
    Phold& s = *p;
    ++s.received[target];
    s.checksum = checksum_step(s.checksum, s.engine->now().ticks(), target);
    const auto next = static_cast<uint32_t>(s.rng.uniform_int(uint64_t{s.entities}));
    const int64_t delay = s.delay(s.rng);
    s.engine->schedule_in(Duration::ns(delay), Phase::Arrival, PholdEvent{p, next}, s.kind);
  }
};

Result run_engine(const Options& o) {
  Engine engine;
  Phold s{&engine,
          fleetsim::RngStreams(o.seed).stream("phold"),
          DelayDraw(o.mean_delay_ns, delay_dist(o.delay)),
          static_cast<uint32_t>(o.entities),
          engine.register_kind("phold"), std::vector<uint64_t>(o.entities, 0)};
  engine.reserve(o.entities * o.events_per_entity);
  for (uint32_t e = 0; e < o.entities; ++e) {
    for (uint64_t m = 0; m < o.events_per_entity; ++m) {
      engine.schedule_at(SimTime::zero() + Duration::ns(s.delay(s.rng)), Phase::Arrival,
                         PholdEvent{&s, e},
                         s.kind);
    }
  }
  if (o.events > 0) engine.set_periodic_hook(o.events, [&engine] { engine.stop(); });
  const double c0 = cpu_seconds();
  const auto t0 = std::chrono::steady_clock::now();
  const fleetsim::RunResult r = engine.run(o.until);
  const auto t1 = std::chrono::steady_clock::now();
  return Result{r.events, std::chrono::duration<double>(t1 - t0).count(), cpu_seconds() - c0, engine.now().ticks(),
                s.checksum};
}

// ----- the baseline: the same arithmetic over std::priority_queue -----

struct BaselineEvent {
  int64_t time;
  uint64_t seq;
  uint32_t target;
};
struct Later {
  bool operator()(const BaselineEvent& a, const BaselineEvent& b) const {
    return a.time > b.time || (a.time == b.time && a.seq > b.seq);
  }
};

Result run_baseline(const Options& o) {
  Rng rng = fleetsim::RngStreams(o.seed).stream("phold");
  const auto n = static_cast<uint32_t>(o.entities);
  std::vector<uint64_t> received(n, 0);
  std::vector<BaselineEvent> storage;
  storage.reserve(o.entities * o.events_per_entity + 1);
  std::priority_queue<BaselineEvent, std::vector<BaselineEvent>, Later> q(Later{}, std::move(storage));
  uint64_t seq = 0;
  const DelayDraw draw(o.mean_delay_ns, delay_dist(o.delay));
  for (uint32_t e = 0; e < n; ++e) {
    for (uint64_t m = 0; m < o.events_per_entity; ++m) q.push({draw(rng), seq++, e});
  }
  const uint64_t limit = o.events > 0 ? o.events : UINT64_MAX;
  const int64_t until = o.until.ticks();
  uint64_t executed = 0;
  uint64_t checksum = 0;
  int64_t now = 0;
  const double c0 = cpu_seconds();
  const auto t0 = std::chrono::steady_clock::now();
  while (!q.empty() && executed < limit) {
    const BaselineEvent ev = q.top();
    if (ev.time > until) {
      now = until;
      break;
    }
    q.pop();
    now = ev.time;
    ++received[ev.target];
    checksum = checksum_step(checksum, now, ev.target);
    const auto next = static_cast<uint32_t>(rng.uniform_int(uint64_t{n}));
    const int64_t delay = draw(rng);
    q.push({now + delay, seq++, next});
    ++executed;
  }
  const auto t1 = std::chrono::steady_clock::now();
  return Result{executed, std::chrono::duration<double>(t1 - t0).count(), cpu_seconds() - c0, now, checksum};
}

}  // namespace

int main(int argc, char** argv) {
  const Options o = parse_options(argc, argv);
  Result r;
  try {
    r = o.baseline ? run_baseline(o) : run_engine(o);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 70;
  }
  rusage usage_info{};
  getrusage(RUSAGE_SELF, &usage_info);
  const double peak_rss_mb = static_cast<double>(usage_info.ru_maxrss) / 1024.0;  // ru_maxrss is in KiB
  const double events = static_cast<double>(r.events);
  fmt::print(
      "{{\"bench\":\"phold\",\"entities\":{},\"events_per_entity\":{},\"events\":{},\"wall_s\":{:.3f},"
      "\"events_per_s\":{:.0f},\"peak_rss_mb\":{:.1f},\"impl\":\"{}\",\"cpu_s\":{:.3f},\"events_per_cpu_s\":{:.0f},"
      "\"seed\":{},\"mean_delay\":\"{}\",\"delay\":\"{}\",\"sim_time\":\"{}\",\"checksum\":\"{:016x}\"}}\n",
      o.entities, o.events_per_entity, r.events, r.wall_s, r.wall_s > 0 ? events / r.wall_s : 0.0, peak_rss_mb,
      o.baseline ? "std_priority_queue" : "engine", r.cpu_s, r.cpu_s > 0 ? events / r.cpu_s : 0.0, o.seed,
      Duration::ns(static_cast<int64_t>(o.mean_delay_ns)), o.delay, Duration::ns(r.sim_end_ns), r.checksum);
  return 0;
}
