// SPDX-License-Identifier: Apache-2.0
// libFuzzer target: the fleetsim command line as a user drives it, `fleetsim run` and `fleetsim
// validate` with their options and --set overrides, on a scenario file the input supplies, through
// the loader, World::build, the models and the writers. Input format and the structure-aware
// mutator: scenario_mutator.hpp; how to run it: docs/fuzzing.md.
//
// Findings (each aborts): an exit code outside the documented set (70 "internal error" or
// "simulation failed" is a finding: input the loader accepts must run), an output directory left
// behind by a refused run (exit 2, 65, 66), a run reported finished (0, 75) without a summary.json
// that parses or with a temporary file left, a crash, a sanitizer report, more than 2 GB or 120 s (run it with
// -timeout=120: the flagship seed builds its eleven fabrics in about 52 s of CPU under ASan).
//
// Every run gets `-o WORK/out --max-events 20000` appended, so the simulated work per input is
// bounded and nothing is written outside the work directory (a second -o from the fuzzer is a usage
// error, exit 2, and writes nothing).
#include "tools/fleetsim/commands.hpp"
#include "tools/fleetsim/exit_codes.hpp"
#include "tools/fuzz/scenario_mutator.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <system_error>

extern "C" size_t LLVMFuzzerMutate(uint8_t* data, size_t size, size_t max_size);

namespace {

namespace fs = std::filesystem;

fs::path g_work;

[[noreturn]] void finding(const std::string& what) {
  std::fprintf(stderr, "fuzz_cli: %s\n", what.c_str());
  std::abort();
}

// Arguments that would make the target read a terminal or a device rather than the input: fleetsim
// may read any path a user names, so naming these is not a bug, but it is not what this target tests.
bool reads_outside(const std::string& arg) {
  return arg.find("/dev/") != std::string::npos || arg.find("/proc/") != std::string::npos ||
         arg.find("/sys/") != std::string::npos;
}

// `--help` (or `-h`, a prefix such as `--he`, `-h` in a cluster of short options) prints the usage and
// exits 0 without running: no outputs to check (the first two "findings" of the one-hour run).
bool asks_help(const std::vector<std::string>& args) {
  for (const std::string& a : args) {
    if (a.size() > 2 && a.rfind("--", 0) == 0 && std::string_view("--help").substr(0, a.size()) == a) return true;
    if (a.size() >= 2 && a[0] == '-' && a[1] != '-' && a.find('h') != std::string::npos) return true;
  }
  return false;
}

void check_outputs(const fs::path& out, int code) {
  std::error_code ec;
  if (code == fleetsim::exit_code::usage || code == fleetsim::exit_code::data_error ||
      code == fleetsim::exit_code::no_input) {
    if (fs::exists(out, ec)) finding("a refused run (exit " + std::to_string(code) + ") left " + out.string());
    return;
  }
  if (code != fleetsim::exit_code::ok && code != fleetsim::exit_code::limit_reached) return;
  std::ifstream in(out / "summary.json");
  if (!in) finding("exit " + std::to_string(code) + " without summary.json");
  const auto summary = nlohmann::json::parse(in, nullptr, false);
  if (summary.is_discarded()) finding("summary.json does not parse");
  for (const auto& e : fs::directory_iterator(out, ec))
    if (e.path().filename().string().find(".tmp.") != std::string::npos)
      finding("temporary file left: " + e.path().string());
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  char tmpl[] = "/tmp/fuzz_cli.XXXXXX";
  if (!mkdtemp(tmpl)) std::abort();
  g_work = tmpl;
  if (!std::freopen("/dev/null", "w", stdout)) std::abort();  // run summaries, validate's "ok" lines
  return 0;
}

extern "C" size_t LLVMFuzzerCustomMutator(uint8_t* data, size_t size, size_t max_size, unsigned seed) {
  if (seed % 3 != 0) {
    fleetsim::fuzz::CliInput in = fleetsim::fuzz::split_input({reinterpret_cast<const char*>(data), size});
    fleetsim::fuzz::ScenarioMutator mutator(seed);
    if (mutator.mutate(in)) {
      const std::string out = fleetsim::fuzz::join_input(in);
      if (out.size() <= max_size) {
        std::copy(out.begin(), out.end(), data);
        return out.size();
      }
    }
  }
  return LLVMFuzzerMutate(data, size, max_size);
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace fleetsim;
  const fuzz::CliInput in = fuzz::split_input({reinterpret_cast<const char*>(data), size});
  for (const auto& a : in.args)
    if (reads_outside(a)) return 0;
  const fs::path scenario = g_work / "scenario.json";
  const fs::path out = g_work / "out";
  std::error_code ec;
  fs::remove_all(out, ec);
  {
    std::ofstream f(scenario, std::ios::binary | std::ios::trunc);
    f << in.scenario;
  }
  const std::string command = in.args.empty() ? "run" : in.args[0];
  cli::Args args{scenario.string()};
  for (size_t i = 1; i < in.args.size(); ++i) args.push_back(in.args[i]);
  int code = 0;
  try {
    if (command == "validate") {
      code = cli::cmd_validate(args);
    } else {
      for (const char* a : {"-o", out.c_str(), "--max-events", "20000"}) args.emplace_back(a);
      code = cli::cmd_run(args);
    }
  } catch (const std::exception& e) {
    finding(std::string("exception escaped the command (main would exit 70): ") + e.what());
  }
  static const std::set<int> kDocumented = {exit_code::ok, exit_code::usage, exit_code::data_error,
                                            exit_code::no_input, exit_code::cant_create, exit_code::io_error,
                                            exit_code::limit_reached};
  if (!kDocumented.count(code)) finding("exit code " + std::to_string(code));
  if (command != "validate" && !asks_help(in.args)) check_outputs(out, code);
  return 0;
}
