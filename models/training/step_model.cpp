// SPDX-License-Identifier: Apache-2.0
#include "models/training/step_model.hpp"

#include "models/network/nccl_protocol.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace fleetsim {

double AlphaBetaCommCost::bandwidth(const CommGroup& g) const {
  if (g.scale_up) return hw_.scale_up_bytes_per_s;
  double bw = hw_.scale_out_bytes_per_s * g.network_factor;
  if (g.racks > 1) bw = std::min(bw, hw_.scale_out_bytes_per_s * hw_.cross_rack_factor * g.network_factor);
  if (g.datacenters > 1) bw = std::min(bw, hw_.scale_out_bytes_per_s * hw_.cross_dc_factor * g.network_factor);
  if (g.regions > 1) bw = std::min(bw, hw_.scale_out_bytes_per_s * hw_.cross_region_factor * g.network_factor);
  // A group with several ranks in each scale-up domain runs NCCL's rings through the domain (NVLink)
  // and leaves it once per ring, one ring per network card: the ring sees the domain's network cards
  // together, capped by the scale-up link (nccl-tests' multi-node bus bandwidth approaches the node's
  // total network bandwidth: 8 x 400 Gb/s = 400 GB/s on a DGX H100). Each ring (channel) crosses
  // the domain as a chain of r ranks: r - 1 NVLink hops and one network card, so over the r rings a
  // rank sends on NVLink in r - 1 of them and the scale-up link caps the bus bandwidth at
  // scale_up * r / (r - 1). The cap is NVLink's data rate expressed as a network line rate:
  // seconds() applies the network cards' protocol efficiency to what this returns, and NVLink carries
  // data at its own (models/network/nccl_protocol.hpp).
  if (g.ranks_per_domain > 1) {
    const double r = g.ranks_per_domain;
    const double nvlink_data = hw_.scale_up_bytes_per_s * nccl_bus_efficiency(NcclLink::ScaleUp) * r / (r - 1);
    bw = std::min(bw * r, nvlink_data / nccl_bus_efficiency(NcclLink::ScaleOut));
  }
  return bw;
}

double AlphaBetaCommCost::latency_s(const CommGroup& g) const {
  if (g.scale_up) return hw_.scale_up_latency.seconds();
  if (g.regions > 1) return hw_.cross_region_latency.seconds();
  if (g.datacenters > 1) return hw_.cross_dc_latency.seconds();
  return hw_.scale_out_latency.seconds();
}

double AlphaBetaCommCost::seconds(Collective c, double bytes, const CommGroup& g) const {
  if (bytes <= 0) return 0;
  if (c != Collective::SendRecv && g.ranks <= 1) return 0;
  NcclOp op = NcclOp::AllReduce;
  switch (c) {
    case Collective::AllReduce: op = NcclOp::AllReduce; break;
    case Collective::AllGather: op = NcclOp::AllGather; break;
    case Collective::ReduceScatter: op = NcclOp::ReduceScatter; break;
    case Collective::AllToAll: op = NcclOp::AllToAll; break;
    case Collective::SendRecv: op = NcclOp::SendRecv; break;
  }
  return nccl_ring_cost(op, g.ranks, bytes, bandwidth(g), latency_s(g), g.scale_up ? NcclLink::ScaleUp : NcclLink::ScaleOut)
      .seconds;
}

double model_flops_per_token(const TrainingJobSpec& job) {
  const ModelShape& m = job.model;
  const double L = m.layers, h = m.hidden, s = m.seq_len, V = m.vocab;
  if (job.flops_formula == FlopsFormula::Megatron) {
    // 72*B*s*L*h^2*(1 + s/(6h) + V/(12*L*h)) per batch of B sequences of s tokens: divide by B*s.
    return 72.0 * L * h * h * (1.0 + s / (6.0 * h) + V / (12.0 * L * h));
  }
  return 6.0 * m.active() + 12.0 * L * h * s;
}

