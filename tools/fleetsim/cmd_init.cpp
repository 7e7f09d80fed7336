// SPDX-License-Identifier: Apache-2.0
// `fleetsim init [FILE]`: a starting scenario to edit, and the JSON Schema beside it.
//
// The scenario is scenarios/first-scenario.json, the one docs/first-scenario.md builds step by step,
// carried in the binary like the catalogs (so the guide, the test that runs it and what init writes
// cannot differ). JSON has no comments; its explanations are "$comment" keys, which the loader and
// the schema accept on every object and ignore. Its "$schema" points at fleetsim.schema.json, written
// next to it, so an editor completes and checks keys outside the repository too.
#include "models/scenario/embedded.hpp"
#include "sim/atomic_file.hpp"
#include "tools/fleetsim/commands.hpp"
#include "tools/fleetsim/exit_codes.hpp"
#include "tools/fleetsim/options.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace fleetsim::cli {

namespace fs = std::filesystem;

namespace {

constexpr std::string_view kTemplate = "first-scenario.json";
constexpr std::string_view kTemplateSchemaRef = "\"$schema\": \"./schema/scenario.schema.json\"";
constexpr std::string_view kTemplateName = "\"name\": \"first-scenario\"";
constexpr std::string_view kSchemaFile = "fleetsim.schema.json";

std::string replace_once(std::string text, std::string_view from, std::string_view to) {
  const size_t at = text.find(from);
  if (at == std::string::npos) throw std::logic_error(fmt::format("fleetsim init: the template lacks {}", from));
  return text.replace(at, from.size(), to);
}

bool same_content(const fs::path& path, std::string_view text) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::ostringstream have;
  have << in.rdbuf();
  return have.str() == text;
}

}  // namespace

int cmd_init(const Args& args) {
  po::options_description options("Options");
  std::string file = "scenario.json";
  options.add_options()
      ("file", po::value(&file), "the scenario to write (default scenario.json); the schema goes beside it")
      ("force", "replace the files if they exist");
  po::positional_options_description positional;
  positional.add("file", 1);
  po::variables_map vm;
  if (auto code = parse_command_line(
          args, "init", "fleetsim init my-fleet.json && fleetsim run my-fleet.json",
          "Writes a starting scenario to edit: two regions, a training job, an inference service, a region "
          "outage and cost, each part explained in \"$comment\" keys (docs/first-scenario.md walks through it). "
          "Writes fleetsim.schema.json beside it, which its \"$schema\" names, so editors complete and check "
          "keys. Refuses to replace existing files unless --force.",
          options, positional, vm))
    return *code;

  const auto scenario = embedded_file(kTemplate);
  const auto schema = embedded_file("schema/scenario.schema.json");
  if (!scenario || !schema) {
    fmt::print(stderr, "internal error: the starting scenario or the schema was not embedded at build time\n");
    return exit_code::software;
  }
  const fs::path path(file);
  const fs::path schema_path = path.parent_path() / kSchemaFile;
  std::string text = replace_once(std::string(*scenario), kTemplateSchemaRef,
                                  fmt::format("\"$schema\": \"./{}\"", kSchemaFile));
  // The scenario's name names its output directory (out/<name>): take the file's, when it is a valid name.
  const std::string stem = path.stem().string();
  const auto name_char = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-'; };
  if (!stem.empty() && std::all_of(stem.begin(), stem.end(), name_char))
    text = replace_once(std::move(text), kTemplateName, fmt::format("\"name\": \"{}\"", stem));

  if (vm.count("force") == 0) {
    for (const auto& [p, content] : {std::pair{path, std::string_view(text)}, std::pair{schema_path, *schema}}) {
      std::error_code ec;
      if (fs::exists(p, ec) && !(p == schema_path && same_content(p, content))) {
        fmt::print(stderr, "error: fleetsim init: {} exists; pass --force to replace it\n", p.string());
        return exit_code::cant_create;
      }
    }
  }
  try {
    if (!path.parent_path().empty()) fs::create_directories(path.parent_path());
    AtomicFile s(schema_path);
    s.write(*schema);
    s.commit();
    AtomicFile f(path);
    f.write(text);
    f.commit();
  } catch (const fs::filesystem_error& e) {
    fmt::print(stderr, "error: fleetsim init: {}\n", e.what());
    return exit_code::cant_create;  // creating the file's folder
  } catch (const std::exception& e) {
    return exit_with(e);
  }
  fmt::print("wrote {} and {}\nnext: fleetsim validate {} && fleetsim run {} (docs/first-scenario.md explains each part)\n",
             path.string(), schema_path.string(), path.string(), path.string());
  return exit_code::ok;
}

}  // namespace fleetsim::cli
