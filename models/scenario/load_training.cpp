// SPDX-License-Identifier: Apache-2.0
#include "models/scenario/load_training.hpp"

#include "models/training/step_model.hpp"
#include "models/scenario/did_you_mean.hpp"
#include "models/scenario/load_fleet.hpp"

#include <fmt/format.h>

#include <map>
#include <set>

namespace fleetsim {

namespace {
// Below this a step takes more than 1000 times its ideal: a typo, not a measurement (measured MFUs of
// large runs are 0.3-0.5).
constexpr double kMinKernelEfficiency = 0.001;
}  // namespace

namespace {

uint32_t read_u32(const Reader& r, std::string_view key, uint32_t def, int64_t min = 1) {
  return static_cast<uint32_t>(r.integer_or(key, min, 1'000'000'000, def));
}

ModelShape read_model(const Reader& m) {
  m.reject_unknown_keys(
      {"parameters", "active_parameters", "layers", "hidden", "heads", "kv_heads", "seq_len", "vocab", "experts", "top_k"});
  ModelShape s;
  s.parameters = m.at("parameters").positive();
  if (auto a = m.opt("active_parameters")) s.active_parameters = a->positive();
  s.layers = static_cast<uint32_t>(m.at("layers").integer(1, 100'000));
  s.hidden = static_cast<uint32_t>(m.at("hidden").integer(1, 10'000'000));
  s.heads = static_cast<uint32_t>(m.at("heads").integer(1, 100'000));
  s.seq_len = static_cast<uint32_t>(m.at("seq_len").integer(1, 100'000'000));
  if (m.has("kv_heads")) {
    s.kv_heads = static_cast<uint32_t>(m.at("kv_heads").integer(1, 100'000));
    if (s.kv_heads > s.heads) m.at("kv_heads").expected(fmt::format("at most the {} attention heads", s.heads));
  }
  s.vocab = static_cast<uint32_t>(m.integer_or("vocab", 1, 100'000'000, 32000));
  s.experts = read_u32(m, "experts", 1);
  s.top_k = read_u32(m, "top_k", 1);
  if (s.top_k > s.experts) m.at("top_k").expected(fmt::format("at most the {} experts", s.experts));
  if (s.active_parameters > s.parameters) m.at("active_parameters").expected("at most \"parameters\"");
  return s;
}

Parallelism read_parallelism(const Reader& p) {
  p.reject_unknown_keys({"tp", "pp", "dp", "ep", "cp", "zero_stage", "micro_batch", "virtual_stages", "recompute"});
  Parallelism x;
  x.tp = read_u32(p, "tp", 1);
  x.pp = read_u32(p, "pp", 1);
  x.dp = read_u32(p, "dp", 1);
  x.ep = read_u32(p, "ep", 1);
  x.cp = read_u32(p, "cp", 1);
  x.zero_stage = static_cast<uint32_t>(p.integer_or("zero_stage", 0, 3, 1));
  x.micro_batch_seqs = read_u32(p, "micro_batch", 1);
  x.virtual_stages = read_u32(p, "virtual_stages", 1);
  x.recompute = p.choice_or<Recompute>("recompute", {{"none", Recompute::None}, {"selective", Recompute::Selective}, {"full", Recompute::Full}},
                                       Recompute::Selective);
  if (x.dp % x.ep != 0) p.at("ep").expected(fmt::format("a divisor of DP {}", x.dp));
  return x;
}

Overlap read_overlap(const Reader& o) {
  o.reject_unknown_keys({"tp", "pp", "dp", "ep", "cp"});
  Overlap d;
  Overlap x;
  x.tp = o.fraction_or("tp", d.tp);
  x.pp = o.fraction_or("pp", d.pp);
  x.dp = o.fraction_or("dp", d.dp);
  x.ep = o.fraction_or("ep", d.ep);
  x.cp = o.fraction_or("cp", d.cp);
  return x;
}

CheckpointPolicy read_checkpoint(const Reader& c) {
  c.reject_unknown_keys({"policy", "interval", "daly", "mtbf_source", "mtbf", "size", "bytes_per_parameter",
                         "storage_bandwidth", "async", "async_stall", "restore"});
  CheckpointPolicy d;
  CheckpointPolicy x;
  x.kind = c.choice_or<CheckpointPolicy::Kind>(
      "policy", {{"young-daly", CheckpointPolicy::Kind::YoungDaly}, {"fixed", CheckpointPolicy::Kind::Fixed}, {"none", CheckpointPolicy::Kind::None}},
      d.kind);
  x.interval = c.duration_or("interval", d.interval, Bound::Positive);
  x.daly_higher_order = c.boolean_or("daly", d.daly_higher_order);
  x.mtbf_source = c.choice_or<CheckpointPolicy::MtbfSource>(
      "mtbf_source", {{"expected", CheckpointPolicy::MtbfSource::Expected}, {"observed", CheckpointPolicy::MtbfSource::Observed}},
      d.mtbf_source);
  if (auto m = c.opt("mtbf")) x.mtbf = m->positive_duration();
  if (auto s = c.opt("size")) x.size_bytes = s->quantity(Dimension::DataSize, Bound::Positive);
  x.bytes_per_parameter = c.number_or("bytes_per_parameter", d.bytes_per_parameter);
  if (x.bytes_per_parameter <= 0) c.at("bytes_per_parameter").expected("a positive number");
  x.storage_bytes_per_s = c.quantity_or("storage_bandwidth", Dimension::Bandwidth, d.storage_bytes_per_s, Bound::Positive);
  x.async = c.boolean_or("async", d.async);
  x.async_stall = c.duration_or("async_stall", d.async_stall);
  if (auto r = c.opt("restore")) x.restore = r->duration();
  return x;
}

RecoveryPolicy read_recovery(const Reader& r) {
  r.reject_unknown_keys({"mode", "hot_spares", "use_free_capacity", "fallback", "detection", "restart", "region_outage", "min_dp"});
  using M = RecoveryPolicy::Mode;
  RecoveryPolicy d;
  RecoveryPolicy x;
  x.mode = r.choice_or<M>("mode", {{"spares", M::Spares}, {"wait", M::WaitRepair}, {"shrink", M::ElasticShrink}}, d.mode);
  x.hot_spare_nodes = static_cast<uint32_t>(r.integer_or("hot_spares", 0, 1'000'000, d.hot_spare_nodes));
  x.use_free_capacity = r.boolean_or("use_free_capacity", d.use_free_capacity);
  x.fallback = r.choice_or<M>("fallback", {{"wait", M::WaitRepair}, {"shrink", M::ElasticShrink}}, d.fallback);
  x.detection = r.duration_or("detection", d.detection);
  x.restart = r.duration_or("restart", d.restart);
  x.outage = r.choice_or<RecoveryPolicy::OutagePolicy>(
      "region_outage", {{"pause", RecoveryPolicy::OutagePolicy::Pause}, {"move", RecoveryPolicy::OutagePolicy::Move}}, d.outage);
  x.min_dp = read_u32(r, "min_dp", d.min_dp);
  return x;
}

/// Hardware figures from the catalog and the fleet's first datacenter with this accelerator.
bool resolve_hardware(const Reader& job, const std::string& acc, Precision precision, const Catalog& catalog,
                      const FleetSpec& fleet, HardwareFigures& hw, uint64_t& fleet_gpus) {
  const AcceleratorSpec* a = catalog.find_accelerator(acc);
  if (a == nullptr) {
    std::string names;
    for (const auto& n : catalog.accelerator_names()) names += (names.empty() ? "\"" : ", \"") + n + "\"";
    const Reader where = job.at("accelerator");
    where.error(fmt::format("expected an accelerator of the catalog ({}), got {}{}", names, where.describe(),
                            did_you_mean(acc, catalog.accelerator_names())));
    return false;
  }
  hw.accelerator = acc;
  hw.peak_flop_per_s = precision == Precision::Fp8 ? a->fp8_dense_flop_per_s : a->bf16_dense_flop_per_s;
  hw.hbm_bytes = a->hbm_bytes;
  hw.scale_up_bytes_per_s = a->scale_up_bytes_per_s;
  hw.scale_up_gpus = a->scale_up_domain_gpus;
  const DatacenterSpec* dc = nullptr;
  fleet_gpus = 0;
  std::vector<std::string> fleet_accelerators;
  for (const auto& r : fleet.regions)
    for (const auto& z : r.zones)
      for (const auto& d : z.datacenters) {
        if (d.accelerator == acc) {
          if (dc == nullptr) dc = &d;
          fleet_gpus += d.gpus();
        }
        if (std::find(fleet_accelerators.begin(), fleet_accelerators.end(), d.accelerator) == fleet_accelerators.end())
          fleet_accelerators.push_back(d.accelerator);
      }
  if (dc == nullptr) {
    job.at("accelerator").error(fmt::format("expected an accelerator the fleet has (no datacenter carries \"{}\"){}", acc,
                                            did_you_mean(acc, fleet_accelerators)));
    return false;
  }
  hw.gpus_per_node = dc->gpus_per_node;
  const InstanceSpec* inst = dc->instance.empty() ? catalog.instance_for_accelerator(acc) : catalog.find_instance(dc->instance);
  if (inst != nullptr && inst->gpus > 0) hw.scale_out_bytes_per_s = inst->network_bytes_per_s / inst->gpus;
  return true;
}

HardwareFigures read_network(const Reader& n, HardwareFigures hw) {
  n.reject_unknown_keys({"scale_out_bandwidth", "scale_up_bandwidth", "scale_up_latency", "scale_out_latency", "cross_rack_factor",
                         "cross_dc_factor", "cross_region_factor", "cross_dc_latency", "cross_region_latency"});
  hw.scale_out_bytes_per_s = n.quantity_or("scale_out_bandwidth", Dimension::Bandwidth, hw.scale_out_bytes_per_s > 0 ? hw.scale_out_bytes_per_s : 50e9, Bound::Positive);
  hw.scale_up_bytes_per_s = n.quantity_or("scale_up_bandwidth", Dimension::Bandwidth, hw.scale_up_bytes_per_s > 0 ? hw.scale_up_bytes_per_s : 450e9, Bound::Positive);
  hw.scale_up_latency = n.duration_or("scale_up_latency", hw.scale_up_latency);
  hw.scale_out_latency = n.duration_or("scale_out_latency", hw.scale_out_latency);
  hw.cross_rack_factor = n.fraction_or("cross_rack_factor", hw.cross_rack_factor);
  hw.cross_dc_factor = n.fraction_or("cross_dc_factor", hw.cross_dc_factor);
  hw.cross_region_factor = n.fraction_or("cross_region_factor", hw.cross_region_factor);
  hw.cross_dc_latency = n.duration_or("cross_dc_latency", hw.cross_dc_latency);
  hw.cross_region_latency = n.duration_or("cross_region_latency", hw.cross_region_latency);
  for (const char* k : {"cross_rack_factor", "cross_dc_factor", "cross_region_factor"})
    if (n.has(k) && n.at(k).fraction() <= 0) n.at(k).expected("a fraction above 0");
  return hw;
}

}  // namespace

TrainingSpec load_training(const Reader& t, const Catalog& catalog, const FleetSpec& fleet, const RunSpec& run) {
  TrainingSpec spec;
  t.reject_unknown_keys({"sample_interval", "jobs"});
  spec.sample_interval = t.duration_or("sample_interval", run.sample_interval);
  std::set<std::string> names;
  std::vector<std::pair<std::string, Reader>> afters;
  std::optional<Reader> jobs_r = t.opt("jobs");
  if (!jobs_r) return spec;
  for (const Reader& j : jobs_r->items()) {
    j.reject_unknown_keys({"name", "model", "global_batch_tokens", "total_tokens", "precision", "parallelism", "overlap",
                           "flops_formula", "kernel_efficiency", "attention_efficiency", "activation_coefficient", "accelerator", "gpus", "region",
                           "priority", "preemptible", "start", "after", "fidelity", "network", "checkpoint", "recovery"});
    TrainingJobSpec job;
    job.name = j.at("name").non_empty_string();
    if (!job.name.empty() && !names.insert(job.name).second) j.at("name").expected("a name no other job has");
    job.model = read_model(j.at("model"));
    job.global_batch_tokens = j.at("global_batch_tokens").positive();
    job.total_tokens = j.at("total_tokens").positive();
    job.precision = j.choice_or<Precision>("precision", {{"bf16", Precision::Bf16}, {"fp8", Precision::Fp8}}, Precision::Bf16);
    job.parallel = read_parallelism(j.at("parallelism"));
    job.overlap = read_overlap(j.section("overlap"));
    job.flops_formula = j.choice_or<FlopsFormula>(
        "flops_formula", {{"6N+attention", FlopsFormula::SixNPlusAttention}, {"megatron", FlopsFormula::Megatron}},
        FlopsFormula::SixNPlusAttention);
    // One error per mistake: 1.5 used to be reported three times (not a fraction, not above 0, and the
    // step model's (0, 1] check on the 0 it fell back to). A value already reported keeps the default.
    const double default_efficiency = job.kernel_efficiency;
    const size_t errors_before = j.diagnostics().size();
    job.kernel_efficiency = j.fraction_or("kernel_efficiency", default_efficiency);
    if (j.diagnostics().size() != errors_before) {
      job.kernel_efficiency = default_efficiency;
    } else if (j.has("kernel_efficiency") && job.kernel_efficiency < kMinKernelEfficiency) {
      // Not just above 0: 1e-320 made every step last forever (an internal error at run time, issue 19).
      j.at("kernel_efficiency").expected(fmt::format("a fraction from {} to 1", kMinKernelEfficiency));
      job.kernel_efficiency = default_efficiency;
    }
    if (j.has("attention_efficiency")) {
      const size_t before = j.diagnostics().size();
      const double a = j.fraction_or("attention_efficiency", 0.0);
      if (j.diagnostics().size() == before && a <= 0)
        j.at("attention_efficiency").expected("a fraction above 0");
      else if (j.diagnostics().size() == before)
        job.attention_efficiency = a;
    }
    job.activation_coefficient = j.number_or("activation_coefficient", job.activation_coefficient);
    const std::string acc = j.at("accelerator").non_empty_string();
    uint64_t fleet_gpus = 0;
    const bool hw_ok = !acc.empty() && resolve_hardware(j, acc, job.precision, catalog, fleet, job.hardware, fleet_gpus);
    job.hardware = read_network(j.section("network"), job.hardware);
    const uint64_t layout_gpus = job.parallel.gpus();
    if (auto g = j.opt("gpus")) {
      const auto gpus = static_cast<uint64_t>(g->integer(1, 100'000'000));
      if (gpus != layout_gpus)
        g->expected(fmt::format("TP*PP*DP*CP = {} GPUs ({})", layout_gpus, layout_name(job.parallel)));
    } else {
      j.write_default("gpus", layout_gpus);
    }
    if (hw_ok && layout_gpus > fleet_gpus)
      j.at("parallelism").error(fmt::format("the layout {} needs {} {} GPUs; the fleet has {}", layout_name(job.parallel), layout_gpus, acc, fleet_gpus));
    job.region = j.string_or("region", "");
    if (!job.region.empty() && fleet.find_region(job.region) == nullptr) {
      std::vector<std::string> regions;
      for (const auto& r : fleet.regions) regions.push_back(r.name);
      j.at("region").error(fmt::format("expected a region of the fleet, got {}{}", j.at("region").describe(),
                                       did_you_mean(job.region, regions)));
    }
    job.priority = static_cast<int>(j.integer_or("priority", -1'000'000, 1'000'000, 0));
    job.preemptible = j.boolean_or("preemptible", true);
    if (auto s = j.opt("start")) {
      job.submit = read_instant(*s, run);
      require_within_run(*s, job.submit, run);
    }
    if (auto a = j.opt("after")) {
      job.after = a->non_empty_string();
      afters.emplace_back(job.after, *a);
    }
    job.fidelity = j.choice_or<Fidelity>("fidelity", {{"segment", Fidelity::Segment}, {"step", Fidelity::Step}}, Fidelity::Segment);
    job.checkpoint = read_checkpoint(j.section("checkpoint"));
    job.recovery = read_recovery(j.section("recovery"));
    if (job.recovery.hot_spare_nodes > layout_gpus)
      j.at("recovery").at("hot_spares").expected(fmt::format("at most the job's {} GPUs (spares are nodes)", layout_gpus));
    if (job.recovery.min_dp > job.parallel.dp) j.at("recovery").at("min_dp").expected(fmt::format("at most DP {}", job.parallel.dp));
    // Shape and memory: one message with the numbers, at the job's parallelism.
    if (hw_ok && j.valid()) {
      const std::string err = validate_job(job);
      if (!err.empty()) j.at("parallelism").error(err);
    }
    spec.jobs.push_back(std::move(job));
  }
  // "after" must name another job, and the chain it starts must end: a job after itself, or a cycle
  // (run-1 after run-8 after ... run-1), left every job of it pending for the whole run (issue 19).
  std::map<std::string, std::string> after_of;
  for (const auto& job : spec.jobs)
    if (!job.after.empty()) after_of[job.name] = job.after;
  for (const auto& [name, r] : afters)
    if (names.count(name) == 0)
      r.error(fmt::format("expected the name of another training job, got {}{}", r.describe(),
                          did_you_mean(name, std::vector<std::string>(names.begin(), names.end()))));
  for (size_t i = 0; i < spec.jobs.size(); ++i) {
    const std::string& start = spec.jobs[i].name;
    if (spec.jobs[i].after.empty() || names.count(spec.jobs[i].after) == 0) continue;
    std::string chain = start, at = start;
    for (size_t steps = 0; steps <= after_of.size(); ++steps) {
      const auto next = after_of.find(at);
      if (next == after_of.end()) break;
      at = next->second;
      chain += " after " + at;
      if (at == start) {
        jobs_r->at(i).at("after").expected(spec.jobs[i].after == start
                                               ? std::string("another job's name (a job cannot run after itself)")
                                               : "a chain of \"after\" that ends, not a cycle: " + chain);
        break;
      }
    }
  }
  return spec;
}

}  // namespace fleetsim
