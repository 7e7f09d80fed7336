// SPDX-License-Identifier: Apache-2.0
// bench_failures: failures at fleet scale. 500,000 GPUs for 7 simulated years, with the published
// Llama 3 rates (scenarios/catalog/failure_presets.json) scaled by 0.1, 1 and 10, a Weibull variant,
// and an idle fleet (no failure process), each in its own process so peak RSS is per case.
//
//   build/release/bench_failures                 # every case, one JSON line each
//   build/release/bench_failures llama3x1        # one case
//
// Prints per case: {"case", "gpus", "years", "failures", "events", "wall_s", "events_per_s", "cpu_s",
// "events_per_cpu_s", "cpu_us_per_failure", "peak_rss_mb", "fleet_mb"} (wall and CPU time include
// building the fleet; CPU time is what counts on a shared machine). Events are written to events.jsonl in a temporary
// directory (the real cost of publishing them) and the files are discarded afterwards.
// What it shows (docs/PERFORMANCE.md): wall time grows with the number of failures, not with the
// number of GPUs; the idle fleet costs its construction only.
#include "models/failures/failure_model.hpp"
#include "models/hardware/fleet.hpp"
#include "models/scenario/load_failures.hpp"
#include "sim/engine.hpp"
#include "sim/recorder.hpp"
#include "sim/rng.hpp"

#include <fmt/format.h>
#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

using namespace fleetsim;

namespace {

constexpr uint32_t kNodes = 62'500;  // 8-GPU hosts: 500,000 GPUs
constexpr int kYears = 7;

FleetSpec big_fleet() {
  // Four regions of three zones, one datacenter each: 5,208 or 5,209 hosts of 8 H100, 2 per rack.
  FleetSpec s;
  uint32_t left = kNodes;
  for (int r = 0; r < 4; ++r) {
    auto& region = s.add_region(fmt::format("region{}", r));
    for (int z = 0; z < 3; ++z) {
      DatacenterSpec d;
      d.name = "dc1";
      d.instance = "p5.48xlarge";
      d.accelerator = "H100";
      d.gpus_per_node = 8;
      d.nodes_per_rack = 2;
      const uint32_t slots = static_cast<uint32_t>(12 - (r * 3 + z));
      d.nodes = left / slots;
      left -= d.nodes;
      region.add_zone(fmt::format("az{}", z)).datacenters.push_back(d);
    }
  }
  return s;
}

FailureSpec llama3_spec(double scale, bool weibull, const RunSpec& run, const FleetSpec& fleet) {
  Diagnostics diags("bench");
  const nlohmann::json doc = nlohmann::json::parse(R"({"failures": {"presets": ["llama3-405b"]}})");
  const Reader root = Reader::root(doc, diags);
  FailureSpec spec = load_failures(root.at("failures"), fleet, run);
  diags.throw_if_any();
  for (auto& p : spec.processes) {
    p.lifetime.mean_s /= scale;
    if (weibull) {
      p.lifetime.kind = LifetimeSpec::Kind::Weibull;
      p.lifetime.shape = 1.5;
    }
  }
  spec.sample_interval = Duration::zero();
  return spec;
}

double cpu_seconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1e-6;
}

double peak_rss_mb() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_maxrss) / 1024.0;  // Linux: kilobytes
}

int run_case(const std::string& name) {
  RunSpec run;
  run.horizon = Duration::days(365 * kYears);
  run.sample_interval = Duration::zero();
  const FleetSpec fs = big_fleet();
  double scale = 0;
  bool weibull = false;
  bool samples = false;
  if (name == "idle") {
  } else if (name == "idle-hourly-samples") {
    samples = true;
  } else if (name == "llama3x0.1") {
    scale = 0.1;
  } else if (name == "llama3x1") {
    scale = 1;
  } else if (name == "llama3x10") {
    scale = 10;
  } else if (name == "llama3x1-weibull") {
    scale = 1;
    weibull = true;
  } else {
    std::fprintf(stderr, "bench_failures: unknown case %s\n", name.c_str());
    return 2;
  }
  FailureSpec spec = scale > 0 ? llama3_spec(scale, weibull, run, fs) : FailureSpec{};
  spec.sample_interval = samples ? Duration::hours(1) : Duration::zero();

  const auto dir = std::filesystem::temp_directory_path() / fmt::format("bench_failures_{}", ::getpid());
  std::filesystem::create_directories(dir);
  const auto t0 = std::chrono::steady_clock::now();
  const double cpu0 = cpu_seconds();
  uint64_t failures = 0, events = 0;
  size_t fleet_bytes = 0;
  {
    Recorder rec(RecorderOptions{.directory = dir, .keep_in_memory = false});
    Fleet fleet = Fleet::build(fs);
    fleet_bytes = fleet.memory_bytes();
    Engine engine;
    RngStreams streams(1);
    FailureModel model(spec, fleet, engine, streams, rec);
    model.start();
    engine.run(SimTime::zero() + run.horizon);
    failures = model.stats().failures;
    events = engine.events_executed();
    rec.abandon();  // discard the files: only their writing is measured
  }
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const double cpu = cpu_seconds() - cpu0;
  std::filesystem::remove_all(dir);
  fmt::print(
      "{{\"case\":\"{}\",\"gpus\":{},\"years\":{},\"failures\":{},\"events\":{},\"wall_s\":{:.3f},"
      "\"events_per_s\":{:.0f},\"cpu_s\":{:.3f},\"events_per_cpu_s\":{:.0f},\"cpu_us_per_failure\":{:.2f},"
      "\"peak_rss_mb\":{:.1f},\"fleet_mb\":{:.2f}}}\n",
      name, kNodes * 8, kYears, failures, events, wall, wall > 0 ? static_cast<double>(events) / wall : 0.0, cpu,
      cpu > 0 ? static_cast<double>(events) / cpu : 0.0, failures > 0 ? cpu * 1e6 / static_cast<double>(failures) : 0.0,
      peak_rss_mb(),
      static_cast<double>(fleet_bytes) / 1e6);
  std::fflush(stdout);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 2) return run_case(argv[1]);
  // One child process per case, so that peak RSS is the case's own.
  const std::vector<std::string> cases = {"idle", "idle-hourly-samples", "llama3x0.1", "llama3x1", "llama3x10",
                                          "llama3x1-weibull"};
  int rc = 0;
  for (const auto& c : cases) {
    const std::string cmd = fmt::format("'{}' '{}'", argv[0], c);
    rc |= std::system(cmd.c_str());
  }
  return rc == 0 ? 0 : 1;
}
