// SPDX-License-Identifier: Apache-2.0
// Training benchmark: seven simulated years of 20 successive LLM training jobs on a 100,000-GPU H100
// fleet (12,500 hosts of 8) with the Llama 3 failure preset (published per-component rates), in
// segment mode. Prints one JSON line.
//
//   bench_training                                  # the benchmark (docs/PERFORMANCE.md)
//   bench_training --years 7 --jobs 20 --seed 1
//   bench_training --dump > b.json                  # the benchmark's scenario sections as JSON
//   bench_training --scenario scenarios/validation/llama3-405b.json   # run a scenario's fleet, failures
//                                                   # and training; print its "training" summary
//
// Each job: a 405B-parameter dense model (Llama 3 405B's shape) on 94,208 GPUs (TP8/PP16/DP736),
// 48M-token batches, 200 hot-spare hosts (11,976 of the 12,500 hosts), Young/Daly checkpoints at 2 TB/s; job k+1 starts when job k
// completes. The token budget per job makes the 20 jobs fill about seven years.
// Output fields: wall_s and events_per_s over the run loop only (setup excluded), cpu_s, events,
// simulated days, jobs completed, interruptions, failures drawn, mean ETTR, tokens trained.
#include "models/failures/failure_model.hpp"
#include "models/hardware/fleet.hpp"
#include "models/scheduler/gang_scheduler.hpp"
#include "models/training/training_model.hpp"
#include "models/scenario/diagnostics.hpp"
#include "models/scenario/load_catalog.hpp"
#include "models/scenario/load_failures.hpp"
#include "models/scenario/load_fleet.hpp"
#include "models/scenario/load_training.hpp"
#include "models/scenario/reader.hpp"
#include "sim/engine.hpp"
#include "sim/recorder.hpp"
#include "sim/rng.hpp"

#include <fmt/format.h>
#include <sys/resource.h>
#include <time.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <stdlib.h>
#include <exception>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <string_view>

using namespace fleetsim;

namespace {

double cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return double(ts.tv_sec) + double(ts.tv_nsec) * 1e-9;
}

struct Inputs {
  RunSpec run;
  Catalog catalog;
  FleetSpec fleet;
  FailureSpec failures;
  TrainingSpec training;
};

/// The benchmark's scenario, through the same loaders a scenario file goes through.
nlohmann::json bench_doc(int years, int jobs) {
  nlohmann::json doc;
  doc["fleet"]["regions"] = nlohmann::json::array();
  nlohmann::json region{{"name", "bench"}, {"zones", nlohmann::json::array()}};
  nlohmann::json zone{{"name", "z1"}, {"datacenters", nlohmann::json::array()}};
  for (int d = 0; d < 4; ++d) zone["datacenters"].push_back({{"name", fmt::format("dc{}", d + 1)}, {"instance", "p5.48xlarge"}, {"nodes", 3125}});
  region["zones"].push_back(zone);
  doc["fleet"]["regions"].push_back(region);
  doc["failures"]["presets"] = {"llama3-405b"};
  nlohmann::json js = nlohmann::json::array();
  // 20 jobs in ~7 years: each gets years*365/jobs days of nominal training at ~12.7M tokens/s.
  // At these failure rates a 94K-GPU job fails every ~33 min and keeps ~70% of its time (ETTR); the
  // step model gives it 10.15M tokens/s. Budgets leave a few percent of slack in the seven years.
  const double days_each = 365.0 * years / jobs * 0.69 * 0.95;
  for (int k = 0; k < jobs; ++k) {
    nlohmann::json j;
    j["name"] = fmt::format("job{:02}", k + 1);
    if (k > 0) j["after"] = fmt::format("job{:02}", k);
    j["accelerator"] = "H100";
    j["model"] = {{"parameters", 405e9}, {"layers", 126}, {"hidden", 16384}, {"heads", 128}, {"seq_len", 8192}, {"vocab", 128256}};
    j["global_batch_tokens"] = 736.0 * 8 * 8192;
    j["total_tokens"] = days_each * 86400 * 10.15e6;
    j["parallelism"] = {{"tp", 8}, {"pp", 16}, {"dp", 736}, {"virtual_stages", 4}, {"recompute", "full"}};
    j["kernel_efficiency"] = 0.67;
    j["checkpoint"] = {{"policy", "young-daly"}, {"storage_bandwidth", "2 TB/s"}};
    j["recovery"] = {{"mode", "spares"}, {"hot_spares", 200}, {"detection", "2min"}, {"restart", "8min"}};
    js.push_back(j);
  }
  doc["training"] = {{"sample_interval", "1d"}, {"jobs", js}};
  return doc;
}

