// SPDX-License-Identifier: Apache-2.0
// h10: prefill/decode disaggregation (request mode) and its loader checks.
#include "models/inference/inference_model.hpp"
#include "models/scenario/load_inference.hpp"
#include "tests/models/inference/inference_fixtures.hpp"

#include <catch2/catch.hpp>

using namespace fleetsim;

namespace {

struct DisaggRig {
  Fleet fleet;
  Catalog catalog = test::h100_catalog();
  Engine engine;
  RngStreams streams{7};
  Recorder recorder{RecorderOptions{}};
  std::unique_ptr<InferenceModel> model;

  DisaggRig(FleetSpec fs, const InferenceServiceSpec& s) : fleet(Fleet::build(fs)) {
    InferenceSpec spec;
    spec.services.push_back(s);
    model = std::make_unique<InferenceModel>(spec, fleet, catalog, engine, streams, recorder);
    model->start();
  }
};

/// 8 one-GPU replicas in one region, `np` of them prefill, overloaded with fixed-length requests.
InferenceServiceSpec split(uint32_t np, uint32_t prompt, uint32_t output, double rate) {
  auto s = test::small_service({{"r1", 8}}, rate);
  s.prompt = LengthSpec::fixed(prompt);
  s.output = LengthSpec::fixed(output);
  s.routing.spillover = false;
  s.routing.max_queue_time = Duration::s(1000);
  s.disaggregation.enabled = true;
  s.regions[0].prefill_replicas = np;
  return s;
}

/// Completed requests per second between `warm` and `warm + window` of simulated time.
double throughput(const InferenceServiceSpec& s, Duration warm, Duration window) {
  DisaggRig rig(test::h100_regions({"r1"}, 1), s);
  rig.engine.run(SimTime::zero() + warm);
  const double c0 = rig.model->stats(0).counters.completed;
  rig.engine.run(SimTime::zero() + warm + window);
  return (rig.model->stats(0).counters.completed - c0) / window.seconds();
}

}  // namespace

TEST_CASE("disaggregation: a prefill-heavy load is limited by the prefill pool", "[inference][disaggregation]") {
  // 4000-token prompts, 2 output tokens, 100 requests/s: far above what any prefill pool here does
  // (one replica: 8192-token iterations of an 8B model, about 7.5 prompts/s), far below the decode pools.
  std::vector<double> thr;
  for (uint32_t np : {2u, 4u, 6u}) thr.push_back(throughput(split(np, 4000, 2, 100), Duration::s(20), Duration::s(60)));
  INFO("requests/s with 2, 4, 6 prefill replicas: " << thr[0] << " " << thr[1] << " " << thr[2]);
  // The throughput follows the prefill pool: proportional to its size.
  CHECK(thr[1] / thr[0] == Approx(2.0).epsilon(0.05));
  CHECK(thr[2] / thr[0] == Approx(3.0).epsilon(0.05));
  // ... at the prefill saturation of the cost model (full token-budget iterations).
  auto s = split(2, 4000, 2, 100);
  DisaggRig rig(test::h100_regions({"r1"}, 1), s);
  CHECK(thr[0] == Approx(2 * rig.model->stats(0).prefill_saturation_rps).epsilon(0.05));
}

TEST_CASE("disaggregation: a decode-heavy load is limited by the decode pool", "[inference][disaggregation]") {
  // 16-token prompts, 600 output tokens: a decode replica holds at most 256 sequences, so a pool
  // serves about 256 / (599 steps) requests per step time; prefill is nearly free.
  std::vector<double> thr;
  for (uint32_t np : {2u, 4u, 6u}) thr.push_back(throughput(split(np, 16, 600, 300), Duration::s(40), Duration::s(60)));
  INFO("requests/s with 6, 4, 2 decode replicas: " << thr[0] << " " << thr[1] << " " << thr[2]);
  CHECK(thr[0] > thr[1]);
  CHECK(thr[1] > thr[2]);
  CHECK(thr[1] / thr[0] == Approx(4.0 / 6.0).epsilon(0.05));
  CHECK(thr[2] / thr[0] == Approx(2.0 / 6.0).epsilon(0.05));
}

