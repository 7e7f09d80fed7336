// SPDX-License-Identifier: Apache-2.0
#include "tools/packet/packet_network.hpp"

#include <ns3/boolean.h>
#include <ns3/bulk-send-helper.h>
#include <ns3/config.h>
#include <ns3/data-rate.h>
#include <ns3/double.h>
#include <ns3/inet-socket-address.h>
#include <ns3/internet-stack-helper.h>
#include <ns3/ipv4-static-routing-helper.h>
#include <ns3/ipv4-static-routing.h>
#include <ns3/ipv4.h>
#include <ns3/ipv4-l3-protocol.h>
#include <ns3/node-container.h>
#include <ns3/nstime.h>
#include <ns3/packet-sink-helper.h>
#include <ns3/packet-sink.h>
#include <ns3/point-to-point-helper.h>
#include <ns3/queue-disc.h>
#include <ns3/queue-size.h>
#include <ns3/red-queue-disc.h>
#include <ns3/rng-seed-manager.h>
#include <ns3/simulator.h>
#include <ns3/string.h>
#include <ns3/tcp-congestion-ops.h>
#include <ns3/tcp-dctcp.h>
#include <ns3/tcp-socket-base.h>
#include <ns3/traffic-control-helper.h>
#include <ns3/uinteger.h>

#include <fmt/format.h>

#include <cmath>
#include <stdexcept>

