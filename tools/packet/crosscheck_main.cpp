// SPDX-License-Identifier: Apache-2.0
// packet_crosscheck: the four workloads of docs/network-fidelity.md through fleetsim's fluid model and
// through ns-3 (DCTCP, TCP NewReno), one Markdown table row per workload and transport.
//
//   packet_crosscheck                          # all four, both transports: the table of the doc
//   packet_crosscheck --scale 0.1              # every flow a tenth as large (quick)
//   packet_crosscheck --workload incast --transport dctcp
//
// Columns: ratio = flow-level FCT / packet-level FCT per flow (median, p99, min, max by nearest rank);
// the median FCT of each model in microseconds; ECN marks and queue drops in the packet run. Standard
// output is deterministic (byte-identical reruns); wall-clock times go to standard error.
#include "tools/packet/crosscheck.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>
#include <string_view>
#include <vector>

namespace {

using namespace fleetsim;
using namespace fleetsim::packet;

[[noreturn]] void usage(const std::string& why) {
  std::fprintf(stderr,
               "packet_crosscheck: %s\nusage: packet_crosscheck [--scale X] [--workload NAME]... "
               "[--transport dctcp|tcp]\n",
               why.c_str());
  std::exit(2);
}

double median_us(std::vector<Duration> v) {
  std::erase(v, Duration::max());
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[(v.size() + 1) / 2 - 1].seconds() * 1e6;
}

}  // namespace

int main(int argc, char** argv) try {
  double scale = 1;
  std::vector<std::string> only;
  std::vector<Transport> transports{Transport::Dctcp, Transport::NewReno};
  for (int i = 1; i < argc; ++i) {
    const std::string_view a = argv[i];
    if (i + 1 >= argc) usage(fmt::format("{} needs a value", a));
    const std::string v = argv[++i];
    if (a == "--scale") {
      char* end = nullptr;
      scale = std::strtod(v.c_str(), &end);
      if (end == v.c_str() || *end != '\0' || !(scale > 0) || scale > 100) usage("--scale takes a number in (0, 100]");
    } else if (a == "--workload") {
      only.push_back(v);
    } else if (a == "--transport") {
      if (v == "dctcp") transports = {Transport::Dctcp};
      else if (v == "tcp") transports = {Transport::NewReno};
      else usage("--transport takes dctcp or tcp");
    } else {
      usage(fmt::format("unknown option {}", a));
    }
  }
  std::vector<Workload> workloads = crosscheck_workloads(scale);
  for (const std::string& name : only)
    if (std::none_of(workloads.begin(), workloads.end(), [&](const Workload& w) { return w.name == name; }))
      usage(fmt::format("unknown workload {} (permutation, incast, ring_allreduce, all_to_all_2to1)", name));

  fmt::print("| workload | transport | flows | median | p99 | min | max | fluid median FCT (us) | "
             "packet median FCT (us) | ECN marks | drops |\n");
  fmt::print("|---|---|---|---|---|---|---|---|---|---|---|\n");
  for (const Workload& w : workloads) {
    if (!only.empty() && std::find(only.begin(), only.end(), w.name) == only.end()) continue;
    const Topology topo = build_topology(w.spec);
    Router router(topo);
    const std::vector<Duration> fluid = run_fluid(topo, router, w.flows);
    for (Transport t : transports) {
      const auto t0 = std::chrono::steady_clock::now();
      PacketOptions options;
      options.transport = t;
      const PacketRun run = run_packets(topo, router, w.flows, options);
      const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      const RatioStats s = ratio_stats(fluid, run.fct);
      fmt::print("| {} | {} | {}{} | {:.3f} | {:.3f} | {:.3f} | {:.3f} | {:.1f} | {:.1f} | {} | {} |\n", w.name,
                 transport_name(t), s.flows, s.unfinished ? fmt::format(" ({} unfinished)", s.unfinished) : "",
                 s.median, s.p99, s.min, s.max, median_us(fluid), median_us(run.fct), run.marked_packets,
                 run.dropped_packets);
      std::fflush(stdout);
      fmt::print(stderr, "packet_crosscheck: {} {}: {:.2f} s wall\n", w.name, transport_name(t), wall);
    }
  }
  return 0;
} catch (const std::exception& e) {
  std::fprintf(stderr, "packet_crosscheck: %s\n", e.what());
  return 1;
}