Inputs load(const nlohmann::json& doc, const std::string& source, RunSpec run) {
  Diagnostics diags(source);
  Reader root = Reader::root(doc, diags);
  if (root.has("seed")) run.seed = static_cast<uint64_t>(root.at("seed").integer(0, INT64_MAX));
  if (root.has("horizon")) run.horizon = root.at("horizon").positive_duration();
  if (root.has("start")) run.start_unix_ns = root.at("start").utc_ns();
  if (root.has("sample_interval")) run.sample_interval = root.at("sample_interval").positive_duration();
  Inputs in;
  in.run = run;
  in.catalog = load_catalog(root.section("catalog"));
  in.fleet = load_fleet(root.section("fleet"), in.catalog, in.run);
  in.failures = load_failures(root.section("failures"), in.fleet, in.run);
  in.training = load_training(root.section("training"), in.catalog, in.fleet, in.run);
  diags.throw_if_any();
  return in;
}

int run(const Inputs& in, bool bench_line, int years, int jobs_n) {
  Fleet fleet = Fleet::build(in.fleet);
  Engine engine;
  RngStreams streams(in.run.seed);
  // Files as the CLI writes them (an in-memory recorder would keep every event and grow).
  char dir_template[] = "/tmp/bench_training.XXXXXX";
  const char* dir = mkdtemp(dir_template);
  if (dir == nullptr) throw std::runtime_error("cannot create a temporary directory");
  struct Cleanup {
    std::string path;
    ~Cleanup() { std::filesystem::remove_all(path); }
  } cleanup{dir};
  Recorder recorder(RecorderOptions{.directory = dir, .keep_in_memory = false});
  FailureSpec fs = in.failures;
  fs.sample_interval = Duration::zero();  // the capacity table is not what this measures
  FailureModel failures(fs, fleet, engine, streams, recorder);
  GangScheduler sched(fleet, engine, &failures);
  TrainingModel training(in.training, fleet, engine, recorder, sched, &failures, &in.failures);
  failures.start();
  training.start();
  const double cpu0 = cpu_seconds();
  const auto t0 = std::chrono::steady_clock::now();
  const RunResult r = engine.run(SimTime::zero() + in.run.horizon);
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const double cpu = cpu_seconds() - cpu0;
  training.write_summary();
  failures.write_summary();
  RunInfo info;
  info.simulated_until = engine.now();
  info.events_executed = engine.events_executed();
  info.fingerprint = engine.fingerprint();
  recorder.finish(info);
  const auto& t = recorder.summary()["training"];
  if (!bench_line) {
    nlohmann::json out;
    out["training"] = t;
    out["failures"] = recorder.summary()["failures"];
    out["events"] = engine.events_executed();
    out["wall_s"] = wall;
    fmt::print("{}\n", out.dump());
    return 0;
  }
  size_t done = 0;
  for (size_t k = 0; k < training.jobs(); ++k) done += training.state(k) == JobState::Done ? 1 : 0;
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  fmt::print(
      "{{\"bench\":\"training\",\"years\":{},\"gpus\":{},\"jobs\":{},\"jobs_completed\":{},\"events\":{},"
      "\"wall_s\":{:.4f},\"cpu_s\":{:.4f},\"events_per_s\":{:.0f},\"simulated_days\":{:.1f},\"failures\":{},"
      "\"interruptions\":{},\"ettr\":{:.4f},\"tokens_trained\":{:.6g},\"peak_rss_mb\":{:.1f}}}\n",
      years, fleet.gpus(), jobs_n, done, r.events, wall, cpu, double(r.events) / wall, r.reached.seconds() / 86400,
      failures.stats().failures, t["interruptions"].get<uint64_t>(), t["ettr"].get<double>(), t["tokens_trained"].get<double>(),
      double(ru.ru_maxrss) / 1024.0);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    int years = 7, jobs = 20;
    uint64_t seed = 1;
    std::string scenario;
    for (int i = 1; i < argc; ++i) {
      const std::string_view a = argv[i];
      auto next = [&]() -> std::string {
        if (i + 1 >= argc) throw std::invalid_argument(fmt::format("{} needs a value", a));
        return argv[++i];
      };
      if (a == "--years") years = std::stoi(next());
      else if (a == "--jobs") jobs = std::stoi(next());
      else if (a == "--seed") seed = std::stoull(next());
      else if (a == "--scenario") scenario = next();
      else if (a == "--dump") {
        std::printf("%s\n", bench_doc(years, jobs).dump(2).c_str());
        return 0;
      }
      else throw std::invalid_argument(fmt::format("unknown option {} (--years N --jobs N --seed N --scenario FILE --dump)", a));
    }
    if (!scenario.empty()) {
      Diagnostics d(scenario);
      const nlohmann::json doc = parse_json_file(scenario, d);
      RunSpec run;
      run.sample_interval = Duration::hours(1);
      return ::run(load(doc, scenario, run), false, 0, 0);
    }
    RunSpec run;
    run.seed = seed;
    run.horizon = Duration::days(365 * years);
    run.sample_interval = Duration::days(1);
    return ::run(load(bench_doc(years, jobs), "bench", run), true, years, jobs);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_training: %s\n", e.what());
    return 1;
  }
}