double attention_flops_per_token(const TrainingJobSpec& job) {
  // The s*s part of both formulas: QK^T and AV, 2 FLOPs per multiply-add, forward and backward (x3),
  // counted over the whole s x s score matrix as Narayanan et al. 2021 and PaLM appendix B do.
  const ModelShape& m = job.model;
  return 12.0 * m.layers * double(m.hidden) * m.seq_len;
}

double hardware_attention_flops_per_token(const TrainingJobSpec& job) {
  // Both recomputation modes re-run the attention forward (a third of its FLOPs).
  const double a = attention_flops_per_token(job);
  return job.parallel.recompute == Recompute::None ? a : a + a / 3.0;
}

double hardware_flops_per_token(const TrainingJobSpec& job) {
  const double f = model_flops_per_token(job);
  const ModelShape& m = job.model;
  switch (job.parallel.recompute) {
    case Recompute::None: return f;
    case Recompute::Selective: return f + 4.0 * m.layers * double(m.hidden) * m.seq_len;
    case Recompute::Full: return f + f / 3.0;
  }
  return f;
}

double pipeline_bubble_fraction(uint32_t p, uint32_t m, uint32_t v) {
  if (p <= 1 || m == 0) return 0;
  const double pm1 = p - 1.0;
  return pm1 / (double(v) * m + pm1);
}

uint32_t microbatches(const TrainingJobSpec& job, uint32_t dp) {
  const double per_mb = double(job.parallel.micro_batch_seqs) * job.model.seq_len;
  if (per_mb <= 0 || dp == 0) return 0;
  const double m = job.global_batch_tokens / (per_mb * dp);
  const double r = std::round(m);
  if (r < 1 || std::abs(m - r) > 1e-9 * std::max(1.0, m)) return 0;
  return static_cast<uint32_t>(r);
}

namespace {

CommGroup group(uint32_t ranks, bool scale_up, const PlacementShape& where, bool spans_placement,
                const std::vector<uint32_t>* gpus = nullptr, const std::vector<uint32_t>* all = nullptr) {
  CommGroup g;
  if (gpus != nullptr && gpus->size() == ranks) g.gpus = *gpus;
  if (all != nullptr && ranks > 0 && !all->empty() && all->size() % ranks == 0) g.concurrent_gpus = *all;
  g.ranks = ranks;
  g.scale_up = scale_up;
  g.network_factor = where.network_factor;
  g.members_revision = where.revision;
  if (spans_placement) {
    g.racks = where.racks;
    g.datacenters = where.datacenters;
    g.regions = where.regions;
  }
  return g;
}

struct ParamSplit {
  double dense = 0;   // parameters per GPU outside experts
  double expert = 0;  // expert parameters per GPU
};

ParamSplit params_per_gpu(const TrainingJobSpec& job) {
  const Parallelism& p = job.parallel;
  const double e = job.model.expert_parameters();
  ParamSplit s;
  s.dense = (job.model.parameters - e) / (double(p.tp) * p.pp);
  s.expert = e / (double(p.tp) * p.pp * p.ep);
  return s;
}

}  // namespace

