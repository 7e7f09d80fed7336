// SPDX-License-Identifier: Apache-2.0
// h7: tests of models/scenario/load_inference.cpp (the "inference" section and request traces).
#include "models/scenario/load_inference.hpp"

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

using namespace fleetsim;

namespace {

Catalog catalog() {
  AcceleratorSpec a;
  a.name = "H100";
  a.bf16_dense_flop_per_s = 989.4e12;
  a.hbm_bytes = 80e9;
  a.hbm_bytes_per_s = 3.35e12;
  a.scale_up_domain_gpus = 8;
  Catalog c;
  c.accelerators.push_back(a);
  return c;
}

FleetSpec fleet() {
  FleetSpec s;
  for (const char* n : {"us-east-1", "us-west-2"}) {
    DatacenterSpec d;
    d.name = "dc1";
    d.accelerator = "H100";
    d.nodes = 4;
    s.add_region(n).add_zone("az1").datacenters.push_back(d);
  }
  return s;
}

RunSpec run() {
  RunSpec r;
  r.horizon = Duration::days(1);
  r.sample_interval = Duration::hours(1);
  return r;
}

/// Loads `text` (the whole "inference" object) and returns the rendered errors ("" if none).
std::string load(const std::string& text, InferenceSpec* out = nullptr, const std::string& file = "scenario.json") {
  Diagnostics diags(file);
  const nlohmann::json doc = parse_json_text("{\"inference\": " + text + "}", diags);
  Reader root = Reader::root(doc, diags);
  InferenceSpec s = load_inference(root.section("inference"), catalog(), fleet(), run());
  if (out) *out = s;
  return diags.render();
}

const std::string kService = R"({"name": "chat",
  "model": {"parameters": 70.6e9, "layers": 80, "hidden": 8192, "kv_heads": 8, "head_dim": 128},
  "replica": {"accelerator": "H100", "tp": 4},
  "arrivals": {"rate": "8.64e6 requests/day", "growth_per_month": "5%"},
  "output_tokens": {"distribution": "lognormal", "median": 300, "sigma": 0.7},
  "regions": [{"region": "us-east-1", "replicas": 8, "utc_offset": "-05:00"},
              {"region": "us-west-2", "replicas": 4, "utc_offset": -480}]})";

std::string with(const std::string& key_values) {
  std::string s = kService;
  s.insert(s.size() - 1, ", " + key_values);
  return "{\"services\": [" + s + "]}";
}

}  // namespace

TEST_CASE("the inference section loads into SI units", "[inference]") {
  InferenceSpec spec;
  REQUIRE(load("{\"services\": [" + kService + "]}", &spec) == "");
  REQUIRE(spec.services.size() == 1);
  const auto& s = spec.services[0];
  CHECK(s.arrivals.rate_per_s == Approx(100));
  CHECK(s.arrivals.growth_per_month == Approx(0.05));
  CHECK(s.model.kv_bytes_per_token() == 327680.0);
  CHECK(s.replica.tp == 4);
  CHECK(s.regions[0].utc_offset_minutes == -300);
  CHECK(s.regions[1].utc_offset_minutes == -480);
  CHECK(s.output.kind == LengthSpec::Kind::Lognormal);
  CHECK(s.output.median == 300);
  CHECK(s.mode == InferenceMode::Request);
}

TEST_CASE("inference specs that cannot work are rejected with pointers and numbers", "[inference]") {
  CHECK_THAT(load(with(R"("batching": {"max_seqs": 0})")), Catch::Contains("/inference/services/0/batching/max_seqs"));
  std::string zero = kService;
  zero.replace(zero.find("\"replicas\": 8"), 13, "\"replicas\": 0");
  zero.replace(zero.find("\"replicas\": 4"), 13, "\"replicas\": 0");
  CHECK_THAT(load("{\"services\": [" + zero + "]}"), Catch::Contains("zero replicas in every region"));
  std::string neg = kService;
  neg.replace(neg.find("\"8.64e6 requests/day\""), 21, "-5");
  CHECK_THAT(load("{\"services\": [" + neg + "]}"), Catch::Contains("/inference/services/0/arrivals/rate"));
  std::string big = kService;
  big.replace(big.find("70.6e9"), 6, "405e9");
  const std::string msg = load("{\"services\": [" + big + "]}");
  CHECK_THAT(msg, Catch::Contains("/inference/services/0/replica: the weights do not fit: 810.0 GB of weights is 202.5 GB per GPU"));
  CHECK_THAT(msg, Catch::Contains("72.0 GB is usable"));
  std::string many = kService;
  many.replace(many.find("\"replicas\": 8"), 13, "\"replicas\": 9");
  CHECK_THAT(load("{\"services\": [" + many + "]}"),
             Catch::Contains("/inference/services/0/regions/0/replicas: expected at most 8 replicas: region \"us-east-1\" has 32 H100 GPUs"));
}

