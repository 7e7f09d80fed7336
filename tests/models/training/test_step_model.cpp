// SPDX-License-Identifier: Apache-2.0
#include "models/network/nccl_protocol.hpp"
#include "models/training/checkpoint.hpp"
#include "models/training/step_model.hpp"
#include "tests/models/training/training_fixtures.hpp"

#include <catch2/catch.hpp>

#include <cmath>

using namespace fleetsim;
using fleetsim::test::llama3_405b;

namespace {

/// A communication model where everything is free: isolates compute and bubble.
class FreeComm final : public CommCost {
 public:
  double seconds(Collective, double, const CommGroup&) const override { return 0; }
};

}  // namespace

TEST_CASE("model FLOPs per token: 6N plus the attention term by hand for Llama 3 405B", "[training]") {
  const TrainingJobSpec j = llama3_405b();
  // 6 * 405e9 = 2.43e12; 12 * 126 layers * 16384 * 8192 = 202,937,204,736.
  const double hand = 2.43e12 + 202937204736.0;
  CHECK(model_flops_per_token(j) == Approx(hand).epsilon(1e-12));
  // A 15.6T-token run: 6ND alone is 3.79e25 (Llama 3 paper §3.2 quotes 3.8e25 FLOPs).
  CHECK(6 * j.model.parameters * j.total_tokens == Approx(3.79e25).epsilon(1e-3));
}

TEST_CASE("model FLOPs per token: the Megatron formula for GPT-3 175B by hand", "[training]") {
  TrainingJobSpec j = llama3_405b();
  j.flops_formula = FlopsFormula::Megatron;
  j.model.layers = 96;
  j.model.hidden = 12288;
  j.model.seq_len = 2048;
  j.model.vocab = 51200;
  // 72 * l * h^2 * (1 + s/(6h) + V/(12 l h)) per token (Narayanan et al. 2021, eq. 3 / (B s)):
  // 72 * 96 * 12288^2 = 1,043,677,052,928; 1 + 2048/73728 + 51200/14155776 = 1.031394...
  const double base = 72.0 * 96 * 12288.0 * 12288.0;
  const double hand = base * (1 + 2048.0 / 73728.0 + 51200.0 / 14155776.0);
  CHECK(model_flops_per_token(j) == Approx(hand).epsilon(1e-12));
  CHECK(model_flops_per_token(j) == Approx(1.0764e12).epsilon(1e-3));
}

TEST_CASE("hardware FLOPs add recomputation: full adds a forward pass", "[training]") {
  TrainingJobSpec j = llama3_405b();
  j.parallel.recompute = Recompute::Full;
  CHECK(hardware_flops_per_token(j) == Approx(model_flops_per_token(j) * 4.0 / 3.0));
  j.parallel.recompute = Recompute::None;
  CHECK(hardware_flops_per_token(j) == model_flops_per_token(j));
  j.parallel.recompute = Recompute::Selective;
  CHECK(hardware_flops_per_token(j) == Approx(model_flops_per_token(j) + 4.0 * 126 * 16384 * 8192));
}

TEST_CASE("pipeline bubble is (p-1)/(m+p-1) of the pipeline time", "[training]") {
  CHECK(pipeline_bubble_fraction(4, 8) == Approx(3.0 / 11.0));
  CHECK(pipeline_bubble_fraction(16, 16) == Approx(15.0 / 31.0));
  CHECK(pipeline_bubble_fraction(16, 16, 4) == Approx(15.0 / 79.0));
  CHECK(pipeline_bubble_fraction(1, 8) == 0);
  // In a step with free communication, bubble / (compute + bubble) is that fraction.
  TrainingJobSpec j = fleetsim::test::small_job(8, 1e9);
  j.parallel.tp = 2;
  j.parallel.pp = 4;
  j.parallel.dp = 8;
  j.global_batch_tokens = 4096.0 * 8 * 8;  // 64 sequences over 8 replicas: m = 8
  FreeComm free;
  const StepBreakdown b = step_breakdown(j, 8, PlacementShape{}, free);
  REQUIRE(b.microbatches == 8);
  CHECK(b.bubble_s / (b.compute_s + b.bubble_s) == Approx(3.0 / 11.0));
  CHECK(b.step_s == Approx(b.compute_s + b.bubble_s));
  // compute = tokens * hardware FLOPs / (GPUs * peak * efficiency)
  CHECK(b.compute_s == Approx(b.tokens * hardware_flops_per_token(j) / (64 * 989.4e12 * 0.5)));
  CHECK(b.mfu == Approx(b.model_flops / (b.step_s * 64 * 989.4e12)));
}