StepBreakdown step_breakdown(const TrainingJobSpec& job, uint32_t dp, const PlacementShape& where, const CommCost& comm) {
  const Parallelism& p = job.parallel;
  const HardwareFigures& hw = job.hardware;
  StepBreakdown b;
  b.dp = dp;
  b.microbatches = microbatches(job, dp);
  if (b.microbatches == 0) {
    throw std::invalid_argument(fmt::format(
        "global batch of {} tokens is not a whole number of micro-batches of {} x {} tokens over {} DP replicas",
        job.global_batch_tokens, p.micro_batch_seqs, job.model.seq_len, dp));
  }
  const double m = b.microbatches;
  const double gpus = double(p.tp) * p.pp * p.cp * dp;
  b.tokens = job.global_batch_tokens;
  b.model_flops = b.tokens * model_flops_per_token(job);
  b.hardware_flops = b.tokens * hardware_flops_per_token(job);
  // The attention core runs at its own efficiency (FlashAttention-style kernels reach a lower fraction of
  // peak than the GEMMs: docs/training.md); everything else at the kernel efficiency.
  const double attn_flops = b.tokens * hardware_attention_flops_per_token(job);
  b.compute_s = (b.hardware_flops - attn_flops) / (gpus * hw.peak_flop_per_s * job.kernel_efficiency) +
                attn_flops / (gpus * hw.peak_flop_per_s * job.attention_kernel_efficiency());
  b.bubble_fraction = pipeline_bubble_fraction(p.pp, b.microbatches, p.virtual_stages);
  b.bubble_s = p.pp > 1 ? b.compute_s * (p.pp - 1.0) / (double(p.virtual_stages) * m) : 0.0;

  const double L = job.model.layers;
  const double layers_per_rank = L / p.pp;
  const double act = double(p.micro_batch_seqs) * (double(job.model.seq_len) / p.cp) * job.model.hidden *
                     job.bytes_per_activation;
  CommGroup tp_g = group(p.tp, p.tp <= hw.scale_up_gpus, where, false, &where.tp_gpus);
  if (p.tp > 1) {
    const double n = (p.recompute == Recompute::Full ? 6.0 : 4.0) * layers_per_rank * m;
    tp_g.calls_per_step = n;
    b.tp_s = n * comm.seconds(Collective::AllReduce, act, tp_g);
  }
  if (p.pp > 1) {
    CommGroup pp_g = group(2, 2ull * p.tp * p.cp <= hw.scale_up_gpus, where, false, &where.pp_pair_gpus,
                               &where.pp_pairs_all_gpus);
    pp_g.calls_per_step = 2.0 * m * p.virtual_stages;
    b.pp_s = 2.0 * m * p.virtual_stages * comm.seconds(Collective::SendRecv, act / p.tp, pp_g);
  }
  const ParamSplit ps = params_per_gpu(job);
  const uint32_t dp_ranks = dp * p.cp;
  if (dp_ranks > 1) {
    CommGroup dp_g = group(dp_ranks, gpus <= hw.scale_up_gpus, where, true, &where.dp_gpus, &where.dp_all_gpus);
    // Megatron orders ranks TP, CP, then DP: DP neighbours are tp*cp apart, so a node of
    // gpus_per_node GPUs holds gpus_per_node/(tp*cp) ranks of each DP group.
    const uint64_t inner = uint64_t{p.tp} * p.cp;
    if (!dp_g.scale_up && inner < hw.gpus_per_node)
      dp_g.ranks_per_domain = std::min<uint32_t>(dp_ranks, static_cast<uint32_t>(hw.gpus_per_node / inner));
    const double zero3 = p.zero_stage >= 3 ? 1.5 : 1.0;
    dp_g.calls_per_step = zero3;
    b.dp_s = zero3 * comm.seconds(Collective::AllReduce, ps.dense * 2.0, dp_g);
    if (b.dp_s > 0) {
      const double n = dp_ranks;
      b.dp_bus_bytes_per_s = 2.0 * (n - 1) / n * ps.dense * 2.0 * zero3 / b.dp_s;
    }
    if (ps.expert > 0 && dp_ranks / p.ep > 1) {
      CommGroup ex_g = dp_g;
      ex_g.ranks = dp_ranks / p.ep;
      // Expert-data-parallel neighbours are tp*cp*ep apart.
      const uint64_t ex_inner = inner * p.ep;
      ex_g.ranks_per_domain =
          ex_g.scale_up || ex_inner >= hw.gpus_per_node
              ? 1u
              : std::min<uint32_t>(ex_g.ranks, static_cast<uint32_t>(hw.gpus_per_node / ex_inner));
      ex_g.gpus = {};
      ex_g.concurrent_gpus = {};
      if (where.expert_dp_gpus.size() == ex_g.ranks) ex_g.gpus = where.expert_dp_gpus;
      if (!where.expert_dp_all_gpus.empty() && where.expert_dp_all_gpus.size() % ex_g.ranks == 0)
        ex_g.concurrent_gpus = where.expert_dp_all_gpus;
      b.dp_s += zero3 * comm.seconds(Collective::AllReduce, ps.expert * 2.0, ex_g);
    }
  }
  if (p.ep > 1 && job.model.moe()) {
    CommGroup ep_g = group(p.ep, uint64_t{p.ep} * p.tp * p.pp * p.cp <= hw.scale_up_gpus, where, false, &where.ep_gpus,
                           &where.ep_all_gpus);
    ep_g.racks = where.racks > 1 ? 2u : 1u;
    const double n = 4.0 * layers_per_rank * m;
    ep_g.calls_per_step = n;
    b.ep_s = n * comm.seconds(Collective::AllToAll, act * job.model.top_k / p.tp, ep_g);
  }
  if (p.cp > 1) {
    CommGroup cp_g = group(p.cp, uint64_t{p.tp} * p.cp <= hw.scale_up_gpus, where, false, &where.cp_gpus,
                           &where.cp_all_gpus);
    // All-gather based context parallelism (Llama 3 §3.3.2): each layer all-gathers K and V forward and
    // reduce-scatters their gradients backward; full recomputation all-gathers them once more. K and V
    // are kv_heads/heads of the activation each (grouped-query attention), split over TP down to one
    // head per rank.
    const double kv = 2.0 * act * std::max(job.model.kv_fraction() / p.tp, 1.0 / std::max(1u, job.model.heads));
    const double fwd = p.recompute == Recompute::Full ? 2.0 : 1.0;
    cp_g.calls_per_step = layers_per_rank * m * fwd;
    const double gather = comm.seconds(Collective::AllGather, kv, cp_g);
    cp_g.calls_per_step = layers_per_rank * m;
    b.cp_s = layers_per_rank * m * (fwd * gather + comm.seconds(Collective::ReduceScatter, kv, cp_g));
  }
  const Overlap& o = job.overlap;
  b.exposed_comm_s = (1 - o.tp) * b.tp_s + (1 - o.pp) * b.pp_s + (1 - o.dp) * b.dp_s + (1 - o.ep) * b.ep_s + (1 - o.cp) * b.cp_s;
  b.step_s = b.compute_s + b.bubble_s + b.exposed_comm_s;
  b.tokens_per_s = b.tokens / b.step_s;
  b.mfu = b.model_flops / (b.step_s * gpus * hw.peak_flop_per_s);
  return b;
}

