// SPDX-License-Identifier: Apache-2.0
// Shared-fabric re-costing benchmark: a 100k-GPU fabric carrying several training jobs in the
// FabricLoad ledger (models/network/fabric_load.hpp), then one spine-core link fails and returns. The
// jobs the change touches are re-routed and re-costed, and then whoever their moved load affects, until
// it settles, as SharedFabricCost does in a run (only the network part: no training model). One JSON line:
//
//   bench_shared_fabric [--jobs 6] [--gpus-per-job 16384] [--channels 4]
//
// Fabric: one cluster of jobs x gpus-per-job GPUs (default 98,304) in 8-GPU HGX hosts (NVLink), ToR
// attached 3-tier fat-tree of radix 128, 1:1. Each job: TP8 in the host and a data-parallel gradient
// all-reduce of 2 GB per GPU over its 8 concurrent rings (one per TP rank, one GPU per host), plus a
// pipeline send of 64 MB between consecutive hosts (every GPU); registered at its step pace.
// Fields: build_s (topology), register_s (route, cost and register every job, settled), fail_s and
// return_s (the re-cost after the link change, wall), touched (jobs re-routed), recomputed (costings
// run), full_recost_s (re-costing every job once, for scale), peak_rss_mb.
// Then what a training interruption costs (SharedFabricCost's incremental path): replace_s, one host of
// job 0 swapped for a spare (8 spare hosts after the jobs): its 8 rings and 8 pipeline pairs re-routed,
// the job's loads updated by those groups (GroupedLoad), re-costed, registered and settled, against
// replace_full_s, the same from every group routed and merged afresh (before); suspend_s, job 0
// suspended and resumed in the ledger (a stop and a restart on the same hosts), each settled.
#include "models/network/collective_load.hpp"
#include "models/network/fabric_load.hpp"
#include "models/network/routing.hpp"
#include "models/network/topology.hpp"

#include <fmt/format.h>
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

using namespace fleetsim;

namespace {

double peak_rss_mb() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_maxrss) / 1024.0;
}

double since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

struct Job {
  std::vector<std::vector<VertexId>> dp, pp;
  CollectiveSpec dp_spec, pp_spec;
  CollectiveLoad dp_load, pp_load;
  GroupedLoad dp_groups, pp_groups;  // job 0: per group, for the replaced host
  ConsumerId id = 0;
  double step_s = 0;
};

// The job's step (compute 1 s [A] + its two collectives) and its registration at that pace.
void cost_and_register(FabricLoad& ledger, Job& j) {
  const SharedCollectiveCost a = shared_collective_time(j.dp_load, ledger, j.id, true);
  const SharedCollectiveCost b = shared_collective_time(j.pp_load, ledger, j.id, true);
  j.step_s = 1.0 + a.time.seconds() + b.time.seconds();
  LinkVector load = (1.0 / j.step_s) * (j.dp_load.bytes_per_call() + j.pp_load.bytes_per_call());
  const LinkVector busy_s = a.busy_seconds + b.busy_seconds;
  LinkVector flows = a.flow_seconds + b.flow_seconds;
  LinkVector::InnerIterator bs(busy_s);
  for (LinkVector::InnerIterator it(flows); it; ++it) {
    while (bs && bs.index() < it.index()) ++bs;
    it.valueRef() /= (bs && bs.index() == it.index() && bs.value() > 0) ? bs.value() : 1.0;
  }
  LinkVector busy = (1.0 / j.step_s) * busy_s;
  ledger.set_load(j.id, load, flows, busy, cwise_max(a.peak_flows, b.peak_flows));
}

void route(Router& r, Job& j) {
  j.dp_load = collective_load(r, j.dp, j.dp_spec);
  j.pp_load = collective_load(r, j.pp, j.pp_spec);
}

// Re-costs `pending` jobs, then those their change affected, until nothing is pending (at most 8 rounds).
uint64_t settle(FabricLoad& ledger, std::vector<Job>& jobs, std::vector<char>& pending) {
  uint64_t n = 0;
  for (int round = 0; round < 8; ++round) {
    bool any = false;
    ledger.clear_affected();
    for (size_t i = 0; i < jobs.size(); ++i)
      if (pending[i]) {
        pending[i] = 0;
        cost_and_register(ledger, jobs[i]);
        ++n;
        any = true;
      }
    for (ConsumerId c : ledger.affected())
      if (c < jobs.size()) pending[c] = 1;
    if (!any) break;
  }
  return n;
}

}  // namespace