TEST_CASE("exposed communication is the non-overlapped part", "[training]") {
  TrainingJobSpec j = llama3_405b();
  AlphaBetaCommCost comm(j.hardware);
  PlacementShape where;
  where.nodes = 2048;
  where.racks = 1024;
  j.overlap = Overlap{0, 0, 0, 0, 0};
  const StepBreakdown none = step_breakdown(j, 128, where, comm);
  j.overlap = Overlap{1, 1, 1, 1, 1};
  const StepBreakdown all = step_breakdown(j, 128, where, comm);
  CHECK(none.exposed_comm_s == Approx(none.tp_s + none.pp_s + none.dp_s));
  CHECK(all.exposed_comm_s == 0);
  CHECK(all.step_s == Approx(all.compute_s + all.bubble_s));
  // The DP all-reduce of 2 bytes per parameter of a GPU's shard, over 128 ranks at 50 GB/s, by hand:
  // NCCL's Simple protocol at the network cards' calibrated bus efficiency, its 8.4 us base and 6.6 us
  // per network step (models/network/nccl_protocol.hpp).
  const double shard = 405e9 / (8 * 16);
  CHECK(none.dp_s == Approx(2.0 * 127 / 128 * shard * 2 / (50e9 * kNcclScaleOutEfficiency) + 8.4e-6 + 2 * 127 * 6.6e-6));
}

TEST_CASE("alpha-beta costs: tiers crossed lower the bandwidth", "[training]") {
  HardwareFigures hw = fleetsim::test::h100_figures();
  hw.cross_rack_factor = 0.5;
  AlphaBetaCommCost comm(hw);
  CommGroup g;
  g.ranks = 8;
  g.scale_up = true;
  CHECK(comm.bandwidth(g) == 450e9);
  g.scale_up = false;
  CHECK(comm.bandwidth(g) == 50e9);
  g.racks = 4;
  CHECK(comm.bandwidth(g) == 25e9);
  g.datacenters = 2;
  CHECK(comm.bandwidth(g) == Approx(50e9 * 0.25));
  g.network_factor = 0.5;
  CHECK(comm.bandwidth(g) == Approx(50e9 * 0.25 * 0.5));
  // ring all-reduce of 1 GB over 8 ranks inside NVLink: 2*7/8 GB at 370 GB/s (NCCL's Simple protocol
  // on a 450 GB/s line, nccl-tests issue #212) + 8.4 us + 14 steps of 5.7 us
  CommGroup nv;
  nv.ranks = 8;
  nv.scale_up = true;
  CHECK(comm.seconds(Collective::AllReduce, 1e9, nv) == Approx(1.75e9 / 370e9 + 8.4e-6 + 14 * 5.7e-6));
  // A data-parallel group holding all 8 GPUs of each node runs its rings through NVLink and uses the
  // node's 8 network cards together: 8 x 50 GB/s, not one card's 50.
  CommGroup dp;
  dp.ranks = 32;
  dp.ranks_per_domain = 8;
  CHECK(comm.bandwidth(dp) == Approx(400e9));
  // Capped by the scale-up link: each of the 16 rings crosses a domain in 15 NVLink hops and one card,
  // so a rank's NVLink carries 15/16 of the bus bandwidth: NVLink's data rate (0.822 of 450 GB/s) x
  // 16/15, expressed as the network line rate that carries it at the cards' efficiency (0.976).
  dp.ranks_per_domain = 16;
  CHECK(comm.bandwidth(dp) == Approx(450e9 * kNcclScaleUpEfficiency * 16 / 15 / kNcclScaleOutEfficiency));
  CHECK(comm.bandwidth(dp) * kNcclScaleOutEfficiency == Approx(370e9 * 16 / 15));
  // 8 ranks per domain on 8 x 50 GB/s cards: the cards bind (390 GB/s of data), not NVLink (423).
  dp.ranks_per_domain = 8;
  CHECK(comm.bandwidth(dp) == Approx(400e9));
}