MemoryBreakdown memory_per_gpu(const TrainingJobSpec& job) {
  const Parallelism& p = job.parallel;
  const ParamSplit ps = params_per_gpu(job);
  MemoryBreakdown mb;
  mb.hbm = job.hardware.hbm_bytes;
  mb.parameters_per_gpu = ps.dense + ps.expert;
  // ZeRO partitions over the data-parallel ranks (DP x CP in Megatron); experts over DP x CP / EP.
  const double nd = std::max(1.0, double(p.dp) * p.cp);
  const double nd_e = std::max(1.0, nd / p.ep);
  auto part = [&](double per_param, bool sharded) {
    return sharded ? per_param * (ps.dense / nd + ps.expert / nd_e) : per_param * (ps.dense + ps.expert);
  };
  mb.weights = part(2, p.zero_stage >= 3);
  mb.gradients = part(2, p.zero_stage >= 2);
  mb.optimizer = part(12, p.zero_stage >= 1);

  const double s = double(job.model.seq_len) / p.cp;
  const double sbh = s * p.micro_batch_seqs * job.model.hidden;
  double per_layer = 0;
  switch (p.recompute) {
    case Recompute::Full: per_layer = job.bytes_per_activation * sbh / p.tp; break;
    case Recompute::Selective: per_layer = sbh * job.activation_coefficient / p.tp; break;
    case Recompute::None:
      per_layer = sbh * (job.activation_coefficient + 5.0 * job.model.heads * s / job.model.hidden) / p.tp;
      break;
  }
  const uint32_t m = std::max<uint32_t>(1, microbatches(job, p.dp));
  const double in_flight = std::min<double>(p.pp, m);
  double layer_mbs = in_flight * double(job.model.layers) / p.pp;
  if (p.virtual_stages > 1 && p.pp > 1) layer_mbs *= 1.0 + (p.pp - 1.0) / (double(p.pp) * p.virtual_stages);
  mb.activations = per_layer * layer_mbs;
  return mb;
}