int main(int argc, char** argv) {
  uint32_t njobs = 6, per_job = 16384, channels = 4;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--jobs")) njobs = static_cast<uint32_t>(std::atoi(argv[i + 1]));
    else if (!std::strcmp(argv[i], "--gpus-per-job")) per_job = static_cast<uint32_t>(std::atoi(argv[i + 1]));
    else if (!std::strcmp(argv[i], "--channels")) channels = static_cast<uint32_t>(std::atoi(argv[i + 1]));
    else {
      std::fprintf(stderr, "usage: bench_shared_fabric [--jobs N] [--gpus-per-job G] [--channels C]\n");
      return 2;
    }
  }
  per_job -= per_job % 8;
  ClusterSpec c;
  c.name = "dc";
  c.gpus = njobs * per_job + 64;  // 8 spare hosts
  c.gpus_per_host = 8;
  c.scale_up = {8, 450e9, Duration::ns(250)};
  c.scale_out.attach = Attach::Tor;
  c.scale_out.tiers = 3;
  c.scale_out.radix = 128;
  c.scale_out.port_bytes_per_s = 50e9;
  auto t0 = std::chrono::steady_clock::now();
  const Topology topo = build_topology(NetworkSpec{{c}, {}, {}});
  Router router(topo);
  const double build_s = since(t0);

  FabricLoad ledger(topo, router);
  std::vector<Job> jobs(njobs);
  t0 = std::chrono::steady_clock::now();
  for (uint32_t k = 0; k < njobs; ++k) {
    Job& j = jobs[k];
    j.id = ledger.add_consumer(fmt::format("job{}", k));
    const uint32_t first = k * per_job, hosts = per_job / 8;
    for (uint32_t t = 0; t < 8; ++t) {
      std::vector<VertexId> ring;
      for (uint32_t h = 0; h < hosts; ++h) ring.push_back(topo.endpoint(0, first + h * 8 + t));
      j.dp.push_back(std::move(ring));
    }
    for (uint32_t h = 0; h + 1 < hosts; h += 2)
      for (uint32_t t = 0; t < 8; ++t)
        j.pp.push_back({topo.endpoint(0, first + h * 8 + t), topo.endpoint(0, first + (h + 1) * 8 + t)});
    j.dp_spec = CollectiveSpec{.op = CollectiveOp::AllReduce, .algorithm = Algorithm::Ring, .bytes = 2e9,
                               .alpha = Duration::us(5), .key_base = 100 + k, .channels = channels};
    j.pp_spec = CollectiveSpec{.op = CollectiveOp::PointToPoint, .algorithm = Algorithm::Ring, .bytes = 64e6,
                               .alpha = Duration::us(5), .key_base = 200 + k, .channels = channels};
    route(router, j);
  }
  std::vector<char> pending(njobs, 1);
  settle(ledger, jobs, pending);
  const double register_s = since(t0);

  // One spine-core link under job 0's traffic.
  uint32_t link = UINT32_MAX;
  for (LinkVector::InnerIterator it(ledger.loads(jobs[0].id)); it; ++it)
    if (topo.edge(static_cast<EdgeIndex>(it.index())).kind == LinkKind::SpineCore) {
      link = Router::link_of(static_cast<EdgeIndex>(it.index()));
      break;
    }
  if (link == UINT32_MAX) {
    std::fprintf(stderr, "job 0 crosses no spine-core link\n");
    return 1;
  }
  std::vector<ConsumerId> touched;
  uint64_t touched_fail = 0, touched_return = 0, recomputed_fail = 0, recomputed_return = 0;
  double fail_s = 0, return_s = 0;
  for (bool up : {false, true}) {
    t0 = std::chrono::steady_clock::now();
    router.set_link_up(link, up);
    touched.clear();
    ledger.touching(link, up, touched);
    for (ConsumerId k : touched) {
      route(router, jobs[k]);
      pending[k] = 1;
    }
    const uint64_t n = settle(ledger, jobs, pending);
    (up ? return_s : fail_s) = since(t0);
    (up ? touched_return : touched_fail) = touched.size();
    (up ? recomputed_return : recomputed_fail) = n;
  }
  t0 = std::chrono::steady_clock::now();
  for (Job& j : jobs) cost_and_register(ledger, j);
  const double full_recost_s = since(t0);

  // A training interruption of job 0: host 5 swapped for spare host 0 (GPUs after every job's).
  Job& j0 = jobs[0];
  auto per_group = [&](const std::vector<std::vector<VertexId>>& groups, const CollectiveSpec& spec) {
    std::vector<CollectiveLoad> out;
    for (const auto& g : groups) out.push_back(collective_load(router, std::span(&g, 1), spec));
    return out;
  };
  j0.dp_groups.assign(per_group(j0.dp, j0.dp_spec));
  j0.pp_groups.assign(per_group(j0.pp, j0.pp_spec));
  const uint32_t spare = njobs * per_job, old_host = 5;
  auto swap_host = [&](uint32_t from_gpu0, uint32_t to_gpu0, bool incremental) {
    std::vector<size_t> dp_changed, pp_changed;
    for (size_t g = 0; g < j0.dp.size(); ++g)
      for (auto& v : j0.dp[g])
        for (uint32_t t = 0; t < 8; ++t)
          if (v == topo.endpoint(0, from_gpu0 + t)) {
            v = topo.endpoint(0, to_gpu0 + t);
            dp_changed.push_back(g);
          }
    for (size_t g = 0; g < j0.pp.size(); ++g)
      for (auto& v : j0.pp[g])
        for (uint32_t t = 0; t < 8; ++t)
          if (v == topo.endpoint(0, from_gpu0 + t)) {
            v = topo.endpoint(0, to_gpu0 + t);
            pp_changed.push_back(g);
          }
    if (incremental) {
      std::vector<CollectiveLoad> dl, pl;
      for (size_t g : dp_changed) dl.push_back(collective_load(router, std::span(&j0.dp[g], 1), j0.dp_spec));
      for (size_t g : pp_changed) pl.push_back(collective_load(router, std::span(&j0.pp[g], 1), j0.pp_spec));
      j0.dp_groups.replace(dp_changed, std::move(dl));
      j0.pp_groups.replace(pp_changed, std::move(pl));
      j0.dp_load = j0.dp_groups.merged();
      j0.pp_load = j0.pp_groups.merged();
    } else {
      j0.dp_groups.assign(per_group(j0.dp, j0.dp_spec));
      j0.pp_groups.assign(per_group(j0.pp, j0.pp_spec));
      j0.dp_load = j0.dp_groups.merged();
      j0.pp_load = j0.pp_groups.merged();
    }
    std::fill(pending.begin(), pending.end(), 0);
    pending[0] = 1;
    settle(ledger, jobs, pending);
  };
  t0 = std::chrono::steady_clock::now();
  swap_host(old_host * 8, spare, false);
  const double replace_full_s = since(t0);
  t0 = std::chrono::steady_clock::now();
  swap_host(spare, old_host * 8, true);
  const double replace_s = since(t0);
  t0 = std::chrono::steady_clock::now();
  for (bool down : {true, false}) {
    ledger.clear_affected();
    if (down) ledger.suspend(j0.id); else ledger.resume(j0.id);
    std::fill(pending.begin(), pending.end(), 0);
    for (ConsumerId k : ledger.affected())
      if (k < jobs.size()) pending[k] = 1;
    settle(ledger, jobs, pending);
  }
  const double suspend_s = since(t0);
  std::printf("%s\n",
              fmt::format("{{\"bench\":\"shared_fabric\",\"gpus\":{},\"jobs\":{},\"channels\":{},\"directed_links\":{},"
                          "\"build_s\":{:.3f},\"register_s\":{:.3f},\"fail_s\":{:.4f},\"fail_touched\":{},"
                          "\"fail_recomputed\":{},\"return_s\":{:.4f},\"return_touched\":{},\"return_recomputed\":{},"
                          "\"full_recost_s\":{:.4f},\"replace_full_s\":{:.4f},\"replace_s\":{:.4f},"
                          "\"suspend_s\":{:.4f},\"step_s_job0\":{:.6f},\"peak_rss_mb\":{:.1f}}}",
                          c.gpus, njobs, channels, topo.directed_edges(), build_s, register_s, fail_s, touched_fail,
                          recomputed_fail, return_s, touched_return, recomputed_return, full_recost_s, replace_full_s,
                          replace_s, suspend_s, jobs[0].step_s, peak_rss_mb())
                  .c_str());
  return 0;
}