TEST_CASE("a layout that exceeds HBM is rejected with its numbers", "[training]") {
  TrainingJobSpec j = llama3_405b();
  j.parallel.tp = 8;
  j.parallel.pp = 1;
  j.parallel.dp = 2048;
  j.parallel.virtual_stages = 1;
  j.parallel.zero_stage = 1;
  // 405e9 / 8 = 50.6e9 parameters per GPU: 101 GB of bf16 weights alone.
  const MemoryBreakdown m = memory_per_gpu(j);
  CHECK(m.weights == Approx(2 * 405e9 / 8));
  CHECK_FALSE(m.fits());
  const std::string msg = validate_job(j);
  CHECK_THAT(msg, Catch::Contains("layout TP8/PP1/DP2048 (ZeRO-1, recompute full) needs"));
  CHECK_THAT(msg, Catch::Contains("weights 101 GB"));
  CHECK_THAT(msg, Catch::Contains("but H100 has 80 GB of HBM"));
  // The model refuses the job by name.
  TrainingSpec spec;
  spec.jobs.push_back(j);
  fleetsim::test::TrainingRun* run = nullptr;
  CHECK_THROWS_WITH((run = new fleetsim::test::TrainingRun(fleetsim::test::h100_fleet(4), fleetsim::test::quiet(), spec)),
                    Catch::Contains("training job \"llama3-405b\": layout TP8/PP1/DP2048"));
  delete run;
}

TEST_CASE("memory follows the ZeRO stages", "[training]") {
  TrainingJobSpec j = llama3_405b();
  const double psi = 405e9 / 128;
  j.parallel.zero_stage = 0;
  MemoryBreakdown m = memory_per_gpu(j);
  CHECK(m.weights + m.gradients + m.optimizer == Approx(16 * psi));
  j.parallel.zero_stage = 1;
  m = memory_per_gpu(j);
  CHECK(m.weights + m.gradients + m.optimizer == Approx(4 * psi + 12 * psi / 128));
  j.parallel.zero_stage = 2;
  m = memory_per_gpu(j);
  CHECK(m.weights + m.gradients + m.optimizer == Approx(2 * psi + 14 * psi / 128));
  j.parallel.zero_stage = 3;
  m = memory_per_gpu(j);
  CHECK(m.weights + m.gradients + m.optimizer == Approx(16 * psi / 128));
}

TEST_CASE("Llama 3 405B on 16K H100: the published layout fits with full recomputation", "[training]") {
  TrainingJobSpec j = llama3_405b();
  CHECK(validate_job(j).empty());
  // Selective recomputation at 34 bytes per s*b*h (Korthikanti et al. 2022) does not fit in 80 GB.
  j.parallel.recompute = Recompute::Selective;
  CHECK_FALSE(memory_per_gpu(j).fits());
}

TEST_CASE("Young/Daly interval: sqrt(2CM) and Daly's correction", "[training]") {
  const Duration c = Duration::s(60), m = Duration::hours(3);
  CHECK(young_daly_interval(c, m).seconds() == Approx(std::sqrt(2.0 * 60 * 10800)));
  const double young = std::sqrt(2.0 * 60 * 10800);
  const double r = 60.0 / (2 * 10800);
  CHECK(young_daly_interval(c, m, true).seconds() == Approx(young * (1 + std::sqrt(r) / 3 + 60.0 / (18 * 10800)) - 60));
  // Daly: a checkpoint dearer than 2M means checkpointing once per MTBF.
  CHECK(young_daly_interval(Duration::hours(7), m, true) == m);
}

TEST_CASE("interruption rate of a placement sums the classes per component", "[training]") {
  FailureSpec fs;
  ProcessSpec g;
  g.name = "gpu";
  g.cls = ComponentClass::Gpu;
  g.lifetime = LifetimeSpec::exponential_mtbf(1000);
  fs.processes.push_back(g);
  ProcessSpec n = g;
  n.name = "node";
  n.cls = ComponentClass::Node;
  n.lifetime = LifetimeSpec::exponential_mtbf(100);
  fs.processes.push_back(n);
  ProcessSpec s = g;
  s.name = "straggler";
  s.slowdown = 1.5;
  fs.processes.push_back(s);
  ProcessSpec other = g;
  other.name = "elsewhere";
  other.regions = {"r2"};
  fs.processes.push_back(other);
  PlacementCounts pc;
  pc.gpus = 80;
  pc.nodes = 10;
  CHECK(interruption_rate_per_s(fs, pc, "r1", "H100") == Approx(80.0 / 1000 + 10.0 / 100));
}

