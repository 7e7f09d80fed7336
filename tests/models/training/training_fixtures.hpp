// SPDX-License-Identifier: Apache-2.0
// Jobs, fleets and runs for the training and scheduler tests, built directly as structs (no JSON).
#pragma once

#include "models/failures/failure_model.hpp"
#include "models/hardware/fleet.hpp"
#include "models/scheduler/gang_scheduler.hpp"
#include "models/training/training_model.hpp"
#include "sim/engine.hpp"
#include "sim/recorder.hpp"
#include "sim/rng.hpp"

#include <memory>
#include <string>

namespace fleetsim::test {

/// H100 figures for the step model as in scenarios/catalog/accelerators.json and p5.48xlarge (3200 Gbps
/// for 8 GPUs). Named apart from tests/models/inference/inference_fixtures.hpp's test::h100() (the
/// catalog's AcceleratorSpec), so a test can include both headers.
inline HardwareFigures h100_figures() {
  HardwareFigures h;
  h.accelerator = "H100";
  h.peak_flop_per_s = 989.4e12;
  h.hbm_bytes = 80e9;
  h.scale_up_bytes_per_s = 450e9;
  h.scale_out_bytes_per_s = 50e9;
  h.gpus_per_node = 8;
  h.scale_up_gpus = 8;
  return h;
}

/// Llama 3 405B (Grattafiori et al. 2024, Table 3) at the 16K-GPU layout of Table 4.
inline TrainingJobSpec llama3_405b() {
  TrainingJobSpec j;
  j.name = "llama3-405b";
  j.model.parameters = 405e9;
  j.model.layers = 126;
  j.model.hidden = 16384;
  j.model.heads = 128;
  j.model.seq_len = 8192;
  j.model.vocab = 128256;
  j.global_batch_tokens = 16.0 * 1024 * 1024;
  j.total_tokens = 15.6e12;
  j.parallel.tp = 8;
  j.parallel.pp = 16;
  j.parallel.dp = 128;
  j.parallel.virtual_stages = 4;
  j.parallel.recompute = Recompute::Full;
  j.hardware = h100_figures();
  return j;
}

/// A small dense job on `nodes` 8-GPU nodes: TP8, PP1, DP = nodes; steps of about a second.
inline TrainingJobSpec small_job(uint32_t nodes, double total_tokens) {
  TrainingJobSpec j;
  j.name = "small";
  j.model.parameters = 1e9;
  j.model.layers = 16;
  j.model.hidden = 2048;
  j.model.heads = 16;
  j.model.seq_len = 4096;
  j.model.vocab = 32000;
  j.parallel.tp = 8;
  j.parallel.pp = 1;
  j.parallel.dp = nodes;
  j.global_batch_tokens = 4096.0 * 8 * nodes;
  j.total_tokens = total_tokens;
  j.hardware = h100_figures();
  j.checkpoint.kind = CheckpointPolicy::Kind::Fixed;
  j.checkpoint.interval = Duration::minutes(30);
  j.checkpoint.storage_bytes_per_s = 14e9 / 60;  // a 14 GB checkpoint takes 60 s
  j.recovery.detection = Duration::minutes(1);
  j.recovery.restart = Duration::minutes(5);
  return j;
}

/// One region "r1", one zone "z1", one datacenter "dc1" of `nodes` 8-GPU H100 nodes, 2 per rack.
inline FleetSpec h100_fleet(uint32_t nodes, uint32_t nodes_per_rack = 2) {
  FleetSpec s;
  DatacenterSpec d;
  d.name = "dc1";
  d.instance = "p5.48xlarge";
  d.accelerator = "H100";
  d.gpus_per_node = 8;
  d.nodes_per_rack = nodes_per_rack;
  d.nodes = nodes;
  s.add_region("r1").add_zone("z1").datacenters.push_back(d);
  return s;
}

inline ProcessSpec node_process(std::string name, double mtbf_s, double repair_s) {
  ProcessSpec p;
  p.name = std::move(name);
  p.cls = ComponentClass::Node;
  p.cause = "node";
  p.lifetime = LifetimeSpec::exponential_mtbf(mtbf_s);
  p.repair = RepairSpec::fixed(repair_s);
  return p;
}

/// Fleet, engine, failures, scheduler and training of one run, in dependency order.
struct TrainingRun {
  Fleet fleet;
  Engine engine;
  RngStreams streams;
  Recorder recorder;
  FailureSpec failure_spec;
  FailureModel failures;
  GangScheduler scheduler;
  TrainingModel training;
  TrainingRun(const FleetSpec& fs, const FailureSpec& fspec, const TrainingSpec& tspec, uint64_t seed = 1)
      : fleet(Fleet::build(fs)),
        streams(seed),
        recorder(RecorderOptions{.directory = {}, .keep_in_memory = true}),
        failure_spec(fspec),
        failures(failure_spec, fleet, engine, streams, recorder),
        scheduler(fleet, engine, &failures),
        training(tspec, fleet, engine, recorder, scheduler, &failures, &failure_spec) {}
  void run_for(Duration d) {
    failures.start();
    training.start();
    engine.run(SimTime::zero() + d);
  }
};

inline FailureSpec quiet() {
  FailureSpec s;
  s.sample_interval = Duration::zero();
  return s;
}

}  // namespace fleetsim::test
