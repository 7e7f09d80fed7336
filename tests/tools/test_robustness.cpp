// SPDX-License-Identifier: Apache-2.0
// The fleetsim process under stress (docs/robustness.md): runs bounded by --max-events and --max-wall,
// SIGINT and SIGTERM sent to a running process, failed writes (RLIMIT_FSIZE) and unusable output
// directories. Each checks the exit code and that every file left in the output directory is whole.
#include "tests/support/files.hpp"

#include <catch2/catch.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <fcntl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace fs = std::filesystem;
using fleetsim::test::TempDir;

namespace {

const auto& slurp = fleetsim::test::read_all;

// Runs for hours of wall time and writes almost nothing: a run that is only ever stopped part-way.
const fs::path kLong = fs::path(FLEETSIM_TEST_DATA) / "scenarios/long-inference.json";

// fleetsim started with fork/exec, stdout and stderr to files; `in_child` runs in the child before exec
// (resource limits, signal dispositions).
struct Child {
  pid_t pid = -1;
  fs::path out, err;
};

Child spawn(const std::vector<std::string>& args, const TempDir& tmp, const std::function<void()>& in_child = {}) {
  Child c{-1, tmp.path / "stdout.txt", tmp.path / "stderr.txt"};
  std::vector<std::string> argv_s = {FLEETSIM_EXE};
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : argv_s) argv.push_back(a.data());
  argv.push_back(nullptr);
  c.pid = ::fork();
  if (c.pid == 0) {
    const int o = ::open(c.out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    const int e = ::open(c.err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (o < 0 || e < 0 || ::dup2(o, 1) < 0 || ::dup2(e, 2) < 0) ::_exit(126);
    if (in_child) in_child();
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  return c;
}

int wait_exit(const Child& c) {
  int status = 0;
  if (::waitpid(c.pid, &status, 0) != c.pid) return -1;
  if (WIFSIGNALED(status)) return 1000 + WTERMSIG(status);  // killed: a distinct, failing value
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

int run(const std::vector<std::string>& args, const TempDir& tmp, const std::function<void()>& in_child = {}) {
  return wait_exit(spawn(args, tmp, in_child));
}

bool has_temporary(const fs::path& dir) {
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec))
    if (e.path().filename().string().find(".tmp.") != std::string::npos) return true;
  return false;
}

// Every file in `dir` is whole: JSON parses, JSONL parses line by line, a CSV ends with a newline and
// every row has the header's number of fields. No temporaries remain.
void check_whole_files(const fs::path& dir) {
  CHECK_FALSE(has_temporary(dir));
  for (const auto& e : fs::directory_iterator(dir)) {
    const std::string text = slurp(e.path());
    const std::string ext = e.path().extension().string();
    INFO(e.path().string());
    if (ext == ".json") {
      CHECK_NOTHROW(nlohmann::json::parse(text));
    } else if (ext == ".jsonl") {
      std::istringstream lines(text);
      for (std::string line; std::getline(lines, line);) CHECK_NOTHROW(nlohmann::json::parse(line));
      CHECK((text.empty() || text.back() == '\n'));
    } else if (ext == ".csv") {
      REQUIRE_FALSE(text.empty());
      CHECK(text.back() == '\n');
      std::istringstream lines(text);
      std::string header;
      std::getline(lines, header);
      const auto fields = std::count(header.begin(), header.end(), ',');
      for (std::string line; std::getline(lines, line);) CHECK(std::count(line.begin(), line.end(), ',') == fields);
    }
  }
}

nlohmann::json json_file(const fs::path& p) { return nlohmann::json::parse(slurp(p)); }

// A stopped run: outputs all there, whole, and saying where and why they stop.
void check_stopped_run(const fs::path& dir, const std::string& reason) {
  for (const char* f : {"summary.json", "manifest.json", "resolved.json", "utilization.csv", "inference.csv"})
    CHECK(fs::exists(dir / f));
  check_whole_files(dir);
  const auto summary = json_file(dir / "summary.json");
  CHECK(summary["complete"] == false);
  CHECK(summary["stop_reason"] == reason);
  const int64_t reached = summary["simulated_until_ns"].get<int64_t>();
  CHECK(reached > 0);
  CHECK(reached < int64_t{3650} * 86400 * 1'000'000'000);  // short of the 3650d horizon
  CHECK(json_file(dir / "manifest.json")["complete"] == false);
}

}  // namespace

TEST_CASE("robustness: --max-events stops after exactly that many events, outputs marked incomplete",
          "[cli][robustness]") {
  TempDir tmp("robust");
  const auto out = tmp.path / "run";
  REQUIRE(run({"run", kLong.string(), "-o", out.string(), "-q", "--max-events", "100000"}, tmp) == 75);
  check_stopped_run(out, "max_events");
  CHECK(json_file(out / "summary.json")["events_executed"] == 100000);
}

TEST_CASE("robustness: --max-wall stops at the next check after the wall time", "[cli][robustness]") {
  TempDir tmp("robust");
  const auto out = tmp.path / "run";
  REQUIRE(run({"run", kLong.string(), "-o", out.string(), "--max-wall", "300ms"}, tmp) == 75);
  check_stopped_run(out, "max_wall");
  CHECK(json_file(out / "manifest.json")["wall_s"].get<double>() >= 0.3);
  CHECK_THAT(slurp(tmp.path / "stdout.txt"), Catch::Contains("STOPPED by --max-wall"));
}

TEST_CASE("robustness: bad --max-events and --max-wall values are usage errors", "[cli][robustness]") {
  TempDir tmp("robust");
  const auto out = tmp.path / "run";
  // --max-wall 60s: a wrongly accepted value must fail the test (exit 75), not run for hours.
  CHECK(run({"run", kLong.string(), "-o", out.string(), "--max-wall", "60s", "--max-events", "0"}, tmp) == 2);
  CHECK(run({"run", kLong.string(), "-o", out.string(), "--max-wall", "60s", "--max-events", "-5"}, tmp) == 2);
  CHECK(run({"run", kLong.string(), "-o", out.string(), "--max-wall", "30"}, tmp) == 2);
  CHECK_THAT(slurp(tmp.path / "stderr.txt"), Catch::Contains("--max-wall"));
  CHECK(run({"run", kLong.string(), "-o", out.string(), "--max-wall", "-1s"}, tmp) == 2);
  CHECK_FALSE(fs::exists(out / "summary.json"));
}

TEST_CASE("robustness: SIGTERM or SIGINT during a run stops it and writes every output", "[cli][robustness]") {
  for (const auto& [sig, code] : {std::pair{SIGTERM, 143}, std::pair{SIGINT, 130}}) {
    TempDir tmp("robust");
    const auto out = tmp.path / "run";
    INFO("signal " << sig);
    // --max-wall is only a safety net so that a lost signal fails the test (exit 75) instead of hanging it.
    const Child c = spawn({"run", kLong.string(), "-o", out.string(), "-q", "--max-wall", "120s"}, tmp);
    REQUIRE(c.pid > 0);
    // The run has started once the recorder's temporaries exist: the handlers are installed before
    // the simulation opens them.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (!has_temporary(out) && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    REQUIRE(has_temporary(out));
    REQUIRE(::kill(c.pid, sig) == 0);
    CHECK(wait_exit(c) == code);
    check_stopped_run(out, "interrupted");
    CHECK(slurp(c.err).empty());
  }
}

TEST_CASE("robustness: a write that fails part-way (file size limit) exits 74 and leaves no partial file",
          "[cli][robustness]") {
  TempDir tmp("robust");
  const auto out = tmp.path / "run";
  // RLIMIT_FSIZE makes write(2) fail with EFBIG past 2000 bytes, as a full disk fails it with ENOSPC;
  // SIGXFSZ is ignored so the failure reaches fleetsim as an error instead of killing it.
  const auto limit = [] {
    const rlimit small{2000, 2000};
    ::setrlimit(RLIMIT_FSIZE, &small);
    std::signal(SIGXFSZ, SIG_IGN);
  };
  CHECK(run({"run", kLong.string(), "-o", out.string(), "-q", "--max-events", "50000"}, tmp, limit) == 74);
  CHECK_THAT(slurp(tmp.path / "stderr.txt"), Catch::Contains("cannot write"));
  REQUIRE(fs::is_directory(out));
  CHECK_FALSE(fs::exists(out / "summary.json"));  // no summary: the run directory is visibly unfinished
  check_whole_files(out);
  for (const auto& e : fs::directory_iterator(out)) CHECK(fs::file_size(e.path()) <= 2000);
}

TEST_CASE("robustness: an output directory that cannot be created exits 73 and writes nothing", "[cli][robustness]") {
  TempDir tmp("robust");
  std::ofstream(tmp.path / "a-file") << "not a directory";
  // Root ignores permission bits, so the unusable directory is one below a regular file (ENOTDIR).
  CHECK(run({"run", kLong.string(), "-o", (tmp.path / "a-file" / "run").string(), "-q"}, tmp) == 73);
  CHECK_THAT(slurp(tmp.path / "stderr.txt"), Catch::Contains("cannot create output directory"));
  CHECK(run({"run", kLong.string(), "-o", (tmp.path / "a-file").string(), "-q"}, tmp) == 73);
  CHECK_THAT(slurp(tmp.path / "stderr.txt"), Catch::Contains("is not a directory"));
  CHECK(slurp(tmp.path / "a-file") == "not a directory");
}

TEST_CASE("robustness: the CLI rejects the malformed corpus with exit 65, the pointer and the message",
          "[cli][robustness][corpus]") {
  const fs::path dir = fs::path(FLEETSIM_TEST_DATA) / "malformed";
  const auto all = json_file(dir / "expectations.json");
  REQUIRE(all.size() >= 100);
  TempDir tmp("robust");
  // `fleetsim validate --format json` on every file without --set, in one process: one JSON line each.
  std::vector<std::string> args = {"validate", "--format", "json"};
  std::map<std::string, nlohmann::json> expected;
  for (const auto& e : all) {
    if (e.contains("set")) continue;
    args.push_back((dir / e.at("file").get<std::string>()).string());
    expected[args.back()] = e;
  }
  REQUIRE(run(args, tmp) == 65);
  std::istringstream lines(slurp(tmp.path / "stdout.txt"));
  size_t checked = 0;
  for (std::string line; std::getline(lines, line);) {
    const auto report = nlohmann::json::parse(line);
    const auto& e = expected.at(report.at("file").get<std::string>());
    INFO(e.dump());
    CHECK(report["valid"] == false);
    bool found = false;
    for (const auto& d : report["errors"])
      found = found || (d["pointer"] == e["pointer"] &&
                        d["message"].get<std::string>().find(e["message"].get<std::string>()) != std::string::npos);
    CHECK(found);
    ++checked;
  }
  CHECK(checked == expected.size());

  // `fleetsim run` on a sample (every 7th, and every file with --set): exit 65, the error line on
  // stderr, and no output directory.
  for (size_t i = 0; i < all.size(); ++i) {
    const auto& e = all[i];
    if (i % 7 != 0 && !e.contains("set")) continue;
    const std::string file = (dir / e.at("file").get<std::string>()).string();
    std::vector<std::string> run_args = {"run", file, "-o", (tmp.path / "out").string()};
    for (const auto& s : e.value("set", nlohmann::json::array())) {
      run_args.push_back("--set");
      run_args.push_back(s.get<std::string>());
    }
    INFO(e.dump());
    CHECK(run(run_args, tmp) == e.at("exit").get<int>());
    const std::string pointer = e.at("pointer");
    CHECK_THAT(slurp(tmp.path / "stderr.txt"),
               Catch::Contains(fmt::format("error: {}: {}{}", file, pointer.empty() ? "" : pointer + ": ", "")) &&
                   Catch::Contains(e.at("message").get<std::string>()));
    CHECK_FALSE(fs::exists(tmp.path / "out"));
  }
}