TEST_CASE("mixture of experts: FLOPs follow the active parameters and experts shard over EP", "[training]") {
  // Mixtral 8x7B-like: 46.7B total, 12.9B active, 8 experts, top-2 (Jiang et al. 2024, arXiv:2401.04088).
  TrainingJobSpec j = fleetsim::test::small_job(8, 1e12);
  j.model.parameters = 46.7e9;
  j.model.active_parameters = 12.9e9;
  j.model.experts = 8;
  j.model.top_k = 2;
  j.model.layers = 32;
  j.model.hidden = 4096;
  j.model.heads = 32;
  j.parallel.tp = 8;
  j.parallel.dp = 8;
  j.parallel.ep = 8;
  // total = shared + 8e, active = shared + 2e: e = 33.8e9 / 6, experts hold 8e = 45.07e9.
  CHECK(j.model.expert_parameters() == Approx(33.8e9 * 8 / 6));
  CHECK(model_flops_per_token(j) == Approx(6 * 12.9e9 + 12.0 * 32 * 4096 * 4096));
  const MemoryBreakdown m = memory_per_gpu(j);
  const double shared = 46.7e9 - 33.8e9 * 8 / 6;
  CHECK(m.parameters_per_gpu == Approx(shared / 8 + (33.8e9 * 8 / 6) / 64));
  AlphaBetaCommCost comm(j.hardware);
  const StepBreakdown b = step_breakdown(j, 8, PlacementShape{}, comm);
  CHECK(b.ep_s > 0);
  j.parallel.ep = 1;
  const StepBreakdown dense_ep = step_breakdown(j, 8, PlacementShape{}, comm);
  CHECK(dense_ep.ep_s == 0);
}

TEST_CASE("long context costs more: the 131K layout of Llama 3 ranks below the 8K layout", "[training]") {
  // Issue 20 item 5. Table 4 of the Llama 3 paper: 400 TFLOPs/GPU at 16,384 GPUs with 8K sequences,
  // 380 at 16,384 GPUs with 131K sequences (TP8/CP16/PP16/DP8). With attention at the GEMMs' efficiency
  // the 131K layout came out higher (its FLOPs per token double while communication per token stays).
  TrainingJobSpec short_seq = llama3_405b();
  short_seq.model.kv_heads = 8;
  short_seq.kernel_efficiency = 0.7;
  TrainingJobSpec long_seq = short_seq;
  long_seq.model.seq_len = 131072;
  long_seq.parallel.cp = 16;
  long_seq.parallel.dp = 8;
  AlphaBetaCommCost comm(short_seq.hardware);
  PlacementShape where;
  where.nodes = 2048;
  where.racks = 1024;
  const StepBreakdown s0 = step_breakdown(short_seq, 128, where, comm);
  const StepBreakdown l0 = step_breakdown(long_seq, 8, where, comm);
  CHECK(l0.mfu > s0.mfu);  // the old ordering, with attention as fast as the GEMMs
  // FlashAttention-style kernels on H100 reach 0.547 of the BF16 peak (fitted on NVIDIA NeMo's long
  // sequence table, docs/validation-notes.md): the attention core is 57% of the 131K model FLOPs.
  short_seq.attention_efficiency = long_seq.attention_efficiency = 0.547;
  const StepBreakdown s1 = step_breakdown(short_seq, 128, where, comm);
  const StepBreakdown l1 = step_breakdown(long_seq, 8, where, comm);
  CHECK(l1.mfu < s1.mfu);
  // Both rows have 16 micro-batches per replica: the same bubble, so the ratio is the attention cost.
  CHECK(l1.microbatches == s1.microbatches);
  CHECK(l1.mfu / s1.mfu == Approx(380.0 / 400.0).margin(0.1));
  // Attention FLOPs grow with the sequence: 12*L*h*s per token.
  CHECK(attention_flops_per_token(long_seq) == Approx(16 * attention_flops_per_token(short_seq)));
}

TEST_CASE("context parallelism moves K and V: grouped-query heads, backward reduce-scatter, recompute", "[training]") {
  TrainingJobSpec j = llama3_405b();
  j.model.seq_len = 131072;
  j.parallel.cp = 16;
  j.parallel.dp = 8;
  j.parallel.recompute = Recompute::Selective;
  AlphaBetaCommCost comm(j.hardware);
  PlacementShape where;
  const double mha = step_breakdown(j, 8, where, comm).cp_s;
  j.model.kv_heads = 8;  // 8 of 128 heads: K and V are 1/16 of an activation, one head per TP rank
  const double gqa = step_breakdown(j, 8, where, comm).cp_s;
  CHECK(gqa < mha / 5);  // 16x fewer bytes; the per-step latencies stay
  j.parallel.recompute = Recompute::Full;  // one more all-gather forward: 3 collectives instead of 2
  const double full = step_breakdown(j, 8, where, comm).cp_s;
  CHECK(full == Approx(1.5 * gqa).epsilon(0.01));
}