TEST_CASE("disaggregation: the KV transfer time appears in TTFT", "[inference][disaggregation]") {
  // A light load (no queueing): TTFT = prefill + transfer. 1000 prompt tokens of 128 KiB = 131 MB.
  auto fast = split(4, 1000, 50, 0.5);
  auto slow = fast;
  slow.disaggregation.kv_transfer_bytes_per_s = 1e9;
  slow.disaggregation.kv_transfer_latency = Duration::ms(3);
  const double bytes = 1000 * fast.model.kv_bytes_per_token();
  const double expected = (bytes / 1e9 + 3e-3) - (bytes / 50e9 + 20e-6);
  DisaggRig a(test::h100_regions({"r1"}, 1), fast);
  DisaggRig b(test::h100_regions({"r1"}, 1), slow);
  a.engine.run(SimTime::zero() + Duration::s(600));
  b.engine.run(SimTime::zero() + Duration::s(600));
  const auto& sa = a.model->stats(0);
  const auto& sb = b.model->stats(0);
  REQUIRE(sa.counters.completed > 200);
  CHECK(sa.counters.completed == sb.counters.completed);
  INFO("mean TTFT " << sa.ttft.mean() << " s vs " << sb.ttft.mean() << " s, transfer difference " << expected << " s");
  CHECK(sb.ttft.mean() - sa.ttft.mean() == Approx(expected).epsilon(0.01));
  CHECK(sb.kv_transfer_seconds / sb.kv_transfers == Approx(bytes / 1e9 + 3e-3).epsilon(0.01));
  // TPOT is the decode replica's and does not see the link.
  CHECK(sb.tpot.mean() == Approx(sa.tpot.mean()).epsilon(0.02));
  // Without disaggregation there is no transfer: TTFT is shorter still.
  auto mixed = fast;
  mixed.disaggregation.enabled = false;
  DisaggRig c(test::h100_regions({"r1"}, 1), mixed);
  c.engine.run(SimTime::zero() + Duration::s(600));
  CHECK(c.model->stats(0).ttft.mean() < sa.ttft.mean());
  CHECK(c.model->stats(0).kv_transfers == 0);
}

TEST_CASE("disaggregation: a moderate load is served completely with sane KV accounting", "[inference][disaggregation]") {
  // Lognormal lengths at 60% of the smaller pool: transfers land in the middle of decode iterations
  // and segments, which must not skew the KV bookkeeping (a skew wraps kv_used and stalls the pool).
  auto s = test::small_service({{"r1", 8}}, 1);
  s.disaggregation.enabled = true;
  s.regions[0].prefill_replicas = 3;
  double cap = 0;
  {
    DisaggRig probe(test::h100_regions({"r1"}, 1), s);
    const auto& st = probe.model->stats(0);
    cap = std::min(3 * st.prefill_saturation_rps, 5 * st.decode_saturation_rps);
  }
  s.arrivals.rate_per_s = 0.6 * cap;
  s.sample_interval = Duration::s(10);
  DisaggRig rig(test::h100_regions({"r1"}, 1), s);
  rig.engine.run(SimTime::zero() + Duration::s(900));
  const auto& st = rig.model->stats(0);
  INFO("capacity " << cap << " requests/s, arrived " << st.counters.arrived << ", completed " << st.counters.completed);
  CHECK(st.counters.failed == 0);
  CHECK(st.counters.completed > 0.98 * st.counters.arrived);
  CHECK(st.kv_util_sum / st.kv_util_samples <= 1.0);
  CHECK(st.kv_transfers >= st.counters.completed * 0.98);
}