TEST_CASE("a missing trace file is reported", "[inference]") {
  const std::string msg = load(with(R"("trace": {"file": "no-such-trace.csv"})"), nullptr, "/tmp/h7-scenario.json");
  CHECK_THAT(msg, Catch::Contains("/inference/services/0/trace/file: cannot read trace file \"/tmp/no-such-trace.csv\""));
}

TEST_CASE("a malformed trace row is reported with its line number", "[inference]") {
  const auto dir = std::filesystem::temp_directory_path() / "fleetsim-h7-trace";
  std::filesystem::create_directories(dir);
  {
    std::ofstream f(dir / "t.csv");
    f << "arrival_s,prompt_tokens,output_tokens,region\n0.5,100,20,us-east-1\n# a comment\n1.0,abc,20\n";
  }
  const std::string msg = load(with(R"("trace": {"file": "t.csv"})"), nullptr, (dir / "s.json").string());
  CHECK_THAT(msg, Catch::Contains("t.csv: line 4, column 5: expected prompt tokens as a whole number >= 1"));
  CHECK(msg.find("abc") == std::string::npos);  // the file's text is not quoted (issue 19 item 14)
  {
    std::ofstream f(dir / "t.csv");
    f << "0.5,100,20,us-east-1\n2.0,10,5\n1.5,10,5,us-west-2\n";
  }
  CHECK_THAT(load(with(R"("trace": {"file": "t.csv"})"), nullptr, (dir / "s.json").string()),
             Catch::Contains("line 3, column 1: the arrival is earlier"));
  {
    std::ofstream f(dir / "t.csv");
    f << "0.5,100,20,us-east-1\n2.0,10,5,eu-west-9\n";
  }
  CHECK_THAT(load(with(R"("trace": {"file": "t.csv"})"), nullptr, (dir / "s.json").string()),
             Catch::Contains("line 2, column 10: not a region of this service"));
  {
    std::ofstream f(dir / "t.csv");
    f << "0.5,100,20,us-east-1\n2.0,10,5,us-west-2\n";
  }
  InferenceSpec spec;
  REQUIRE(load(with(R"("trace": {"file": "t.csv"})"), &spec, (dir / "s.json").string()) == "");
  REQUIRE(spec.services[0].trace);
  CHECK(spec.services[0].trace->size() == 2);
  CHECK((*spec.services[0].trace)[1].region == 1);
  CHECK((*spec.services[0].trace)[1].arrival == SimTime::zero() + Duration::s(2));
  std::filesystem::remove_all(dir);
}

TEST_CASE("a trace is bounded: line length and rows, each refused at its line", "[inference]") {
  // issue 19: a trace path may name any file; a line longer than any row, or more rows than the limit,
  // is refused with the line number and the limit (the line's content is not quoted).
  RunSpec run;
  const std::string long_line = "0.5,100,20\n" + std::string(kMaxTraceLineBytes + 1, '7') + "\n";
  CHECK_THROWS_WITH(parse_inference_trace(long_line, {"r1"}, run),
                    Catch::Contains("line 2: longer than the limit of 1024 bytes per trace line (1025 bytes)"));
  const std::string exactly = "0.5,100," + std::string(kMaxTraceLineBytes - 8, ' ') + "\n";
  CHECK(exactly.size() == kMaxTraceLineBytes + 1);
  CHECK_THROWS_WITH(parse_inference_trace(exactly, {"r1"}, run), Catch::Contains("expected output tokens"));
  const std::string rows = "0.5,100,20\n0.6,100,20\n0.7,100,20\n";
  CHECK(parse_inference_trace(rows, {"r1"}, run, 3).size() == 3);
  CHECK_THROWS_WITH(parse_inference_trace(rows, {"r1"}, run, 2),
                    Catch::Contains("line 3: more than the limit of 2 requests per trace"));
  CHECK(kMaxTraceRows == size_t{1} << 23);
}

TEST_CASE("autoscale.warm_start defaults to on and takes only a boolean", "[inference]") {
  InferenceSpec spec;
  REQUIRE(load(with(R"("autoscale": {"enabled": true})"), &spec) == "");
  CHECK(spec.services[0].autoscale.warm_start);
  REQUIRE(load(with(R"("autoscale": {"enabled": true, "warm_start": false})"), &spec) == "");
  CHECK_FALSE(spec.services[0].autoscale.warm_start);
  CHECK_THAT(load(with(R"("autoscale": {"enabled": true, "warm_start": "yes"})")),
             Catch::Contains("/inference/services/0/autoscale/warm_start"));
}
