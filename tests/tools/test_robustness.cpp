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

// ---- Hostile input and faults (issue 19): each case fails without its fix ----

namespace {

const fs::path kQuickstart = fs::path(FLEETSIM_SOURCE_DIR) / "scenarios/quickstart.json";

// The stated bounds per input (docs/robustness.md): a child that needs more address space or CPU
// time than this is killed (SIGSEGV/SIGKILL on RLIMIT_AS, SIGXCPU/SIGKILL on RLIMIT_CPU), which
// wait_exit reports as 1000 + the signal, failing the exit-code check.
constexpr rlim_t kInputMemoryBytes = rlim_t{1} << 30;  // 1 GiB of address space
constexpr rlim_t kInputCpuSeconds = 10;
void bounded() {
  const rlimit cpu{kInputCpuSeconds, kInputCpuSeconds};
  ::setrlimit(RLIMIT_CPU, &cpu);
#ifndef __SANITIZE_ADDRESS__  // AddressSanitizer reserves terabytes of address space for its shadow
  const rlimit mem{kInputMemoryBytes, kInputMemoryBytes};
  ::setrlimit(RLIMIT_AS, &mem);
#endif
}

std::string nested(size_t levels) { return std::string(levels, '[') + std::string(levels, ']'); }

void write_text(const fs::path& p, const std::string& text) { std::ofstream(p, std::ios::binary) << text; }

}  // namespace

TEST_CASE("robustness: 60,000 levels of nesting are refused with exit 65, not a crash", "[cli][robustness][hostile]") {
  TempDir tmp("robust");
  const std::string deep = nested(60000);
  write_text(tmp.path / "doc.json", deep);
  write_text(tmp.path / "note.json", R"({"name": "n", "horizon": "1d", "_note": )" + deep + "}");
  for (const char* file : {"doc.json", "note.json"}) {
    INFO(file);
    for (const bool json_format : {false, true}) {
      std::vector<std::string> args = {"validate", (tmp.path / file).string()};
      if (json_format) args.insert(args.end(), {"--format", "json"});
      CHECK(run(args, tmp, bounded) == 65);
      CHECK_THAT(slurp(tmp.path / (json_format ? "stdout.txt" : "stderr.txt")),
                 Catch::Contains("nested deeper than the limit of 64 levels"));
    }
  }
  // In a --set value (10,000 levels: one argument may hold at most 128 KiB).
  CHECK(run({"validate", kQuickstart.string(), "--set", "/_x=" + nested(10000)}, tmp, bounded) == 65);
  CHECK_THAT(slurp(tmp.path / "stderr.txt"), Catch::Contains("/_x: --set value: JSON nested deeper than the limit"));
}

TEST_CASE("robustness: a --set value beyond a double or not UTF-8 is exit 65 like the same mistake in a file",
          "[cli][robustness][hostile]") {
  TempDir tmp("robust");
  CHECK(run({"validate", kQuickstart.string(), "--set", "/seed=1e400"}, tmp) == 65);
  CHECK_THAT(slurp(tmp.path / "stderr.txt"), Catch::Contains("/seed: --set value: number overflow parsing '1e400'"));
  CHECK(run({"validate", kQuickstart.string(), "--set", "/description=caf\xe9"}, tmp) == 65);
  CHECK_THAT(slurp(tmp.path / "stderr.txt"), Catch::Contains("/description: --set value is not valid UTF-8"));
  const auto out = tmp.path / "run";
  CHECK(run({"run", kQuickstart.string(), "-o", out.string(), "--set", "/description=caf\xe9"}, tmp) == 65);
  CHECK_FALSE(fs::exists(out));
}

TEST_CASE("robustness: --set to a huge array index is refused at once, naming the index", "[cli][robustness][hostile]") {
  TempDir tmp("robust");
  CHECK(run({"validate", kQuickstart.string(), "--set", "/fleet/regions/100000000/name=x"}, tmp, bounded) == 65);
  const std::string err = slurp(tmp.path / "stderr.txt");
  CHECK_THAT(err, Catch::Contains("/fleet/regions/100000000: --set: index 100000000 is out of range"));
  CHECK(std::count(err.begin(), err.end(), '\n') == 1);  // one error, not 50 "got null"
}

