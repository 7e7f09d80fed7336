// SPDX-License-Identifier: Apache-2.0
// The structure-aware half of fuzz_cli (docs/fuzzing.md): mutations that keep a scenario valid JSON
// and mostly valid as a scenario, so the fuzzer gets past the loader into World::build and the models,
// where byte flips almost never lead (a flipped byte is a syntax error 99% of the time).
//
// An input of fuzz_cli is `SCENARIO \0 COMMAND \0 ARG \0 ARG ...`; one without a NUL is a scenario
// for `fleetsim run` with no extra arguments (so every shipped scenario is a seed as it stands).
// A mutation changes one thing: a number (to 0, -1, 1e-320, 1e308, x10, /10, ...), a string (to
// another string of the document, which makes references such as a job "after" itself; to a
// quantity at an extreme such as "1ns" or "1e300h"; to "..", "" or a NUL), deletes a key or an
// item, duplicates an item (duplicate names, cycles), copies a subtree elsewhere, or changes the
// command line (a --set at a pointer of the document, --until, --seed, --trace-level, ...).
#pragma once

#include <nlohmann/json.hpp>

#include <cstddef>
#include <cstdint>
#include <iterator>
#include <random>
#include <string>
#include <string_view>
#include <vector>

namespace fleetsim::fuzz {

struct CliInput {
  std::string scenario;
  std::vector<std::string> args;  // args[0] is the command; empty: `run` with no extra arguments
};

inline CliInput split_input(std::string_view data) {
  CliInput in;
  const size_t nul = data.find('\0');
  in.scenario = std::string(data.substr(0, nul));
  if (nul == std::string_view::npos) return in;
  std::string_view rest = data.substr(nul + 1);
  while (true) {
    const size_t next = rest.find('\0');
    in.args.emplace_back(rest.substr(0, next));
    if (next == std::string_view::npos) break;
    rest = rest.substr(next + 1);
  }
  return in;
}

inline std::string join_input(const CliInput& in) {
  std::string out = in.scenario;
  for (const auto& a : in.args) {
    out += '\0';
    out += a;
  }
  return out;
}

class ScenarioMutator {
 public:
  explicit ScenarioMutator(unsigned seed) : rng_(seed) {}

  /// One structural mutation of `in`; false when the scenario is not JSON (the caller then mutates bytes).
  bool mutate(CliInput& in) {
    nlohmann::json doc = nlohmann::json::parse(in.scenario, nullptr, false);
    if (doc.is_discarded()) return false;
    paths_.clear();
    collect(doc, "");
    if (pick(4) == 0) {
      mutate_args(in);
    } else {
      mutate_doc(doc);
      // dump() throws on invalid UTF-8 produced by an earlier byte mutation: leave that to bytes.
      try {
        in.scenario = doc.dump(pick(2) == 0 ? -1 : 1);
      } catch (const nlohmann::json::exception&) {
        return false;
      }
    }
    return true;
  }

 private:
  size_t pick(size_t n) { return n == 0 ? 0 : std::uniform_int_distribution<size_t>(0, n - 1)(rng_); }

  void collect(const nlohmann::json& j, const std::string& path) {
    paths_.push_back(path);
    if (j.is_string()) strings_.push_back(j.get<std::string>());
    if (strings_.size() > 256) strings_.erase(strings_.begin());
    if (j.is_object()) {
      for (const auto& [k, v] : j.items()) collect(v, path + "/" + escape(k));
    } else if (j.is_array()) {
      for (size_t i = 0; i < j.size(); ++i) collect(j[i], path + "/" + std::to_string(i));
    }
  }

  static std::string escape(const std::string& key) {
    std::string out;
    for (const char c : key) out += c == '~' ? std::string("~0") : c == '/' ? std::string("~1") : std::string(1, c);
    return out;
  }

