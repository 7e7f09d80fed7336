// SPDX-License-Identifier: Apache-2.0
// bench_inference: the inference model's two fidelities at scale. One JSON line per case:
//   request: one simulated hour of a 64-replica service at 1,000 requests/s (3.6 M requests);
//   fluid:   seven simulated years of a 100,000-GPU service (three regions, growth, a daily cycle,
//            a 15-hour region outage in year 3) in 5-minute steps.
// Usage: bench_inference [request|fluid|all]   (Release build: cmake --preset release or -DCMAKE_BUILD_TYPE=Release)
#include "models/hardware/fleet.hpp"
#include "models/inference/inference_model.hpp"
#include "models/scenario/load_catalog.hpp"
#include "sim/engine.hpp"
#include "sim/recorder.hpp"
#include "sim/rng.hpp"

#include <fmt/format.h>

#include <chrono>
#include <cmath>
#include <string>

using namespace fleetsim;

namespace {

/// The H100 of the shipped catalog (scenarios/catalog/accelerators.json, sources there).
Catalog catalog() {
  Catalog c;
  c.accelerators.push_back(builtin_catalog().accelerator("H100"));
  return c;
}

FleetSpec fleet(const std::vector<std::string>& regions, uint32_t nodes_per_region) {
  FleetSpec s;
  for (const auto& n : regions) {
    DatacenterSpec d;
    d.name = "dc1";
    d.accelerator = "H100";
    d.instance = "p5.48xlarge";
    d.gpus_per_node = 8;
    d.nodes_per_rack = 2;
    d.nodes = nodes_per_region;
    s.add_region(n).add_zone(n + "-az1").datacenters.push_back(d);
  }
  return s;
}

double now_s() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

void request_case() {
  InferenceServiceSpec s;
  s.name = "chat";
  s.model = LlmModelSpec::dense("llama-8b", 8.03e9, 32, 4096, 8, 128);
  s.replica.accelerator = "H100";
  s.prompt = LengthSpec::lognormal(500, 0.8);
  s.prompt.max = 8000;
  s.output = LengthSpec::lognormal(150, 0.8);
  s.output.max = 4000;
  s.arrivals.rate_per_s = 1000;
  s.regions.push_back({.region = "us-east-1", .replicas = 64});
  InferenceSpec spec;
  spec.services.push_back(s);
  Fleet f = Fleet::build(fleet({"us-east-1"}, 8));
  const Catalog cat = catalog();
  Engine eng;
  RngStreams streams(1);
  Recorder rec;
  const double t0 = now_s();
  InferenceModel m(spec, f, cat, eng, streams, rec);
  m.start();
  eng.run(SimTime::zero() + Duration::hours(1));
  m.write_summary();
  const double wall = now_s() - t0;
  const auto& st = m.stats(0);
  fmt::print(
      "{{\"case\":\"request\",\"simulated\":\"1h\",\"replicas\":64,\"requests\":{},\"completed\":{},\"wall_s\":{:.3f},"
      "\"events\":{},\"iterations\":{},\"iteration_events\":{},\"events_per_s\":{:.0f},\"ttft_p50_s\":{:.4f},"
      "\"ttft_p99_s\":{:.4f},\"tpot_p50_s\":{:.4f},\"e2e_p50_s\":{:.3f},\"preemptions\":{},\"saturation_per_replica_rps\":{:.2f}}}\n",
      st.counters.arrived, st.counters.completed, wall, eng.events_executed(), st.iterations, st.segments,
      eng.events_executed() / wall, st.ttft.quantile(0.5), st.ttft.quantile(0.99), st.tpot.quantile(0.5),
      st.e2e.quantile(0.5), st.counters.preemptions, st.replica_saturation_rps);
}

void fluid_case() {
  // 100,000 GPUs: three regions of 4,167 8-GPU nodes; 70B on TP4: 8,334 replicas per region.
  const std::vector<std::string> names{"us-east-1", "us-west-2", "eu-west-1"};
  const uint32_t nodes = 4167;
  InferenceServiceSpec s;
  s.name = "chat";
  s.mode = InferenceMode::Fluid;
  s.model = LlmModelSpec::dense("llama-70b", 70.6e9, 80, 8192, 8, 128);
  s.replica.accelerator = "H100";
  s.replica.tp = 4;
  s.prompt = LengthSpec::lognormal(800, 0.8);
  s.output = LengthSpec::lognormal(300, 0.8);
  s.sample_interval = Duration::hours(1);
  for (int h = 0; h < 24; ++h) s.arrivals.diurnal[static_cast<size_t>(h)] = 1.0 + 0.5 * std::sin((h - 8) * M_PI / 12);
  s.arrivals.growth_per_month = 0.01;
  int32_t offset = -300;
  for (const auto& n : names) {
    s.regions.push_back({.region = n, .replicas = nodes * 8 / 4, .utc_offset_minutes = offset});
    offset += 240;
  }
  InferenceSpec spec;
  spec.services.push_back(s);
  Fleet f = Fleet::build(fleet(names, nodes));
  const Catalog cat = catalog();
  Engine eng;
  RngStreams streams(1);
  Recorder rec;
  const double t0 = now_s();
  // Probe the saturation to set the year-0 load at 30% of capacity (growth takes it past 100%).
  InferenceModel m(spec, f, cat, eng, streams, rec);
  const double sat = m.stats(0).replica_saturation_rps;
  spec.services[0].arrivals.rate_per_s = 0.3 * sat * 3 * (nodes * 8 / 4);
  Engine eng2;
  Recorder rec2;
  InferenceModel m2(spec, f, cat, eng2, streams, rec2);
  m2.start();
  const RegionId r0 = *f.find_region("us-east-1");
  InferenceModel* mp = &m2;
  Fleet* fp = &f;
  eng2.schedule_at(SimTime::zero() + Duration::days(2 * 365 + 200), Phase::Failure, [mp, fp, r0] {
    fp->begin_outage(ref(r0));
    mp->on_fleet_change(ref(r0));
  });
  eng2.schedule_at(SimTime::zero() + Duration::days(2 * 365 + 200) + Duration::hours(15), Phase::Repair, [mp, fp, r0] {
    fp->end_outage(ref(r0));
    mp->on_fleet_change(ref(r0));
  });
  eng2.run(SimTime::zero() + Duration::days(7 * 365));
  m2.write_summary();
  const double wall = now_s() - t0;
  const auto& st = m2.stats(0);
  const auto& w = st.outages.at(0);
  fmt::print(
      "{{\"case\":\"fluid\",\"simulated\":\"7y\",\"gpus\":{},\"replicas\":{},\"wall_s\":{:.3f},\"events\":{},"
      "\"requests\":{:.4g},\"completed\":{:.4g},\"failed\":{:.4g},\"late\":{:.4g},\"e2e_p50_s\":{:.3f},\"e2e_p99_s\":{:.3f},"
      "\"outage_arrived\":{:.4g},\"outage_rerouted\":{:.4g},\"outage_failed\":{:.4g}}}\n",
      f.gpus(), 3 * (nodes * 8 / 4), wall, eng2.events_executed(), st.counters.arrived, st.counters.completed,
      st.counters.failed, st.counters.late, st.e2e.quantile(0.5), st.e2e.quantile(0.99), w.arrived, w.rerouted, w.failed);
}

}  // namespace

int main(int argc, char** argv) {
  const std::string which = argc > 1 ? argv[1] : "all";
  if (which == "request" || which == "all") request_case();
  if (which == "fluid" || which == "all") fluid_case();
  return 0;
}