TEST_CASE("robustness: inputs of unbounded size are refused within the stated memory and time",
          "[cli][robustness][hostile]") {
  TempDir tmp("robust");
  // /dev/zero as the scenario: read up to the 16 MiB limit, then refused.
  CHECK(run({"validate", "/dev/zero"}, tmp, bounded) == 65);
  CHECK_THAT(slurp(tmp.path / "stderr.txt"), Catch::Contains("larger than the limit of 16777216 bytes"));
  // 100,000 unknown keys: reported in bounded time (19-26 s with the quadratic collection), capped.
  std::string keys = R"({"name": "k", "horizon": "1d")";
  for (int i = 0; i < 100000; ++i) keys += fmt::format(R"(, "unknown{}": 1)", i);
  write_text(tmp.path / "keys.json", keys + "}");
  const auto t0 = std::chrono::steady_clock::now();
  CHECK(run({"validate", (tmp.path / "keys.json").string()}, tmp, bounded) == 65);
  INFO("wall " << std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() << " s");
  CHECK_THAT(slurp(tmp.path / "stderr.txt"), Catch::Contains("more errors"));
  // 100,000 duplicate keys.
  std::string dups = R"({"name": "k", "horizon": "1d")";
  for (int i = 0; i < 100000; ++i) dups += R"(, "_d": 1)";
  write_text(tmp.path / "dups.json", dups + "}");
  CHECK(run({"validate", (tmp.path / "dups.json").string()}, tmp, bounded) == 65);
  CHECK_THAT(slurp(tmp.path / "stderr.txt"), Catch::Contains("duplicate property"));
}

TEST_CASE("robustness: a symlink loop is reported as such, not as a missing file", "[cli][robustness][hostile]") {
  TempDir tmp("robust");
  fs::create_symlink(tmp.path / "b.json", tmp.path / "a.json");
  fs::create_symlink(tmp.path / "a.json", tmp.path / "b.json");
  CHECK(run({"validate", (tmp.path / "a.json").string()}, tmp) == 66);
  CHECK_THAT(slurp(tmp.path / "stderr.txt"), Catch::Contains("Too many levels of symbolic links"));
}

TEST_CASE("robustness: --force removes only what the previous run listed, never a user's file",
          "[cli][robustness][hostile]") {
  TempDir tmp("robust");
  const auto out = tmp.path / "run";
  const std::vector<std::string> args = {"run", kLong.string(), "-o", out.string(), "-q", "--max-events", "20000"};
  REQUIRE(run(args, tmp) == 75);
  const auto files = json_file(out / "manifest.json")["files"];
  CHECK(std::find(files.begin(), files.end(), "summary.json") != files.end());
  CHECK(std::find(files.begin(), files.end(), "inference.csv") != files.end());
  write_text(out / "my-measurements.csv", "a,b\n1,2\n");
  write_text(tmp.path / "elsewhere.csv", "x\n");
  fs::create_symlink(tmp.path / "elsewhere.csv", out / "link.csv");
  write_text(out / "events.jsonl.tmp.99999", "left by a killed run");  // a temporary of a run output
  std::vector<std::string> again = args;
  again.push_back("--force");
  REQUIRE(run(again, tmp) == 75);
  CHECK(slurp(out / "my-measurements.csv") == "a,b\n1,2\n");
  CHECK(fs::is_symlink(out / "link.csv"));
  CHECK(slurp(tmp.path / "elsewhere.csv") == "x\n");
  CHECK_FALSE(fs::exists(out / "events.jsonl.tmp.99999"));
  CHECK(fs::exists(out / "summary.json"));
  CHECK_FALSE(fs::exists(out / ".fleetsim.lock"));  // released at the end
}

TEST_CASE("robustness: summary.json appears last, after report.html; a failed report leaves none",
          "[cli][robustness][hostile]") {
  TempDir tmp("robust");
  const auto out = tmp.path / "run";
  // report.html cannot be renamed into place (a directory holds its name; --force leaves directories).
  fs::create_directories(out / "report.html");
  CHECK(run({"run", kLong.string(), "-o", out.string(), "-q", "--max-events", "20000", "--force"}, tmp) == 73);
  CHECK_THAT(slurp(tmp.path / "stderr.txt"), Catch::Contains("report.html"));
  CHECK_FALSE(fs::exists(out / "summary.json"));  // the directory is visibly unfinished
  CHECK(fs::exists(out / "manifest.json"));
  check_whole_files(out);
}