TEST_CASE("disaggregation: a split without prefill or decode replicas is rejected", "[inference][disaggregation]") {
  auto s = split(8, 100, 10, 1);
  CHECK_THROWS_WITH(DisaggRig(test::h100_regions({"r1"}, 1), s),
                    Catch::Contains("splits 8 replicas into 8 prefill and 0 decode"));
  s.regions[0].prefill_replicas = 0;
  s.disaggregation.prefill_fraction = 0.01;
  CHECK_THROWS_WITH(DisaggRig(test::h100_regions({"r1"}, 1), s),
                    Catch::Contains("splits 8 replicas into 0 prefill and 8 decode"));
}

namespace {

Catalog loader_catalog() { return test::h100_catalog(); }

FleetSpec loader_fleet() {
  FleetSpec s;
  DatacenterSpec d;
  d.name = "dc1";
  d.accelerator = "H100";
  d.nodes = 4;
  s.add_region("us-east-1").add_zone("az1").datacenters.push_back(d);
  return s;
}

std::string load_disagg(const std::string& disagg, const std::string& region_extra = "",
                        const std::string& service_extra = "", InferenceSpec* out = nullptr) {
  const std::string text = R"({"services": [{"name": "chat",
    "model": {"parameters": 8.03e9, "layers": 32, "hidden": 4096, "kv_heads": 8, "head_dim": 128},
    "replica": {"accelerator": "H100"},
    "arrivals": {"rate": 10},
    "disaggregation": )" + disagg + service_extra + R"(,
    "regions": [{"region": "us-east-1", "replicas": 8)" + region_extra + "}]}]}";
  Diagnostics diags("scenario.json");
  const nlohmann::json doc = parse_json_text("{\"inference\": " + text + "}", diags);
  Reader root = Reader::root(doc, diags);
  RunSpec run;
  run.horizon = Duration::hours(1);
  InferenceSpec s = load_inference(root.section("inference"), loader_catalog(), loader_fleet(), run);
  if (out) *out = s;
  return diags.render();
}

}  // namespace

TEST_CASE("disaggregation: the loader reads the split and the link", "[inference][disaggregation]") {
  InferenceSpec s;
  CHECK(load_disagg(R"({"enabled": true, "prefill_fraction": 0.5, "kv_transfer_bandwidth": "100 GB/s",
                        "kv_transfer_latency": "1ms"})",
                    "", "", &s) == "");
  REQUIRE(s.services.size() == 1);
  const auto& d = s.services[0].disaggregation;
  CHECK(d.enabled);
  CHECK(d.kv_transfer_bytes_per_s == Approx(100e9));
  CHECK(d.kv_transfer_latency == Duration::ms(1));
  CHECK(prefill_replicas(s.services[0].regions[0], d) == 4);
  CHECK(load_disagg(R"({"enabled": true})", R"(, "prefill_replicas": 3)", "", &s) == "");
  CHECK(prefill_replicas(s.services[0].regions[0], s.services[0].disaggregation) == 3);
}

TEST_CASE("disaggregation: a bad split is rejected with its pointer", "[inference][disaggregation]") {
  CHECK_THAT(load_disagg(R"({"enabled": true, "prefill_fraction": 0})"),
             Catch::Contains("/inference/services/0/disaggregation/prefill_fraction: disaggregation splits the 8 "
                             "replicas of region \"us-east-1\" into 0 prefill and 8 decode"));
  CHECK_THAT(load_disagg(R"({"enabled": true, "prefill_fraction": 1})"),
             Catch::Contains("/inference/services/0/disaggregation/prefill_fraction: disaggregation splits the 8 "
                             "replicas of region \"us-east-1\" into 8 prefill and 0 decode"));
  CHECK_THAT(load_disagg(R"({"enabled": true})", R"(, "prefill_replicas": 8)"),
             Catch::Contains("/inference/services/0/regions/0/prefill_replicas: disaggregation splits"));
  CHECK_THAT(load_disagg(R"({"enabled": true}, "mode": "fluid")"),
             Catch::Contains("/inference/services/0/disaggregation/enabled: prefill/decode disaggregation is "
                             "implemented in request mode only; /inference/services/0/mode is \"fluid\""));
}