std::string layout_name(const Parallelism& p) {
  std::string s = fmt::format("TP{}/PP{}/DP{}", p.tp, p.pp, p.dp);
  if (p.cp > 1) s += fmt::format("/CP{}", p.cp);
  if (p.ep > 1) s += fmt::format("/EP{}", p.ep);
  return s;
}

namespace {
std::string gb(double bytes) { return fmt::format("{:.3g} GB", bytes / 1e9); }
const char* recompute_name(Recompute r) {
  switch (r) {
    case Recompute::None: return "none";
    case Recompute::Selective: return "selective";
    case Recompute::Full: return "full";
  }
  return "?";
}
}  // namespace

std::string MemoryBreakdown::describe(const TrainingJobSpec& job) const {
  return fmt::format(
      "layout {} (ZeRO-{}, recompute {}) needs {} per GPU (weights {}, gradients {}, optimizer {}, activations {}) "
      "{} {} has {} of HBM",
      layout_name(job.parallel), job.parallel.zero_stage, recompute_name(job.parallel.recompute), gb(total()),
      gb(weights), gb(gradients), gb(optimizer), gb(activations), fits() ? "and" : "but", job.hardware.accelerator,
      gb(hbm));
}

std::string validate_job(const TrainingJobSpec& job) {
  const Parallelism& p = job.parallel;
  const ModelShape& m = job.model;
  if (m.parameters <= 0 || m.layers == 0 || m.hidden == 0 || m.seq_len == 0)
    return "the model needs positive parameters, layers, hidden size and sequence length";
  if (p.tp == 0 || p.pp == 0 || p.dp == 0 || p.cp == 0 || p.ep == 0 || p.micro_batch_seqs == 0 || p.virtual_stages == 0)
    return "parallel degrees must be at least 1";
  if (p.zero_stage > 3) return fmt::format("ZeRO stage must be 0 to 3, got {}", p.zero_stage);
  if (p.dp % p.ep != 0) return fmt::format("EP {} must divide DP {}", p.ep, p.dp);
  // Uneven stages are allowed (Llama 3 gives the first and last stage one layer less, §3.3.2); at least
  // one layer per model chunk is not negotiable.
  if (m.layers < p.pp * p.virtual_stages)
    return fmt::format("{} layers cannot fill PP {} x {} virtual stages", m.layers, p.pp, p.virtual_stages);
  if (m.seq_len % p.cp != 0) return fmt::format("sequence length {} does not split over CP {}", m.seq_len, p.cp);
  if (job.hardware.peak_flop_per_s <= 0 || job.hardware.hbm_bytes <= 0) return "the accelerator needs a peak FLOP/s and an HBM size";
  if (job.kernel_efficiency <= 0 || job.kernel_efficiency > 1)
    return fmt::format("kernel efficiency must be in (0, 1], got {}", job.kernel_efficiency);
  if (job.attention_efficiency < 0 || job.attention_efficiency > 1)
    return fmt::format("attention efficiency must be in (0, 1], got {}", job.attention_efficiency);
  if (job.global_batch_tokens <= 0 || job.total_tokens <= 0) return "global batch and total tokens must be positive";
  if (microbatches(job, p.dp) == 0)
    return fmt::format("global batch of {} tokens is not a whole number of micro-batches of {} x {} tokens over DP {}",
                       job.global_batch_tokens, p.micro_batch_seqs, m.seq_len, p.dp);
  if (job.hardware.gpus_per_node == 0) return "GPUs per node must be positive";
  const MemoryBreakdown mem = memory_per_gpu(job);
  if (!mem.fits()) return mem.describe(job);
  return {};
}

}  // namespace fleetsim