namespace fleetsim::packet {

std::string_view transport_name(Transport t) { return t == Transport::Dctcp ? "dctcp" : "tcp"; }

namespace {

// Addresses: link l is the /30 10.0.0.0 + 4l (its two ends +1 and +2); flow i's sender and receiver
// addresses are 11.0.0.0 + 4i + 1 and + 2, one /30 too: TCP takes its source address from the route's
// interface, and ns-3 picks, among an interface's addresses, the one in the destination's subnet (the
// per-flow host routes are /32, so they win over the /30 the address itself adds). Room for 4 million
// links and 4 million flows.
constexpr uint32_t kLinkBase = 0x0A000000u;
constexpr uint32_t kFlowBase = 0x0B000000u;

struct End {
  uint32_t interface = 0;
  ns3::Ipv4Address address;
};

struct FlowState {
  uint64_t bytes = 0;
  uint64_t received = 0;
  int64_t start_ns = 0;
  int64_t done_ns = -1;
  uint32_t* finished = nullptr;
  uint32_t total = 0;
};

void on_rx(FlowState* f, ns3::Ptr<const ns3::Packet> p, const ns3::Address&) {
  f->received += p->GetSize();
  if (f->done_ns < 0 && f->received >= f->bytes) {
    f->done_ns = ns3::Simulator::Now().GetNanoSeconds();
    if (++*f->finished == f->total) ns3::Simulator::Stop();  // nothing left to measure
  }
}

void count_drop(uint64_t* n, ns3::Ptr<const ns3::Packet>) { ++*n; }
void count_ip_drop(uint64_t* n, const ns3::Ipv4Header&, ns3::Ptr<const ns3::Packet>, ns3::Ipv4L3Protocol::DropReason,
                   ns3::Ptr<ns3::Ipv4>, uint32_t) {
  ++*n;
}

void configure_defaults(const PacketOptions& o) {
  using namespace ns3;
  // Set every run: Config defaults are process-wide and outlive Simulator::Destroy.
  Config::SetDefault("ns3::TcpL4Protocol::SocketType",
                     TypeIdValue(o.transport == Transport::Dctcp ? TcpDctcp::GetTypeId() : TcpNewReno::GetTypeId()));
  Config::SetDefault("ns3::TcpSocket::SegmentSize", UintegerValue(o.mtu - 52));
  Config::SetDefault("ns3::TcpSocket::SndBufSize", UintegerValue(o.socket_buffer_bytes));
  Config::SetDefault("ns3::TcpSocket::RcvBufSize", UintegerValue(o.socket_buffer_bytes));
  Config::SetDefault("ns3::TcpSocket::DelAckCount", UintegerValue(o.delayed_ack_count));
  Config::SetDefault("ns3::TcpSocketBase::MinRto", TimeValue(NanoSeconds(o.min_rto.ticks())));
  Config::SetDefault("ns3::TcpSocketBase::UseEcn",
                     StringValue(o.transport == Transport::Dctcp ? "On" : "Off"));
}

ns3::TrafficControlHelper queue_for(const PacketOptions& o, double bytes_per_s, Duration latency) {
  using namespace ns3;
  TrafficControlHelper tch;
  const QueueSize size(QueueSizeUnit::BYTES, static_cast<uint32_t>(o.queue_bytes));
  if (o.transport == Transport::Dctcp) {
    // ns-3 dctcp-example.cc's RED: ECN marks instead of drops, on the instantaneous queue (QW = 1,
    // "DCTCP tracks instantaneous queue length only"), thresholds in bytes since the queue is in bytes.
    tch.SetRootQueueDisc("ns3::RedQueueDisc", "UseEcn", BooleanValue(true), "UseHardDrop", BooleanValue(false),
                         "MeanPktSize", UintegerValue(o.mtu), "MaxSize", QueueSizeValue(size), "QW",
                         DoubleValue(1.0), "MinTh", DoubleValue(o.mark_min_bytes), "MaxTh",
                         DoubleValue(o.mark_max_bytes), "LinkBandwidth",
                         DataRateValue(DataRate(static_cast<uint64_t>(std::llround(bytes_per_s * 8)))),
                         "LinkDelay", TimeValue(NanoSeconds(latency.ticks())));
  } else {
    tch.SetRootQueueDisc("ns3::FifoQueueDisc", "MaxSize", QueueSizeValue(size));
  }
  return tch;
}

}  // namespace

PacketRun run_packets(const Topology& topo, Router& router, std::span<const PacketFlow> flows,
                      const PacketOptions& o) {
  using namespace ns3;
  if (o.mtu < 576 || o.mtu > 65000) throw std::invalid_argument(fmt::format("packet: mtu {} outside 576..65000", o.mtu));
  constexpr uint32_t kMaxLinksOrFlows = 1u << 22;  // each a /30 in its own /8
  if (topo.directed_edges() / 2 > kMaxLinksOrFlows || flows.size() > kMaxLinksOrFlows)
    throw std::invalid_argument(fmt::format("packet: {} links and {} flows; at most {} of each",
                                            topo.directed_edges() / 2, flows.size(), kMaxLinksOrFlows));
  // Routes first: a bad flow fails before ns-3 state exists.
  std::vector<std::vector<EdgeIndex>> paths(flows.size());
  for (size_t i = 0; i < flows.size(); ++i) {
    const PacketFlow& f = flows[i];
    if (f.src >= topo.vertices() || f.dst >= topo.vertices() || topo.forwards(f.src) || topo.forwards(f.dst))
      throw std::invalid_argument(fmt::format("packet: flow {}: source and destination must be endpoints", i));
    if (!(f.bytes >= 1) || f.src == f.dst || f.start < Duration::zero())
      throw std::invalid_argument(fmt::format("packet: flow {}: needs bytes >= 1, src != dst, start >= 0", i));
    if (!router.route(f.src, f.dst, f.key, paths[i]) || paths[i].empty())
      throw std::invalid_argument(fmt::format("packet: flow {}: no route from {} to {}", i,
                                              topo.vertex(f.src).name, topo.vertex(f.dst).name));
  }

  RngSeedManager::SetSeed(static_cast<uint32_t>(o.seed % 0xFFFFFFFEu) + 1);
  RngSeedManager::SetRun(1);
  configure_defaults(o);

  NodeContainer nodes;
  nodes.Create(topo.vertices());
  InternetStackHelper stack;
  Ipv4StaticRoutingHelper static_routing;
  stack.SetRoutingHelper(static_routing);
  stack.Install(nodes);
  uint64_t other_drops = 0;
  for (uint32_t v = 0; v < topo.vertices(); ++v)
    nodes.Get(v)->GetObject<Ipv4L3Protocol>()->TraceConnectWithoutContext("Drop", MakeBoundCallback(&count_ip_drop, &other_drops));

  PointToPointHelper p2p;
  // One packet in the device: the queue builds in the queue disc, where RED sees (and marks) all of it.
  p2p.SetQueue("ns3::DropTailQueue<Packet>", "MaxSize", QueueSizeValue(QueueSize("1p")));
  p2p.SetDeviceAttribute("Mtu", UintegerValue(o.mtu));
  const uint32_t links = topo.directed_edges() / 2;
  std::vector<std::array<End, 2>> ends(links);  // [0]: the end at edge 2l's source
  QueueDiscContainer discs;
  for (uint32_t l = 0; l < links; ++l) {
    const Topology::EdgeRec& e = topo.edge(2 * l);
    p2p.SetDeviceAttribute("DataRate", DataRateValue(DataRate(static_cast<uint64_t>(std::llround(e.bytes_per_s * 8)))));
    p2p.SetChannelAttribute("Delay", TimeValue(NanoSeconds(e.latency.ticks())));
    NetDeviceContainer dev = p2p.Install(nodes.Get(e.source), nodes.Get(e.target));
    discs.Add(queue_for(o, e.bytes_per_s, e.latency).Install(dev));
    for (uint32_t side = 0; side < 2; ++side) {
      dev.Get(side)->TraceConnectWithoutContext("MacTxDrop", MakeBoundCallback(&count_drop, &other_drops));
      dev.Get(side)->TraceConnectWithoutContext("PhyRxDrop", MakeBoundCallback(&count_drop, &other_drops));
    }
    for (uint32_t side = 0; side < 2; ++side) {
      Ptr<Ipv4> ip = nodes.Get(side == 0 ? e.source : e.target)->GetObject<Ipv4>();
      const int32_t ifi = ip->AddInterface(dev.Get(side));
      const Ipv4Address addr(kLinkBase + 4 * l + 1 + side);
      ip->AddAddress(ifi, Ipv4InterfaceAddress(addr, Ipv4Mask("/30")));
      ip->SetUp(ifi);
      ends[l][side] = End{static_cast<uint32_t>(ifi), addr};
    }
  }
  // The end of a directed edge's link at its source (from) or target (!from).
  auto end_of = [&](EdgeIndex e, bool from) -> const End& { return ends[e >> 1][((e & 1) != 0) == from ? 1 : 0]; };

  std::vector<FlowState> state(flows.size());
  uint32_t finished = 0;
  const auto to_ns3 = [](Duration d) { return NanoSeconds(d.ticks()); };
  for (size_t i = 0; i < flows.size(); ++i) {
    const PacketFlow& f = flows[i];
    const std::vector<EdgeIndex>& path = paths[i];
    const Ipv4Address a(kFlowBase + 4 * static_cast<uint32_t>(i) + 1);  // sender's address of this flow
    const Ipv4Address b(kFlowBase + 4 * static_cast<uint32_t>(i) + 2);  // receiver's
    Ptr<Ipv4> src_ip = nodes.Get(f.src)->GetObject<Ipv4>();
    Ptr<Ipv4> dst_ip = nodes.Get(f.dst)->GetObject<Ipv4>();
    src_ip->AddAddress(end_of(path.front(), true).interface, Ipv4InterfaceAddress(a, Ipv4Mask("/30")));
    dst_ip->AddAddress(end_of(path.back(), false).interface, Ipv4InterfaceAddress(b, Ipv4Mask("/30")));
    for (EdgeIndex e : path) {
      const Topology::EdgeRec& rec = topo.edge(e);
      const End& from = end_of(e, true);
      const End& to = end_of(e, false);
      static_routing.GetStaticRouting(nodes.Get(rec.source)->GetObject<Ipv4>())
          ->AddHostRouteTo(b, to.address, from.interface);
      static_routing.GetStaticRouting(nodes.Get(rec.target)->GetObject<Ipv4>())
          ->AddHostRouteTo(a, from.address, to.interface);
    }
    FlowState& s = state[i];
    s.bytes = static_cast<uint64_t>(std::llround(f.bytes));
    s.start_ns = f.start.ticks();
    s.finished = &finished;
    s.total = static_cast<uint32_t>(flows.size());

    constexpr uint16_t kPort = 5000;
    PacketSinkHelper sink("ns3::TcpSocketFactory", InetSocketAddress(b, kPort));
    ApplicationContainer sink_app = sink.Install(nodes.Get(f.dst));
    sink_app.Start(Seconds(0));
    sink_app.Get(0)->TraceConnectWithoutContext("Rx", MakeBoundCallback(&on_rx, &s));
    BulkSendHelper send("ns3::TcpSocketFactory", InetSocketAddress(b, kPort));
    send.SetAttribute("MaxBytes", UintegerValue(s.bytes));
    send.SetAttribute("SendSize", UintegerValue(65536));
    ApplicationContainer send_app = send.Install(nodes.Get(f.src));
    send_app.Start(to_ns3(f.start));
  }

  // Fixed random streams: ns-3 numbers its streams from a process-wide counter, so without this a
  // second run in the same process draws other numbers (RED's marking coin, TCP's jitter).
  int64_t stream = stack.AssignStreams(nodes, 0);
  for (uint32_t q = 0; q < discs.GetN(); ++q)
    if (Ptr<RedQueueDisc> red = DynamicCast<RedQueueDisc>(discs.Get(q))) stream += red->AssignStreams(stream);

  Simulator::Stop(to_ns3(o.horizon));
  Simulator::Run();

  PacketRun r;
  r.fct.reserve(flows.size());
  for (const FlowState& s : state) {
    r.received_bytes.push_back(s.received);
    if (s.done_ns < 0) {
      r.fct.push_back(Duration::max());
      ++r.unfinished;
    } else {
      r.fct.push_back(Duration::ns(s.done_ns - s.start_ns));
    }
  }
  for (uint32_t q = 0; q < discs.GetN(); ++q) {
    const QueueDisc::Stats& st = discs.Get(q)->GetStats();
    r.marked_packets += st.nTotalMarkedPackets;
    r.dropped_packets += st.nTotalDroppedPackets;
  }
  r.dropped_packets += other_drops;
  Simulator::Destroy();
  return r;
}

}  // namespace fleetsim::packet