  nlohmann::json extreme_number(const nlohmann::json& old) {
    const double v = old.is_number() ? old.get<double>() : 1.0;
    static constexpr double kValues[] = {0, -1, 1, 1e-320, 1e-300, 1e308, 0.01, 9007199254740993.0, 1e6, 1e9,
                                         2147483648.0, 1e15, 0.5, 3};
    switch (pick(5)) {
      case 0: return v * 10;
      case 1: return v / 10;
      case 2: return v + 1;
      case 3: return -v;
      default: return kValues[pick(std::size(kValues))];
    }
  }

  std::string extreme_string() {
    static const std::string kStrings[] = {"1ns", "0s", "1e300h", "292y", "1e-300 s", "1/ns", "1e308/s", "..", ".", "",
                                     std::string("a\0b", 3), "-1h", "1 PB/s", "1e-9 bps",
                                     "9999-12-31T23:59:59Z", "1677-09-21T00:12:44Z", "after", "none", "1e308",
                                     "us-east-1", "run-1", "H100", "GB200", "p5.48xlarge", "weibull", "full"};
    if (pick(3) == 0 && !strings_.empty()) return strings_[pick(strings_.size())];
    return kStrings[pick(std::size(kStrings))];
  }

  void mutate_doc(nlohmann::json& doc) {
    const std::string path = paths_[pick(paths_.size())];
    const nlohmann::json::json_pointer ptr(path);
    nlohmann::json& node = doc[ptr];
    switch (pick(8)) {
      case 0:
      case 1:
        if (node.is_number()) node = extreme_number(node);
        else if (node.is_string()) node = extreme_string();
        else node = extreme_number(node);
        break;
      case 2:
        node = extreme_string();
        break;
      case 3:  // delete
        if (!path.empty()) {
          nlohmann::json& parent = doc[ptr.parent_pointer()];
          if (parent.is_object()) parent.erase(ptr.back());
          else if (parent.is_array() && !parent.empty()) parent.erase(parent.begin() + static_cast<long>(std::stoul(ptr.back())));
        }
        break;
      case 4:  // duplicate an item of an array (or the array's parent item)
        if (node.is_array() && !node.empty() && node.size() < 64) node.push_back(node[pick(node.size())]);
        break;
      case 5: {  // copy a subtree over this one
        const nlohmann::json other = doc[nlohmann::json::json_pointer(paths_[pick(paths_.size())])];
        doc[ptr] = other;
        break;
      }
      case 6: {
        static const nlohmann::json kShapes[] = {nullptr, true, nlohmann::json::object(), nlohmann::json::array(), 0};
        node = kShapes[pick(std::size(kShapes))];
        break;
      }
      default:  // an annotation or an unknown key beside the node
        if (node.is_object()) node[pick(2) ? "_note" : "unknown"] = extreme_string();
        break;
    }
  }

  void mutate_args(CliInput& in) {
    if (in.args.empty()) in.args.push_back("run");
    static const char* kCommands[] = {"run", "validate"};
    static const char* kArgs[] = {"--until", "7d", "1ns", "--seed", "-1", "18446744073709551615", "0",
                                  "--trace-level", "all", "none", "--trace-from", "--trace-to", "1d",
                                  "--no-report", "--format", "json", "--max-events", "1", "--max-wall",
                                  "--progress", "always", "--help", "--", "-", "--set", "--force", "-q"};
    switch (pick(6)) {
      case 0:
        in.args[0] = kCommands[pick(std::size(kCommands))];
        break;
      case 1:
        if (in.args.size() > 1) in.args.erase(in.args.begin() + static_cast<long>(1 + pick(in.args.size() - 1)));
        break;
      case 2:
      case 3: {  // --set at a pointer of the document, with an extreme or borrowed value
        const std::string& p = paths_[pick(paths_.size())];
        if (p.empty()) break;
        std::string value = pick(2) ? extreme_string() : extreme_number(nullptr).dump();
        in.args.push_back("--set");
        in.args.push_back(p + (pick(8) == 0 ? "/7" : "") + "=" + value);
        break;
      }
      default:
        if (in.args.size() < 16) in.args.push_back(kArgs[pick(std::size(kArgs))]);
        break;
    }
  }

  std::mt19937 rng_;
  std::vector<std::string> paths_;
  std::vector<std::string> strings_;
};

}  // namespace fleetsim::fuzz
