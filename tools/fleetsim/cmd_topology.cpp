// SPDX-License-Identifier: Apache-2.0
// `fleetsim topology`: a scenario's network or a topology file (GraphML, DOT), summarised and written
// to GraphML or DOT (models/scenario/topology_file.hpp), so a built-in fabric opens in Graphviz or Gephi
// and a file is checked before a study uses it.
#include "models/scenario/diagnostics.hpp"
#include "models/scenario/load_scenario.hpp"
#include "models/scenario/topology_file.hpp"
#include "sim/atomic_file.hpp"
#include "tools/fleetsim/commands.hpp"
#include "tools/fleetsim/exit_codes.hpp"
#include "tools/fleetsim/options.hpp"

#include <fmt/format.h>

#include <fstream>
#include <sstream>

namespace fleetsim::cli {

int cmd_topology(const Args& args) {
  po::options_description options("Options");
  std::string input, output;
  options.add_options()
      ("input", po::value(&input)->required(), "a scenario (.json) or a topology file (.graphml, .xml, .dot, .gv)")
      ("write", po::value(&output), "write the topology to this file; the format follows its extension");
  po::positional_options_description positional;
  positional.add("input", 1);
  po::variables_map vm;
  if (auto code = parse_command_line(args, "topology", "fleetsim topology scenarios/quickstart.json --write fabric.graphml",
                                     "Reads a scenario's network or a topology file, prints what it holds and, with "
                                     "--write, writes it as GraphML or Graphviz DOT. Exit 65 if the input is invalid, 66 "
                                     "if it is missing.",
                                     options, positional, vm))
    return *code;
  std::optional<TopologyFormat> out_format;
  if (!output.empty()) {
    out_format = topology_format_of(output);
    if (!out_format) {
      fmt::print(stderr, "error: fleetsim topology: --write expects a .graphml, .xml, .dot or .gv file, got \"{}\"\n",
                 output);
      return exit_code::usage;
    }
  }
  try {
    std::optional<Topology> topo;
    if (const auto in_format = topology_format_of(input)) {
      std::ifstream in(input, std::ios::binary);
      if (!in) {
        fmt::print(stderr, "error: fleetsim topology: cannot read \"{}\"\n", input);
        return exit_code::no_input;
      }
      topo = read_topology(in, *in_format, input);
    } else {
      const Scenario s = load_scenario(input, LoadOptions{});
      if (s.network.clusters.empty()) {
        fmt::print(stderr, "error: fleetsim topology: {} has no \"network\"\n", input);
        return exit_code::data_error;
      }
      topo = build_fabric(s.network, s.network_run);
    }
    const TopologyReport& r = topo->report();
    fmt::print("{}: {} vertices, {} links", input, r.vertices, r.links);
    for (int k = 0; k < kLinkKinds; ++k)
      if (r.links_per_kind[k] != 0) fmt::print(", {} {}", r.links_per_kind[k], link_kind_name(static_cast<LinkKind>(k)));
    fmt::print("\n");
    for (uint32_t c = 0; c < topo->clusters(); ++c) fmt::print("  cluster {}: {} GPUs\n", r.clusters[c].name, topo->gpus(c));
    if (out_format) {
      std::ostringstream text;
      write_topology(*topo, *out_format, text);
      write_file_atomically(output, text.str());
      fmt::print("wrote {}\n", output);
    }
  } catch (const TopologyError& e) {
    fmt::print(stderr, "error: {}: {}\n", input, e.what());  // names the input the network came from
    return error_exit(e).code;
  } catch (const std::exception& e) {
    return exit_with(e);
  }
  return exit_code::ok;
}

}  // namespace fleetsim::cli