TEST_CASE("robustness: a second run into a directory in use is refused with exit 73", "[cli][robustness][hostile]") {
  TempDir tmp("robust");
  TempDir tmp2("robust");
  const auto out = tmp.path / "run";
  const Child first = spawn({"run", kLong.string(), "-o", out.string(), "-q", "--max-wall", "120s"}, tmp);
  REQUIRE(first.pid > 0);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (!has_temporary(out) && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  REQUIRE(has_temporary(out));
  // With or without --force: the directory is claimed, whatever is in it.
  for (const bool force : {false, true}) {
    std::vector<std::string> args = {"run", kLong.string(), "-o", out.string(), "-q", "--max-events", "1000"};
    if (force) args.push_back("--force");
    CHECK(run(args, tmp2) == 73);
    CHECK_THAT(slurp(tmp2.path / "stderr.txt"), Catch::Contains("is in use by another fleetsim run"));
  }
  REQUIRE(::kill(first.pid, SIGTERM) == 0);
  CHECK(wait_exit(first) == 143);
  check_stopped_run(out, "interrupted");  // the first run's outputs are intact
  CHECK_FALSE(fs::exists(out / ".fleetsim.lock"));
}

TEST_CASE("robustness: --until cuts any scenario, dated events beyond the cut dropped with a note",
          "[cli][robustness][hostile]") {
  TempDir tmp("robust");
  // `fleetsim run --help`'s own example: the quickstart has an outage after day 7.
  const auto out = tmp.path / "q";
  CHECK(run({"run", kQuickstart.string(), "-o", out.string(), "--until", "7d", "--no-report"}, tmp) == 0);
  CHECK_THAT(slurp(tmp.path / "stderr.txt"), Catch::Contains("note: --until 7d cuts the run"));
  CHECK(json_file(out / "summary.json")["complete"] == true);
  // resolved.json keeps the horizon and records the cut, so it loads and reruns the same run.
  const auto resolved = json_file(out / "resolved.json");
  CHECK(resolved["until"] == "7d");
  CHECK(resolved["horizon"] != "7d");
  CHECK(run({"validate", (out / "resolved.json").string()}, tmp) == 0);
  const auto again = tmp.path / "again";
  CHECK(run({"run", (out / "resolved.json").string(), "-o", again.string(), "-q", "--no-report"}, tmp) == 0);
  CHECK(json_file(again / "summary.json")["fingerprint"] == json_file(out / "summary.json")["fingerprint"]);
}

TEST_CASE("robustness: one rule for seeds, on the command line as in a file", "[cli][robustness][hostile]") {
  TempDir tmp("robust");
  const auto out = tmp.path / "run";
  for (const char* bad : {"-1", "18446744073709551615", "9223372036854775808", "1.5", "x"}) {
    INFO(bad);
    CHECK(run({"run", kLong.string(), "-o", out.string(), "--seed", bad}, tmp) == 2);
    CHECK_THAT(slurp(tmp.path / "stderr.txt"), Catch::Contains("--seed expects an integer from 0 to 9223372036854775807"));
  }
  CHECK_FALSE(fs::exists(out));
  // The largest seed runs, and its resolved.json loads again.
  REQUIRE(run({"run", kLong.string(), "-o", out.string(), "-q", "--seed", "9223372036854775807", "--max-events",
               "1000"}, tmp) == 75);
  CHECK(run({"validate", (out / "resolved.json").string()}, tmp) == 0);
}

TEST_CASE("robustness: a trace line beyond the line limit is refused at its line, quoting none of it",
          "[cli][robustness][hostile]") {
  TempDir tmp("robust");
  const auto out = tmp.path / "run";
  // A binary or garbage file named as a trace: its first line is far longer than any trace row.
  write_text(tmp.path / "t.csv", "0.5,100,20\n" + std::string(5000, 'x') + "\n");
  const std::string trace = fmt::format(R"(/inference/services/0/trace={{"file": "{}"}})", (tmp.path / "t.csv").string());
  CHECK(run({"run", kLong.string(), "-o", out.string(), "-q", "--set", trace}, tmp, bounded) == 65);
  const std::string err = slurp(tmp.path / "stderr.txt");
  CHECK_THAT(err, Catch::Contains("/inference/services/0/trace/file: t.csv: line 2: longer than the limit of 1024 "
                                  "bytes per trace line (5000 bytes)"));
  CHECK(err.find("xxxx") == std::string::npos);
  CHECK_FALSE(fs::exists(out));  // refused at load: nothing on disk
}

TEST_CASE("robustness: the runaway guard stops a run past its events per simulated second (exit 75)",
          "[cli][robustness][hostile]") {
  TempDir tmp("robust");
  const auto out = tmp.path / "run";
  // long-inference runs hundreds of events per simulated second (50 requests/s on 8 replicas): a
  // guard of 100 trips at once. The default (10^8) is far above any shipped scenario.
  CHECK(run({"run", kLong.string(), "-o", out.string(), "--max-event-rate", "100", "--max-wall", "60s"}, tmp) == 75);
  CHECK_THAT(slurp(tmp.path / "stderr.txt"),
             Catch::Contains("error: runaway: more than 100 events within one simulated second, at simulated time"));
  CHECK_THAT(slurp(tmp.path / "stdout.txt"), Catch::Contains("STOPPED by the runaway guard (--max-event-rate)"));
  check_stopped_run(out, "event_rate");
  CHECK(json_file(out / "summary.json")["simulated_until_ns"].get<int64_t>() < int64_t{10} * 1'000'000'000);
  // Not a number of events: a usage error.
  CHECK(run({"run", kLong.string(), "-o", (tmp.path / "other").string(), "--max-event-rate", "0"}, tmp) == 2);
  CHECK_THAT(slurp(tmp.path / "stderr.txt"), Catch::Contains("--max-event-rate expects a positive number"));
}

TEST_CASE("robustness: a second signal while the outputs are written still leaves every file whole",
          "[cli][robustness][hostile]") {
  TempDir tmp("robust");
  const auto out = tmp.path / "run";
  const Child c = spawn({"run", kLong.string(), "-o", out.string(), "-q", "--max-wall", "120s"}, tmp);
  REQUIRE(c.pid > 0);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (!has_temporary(out) && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  REQUIRE(has_temporary(out));
  // The first SIGTERM stops the run; the ones after it (every 200 us until the process is gone) arrive
  // while it stops and writes its outputs, the moment issue 19 item 10 saw a second signal kill it.
  REQUIRE(::kill(c.pid, SIGTERM) == 0);
  int status = 0, signals = 1;
  while (::waitpid(c.pid, &status, WNOHANG) == 0) {
    ::kill(c.pid, SIGTERM);
    ++signals;
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  INFO(signals << " signals sent");
  CHECK(signals > 1);
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 143);
  check_stopped_run(out, "interrupted");
}

TEST_CASE("robustness: a run killed outright leaves temporaries that the next --force run removes",
          "[cli][robustness][hostile]") {
  TempDir tmp("robust");
  const auto out = tmp.path / "run";
  const Child c = spawn({"run", kLong.string(), "-o", out.string(), "-q", "--max-wall", "120s"}, tmp);
  REQUIRE(c.pid > 0);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (!has_temporary(out) && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  REQUIRE(has_temporary(out));
  REQUIRE(::kill(c.pid, SIGKILL) == 0);
  CHECK(wait_exit(c) == 1000 + SIGKILL);
  REQUIRE(has_temporary(out));  // SIGKILL cannot be handled: the recorder's temporaries remain
  CHECK_FALSE(fs::exists(out / "summary.json"));
  // The next run with --force removes them along with nothing else, and leaves only whole files.
  write_text(out / "my-notes.csv", "mine\n");
  CHECK(run({"run", kLong.string(), "-o", out.string(), "-q", "--force", "--max-events", "20000"}, tmp) == 75);
  check_stopped_run(out, "max_events");
  CHECK(slurp(out / "my-notes.csv") == "mine\n");
}
