// SPDX-License-Identifier: Apache-2.0
#include "models/hardware/fleet.hpp"
#include "models/hardware/component_path.hpp"

#include <algorithm>
#include <limits>
#include <stdexcept>

namespace fleetsim {

std::string_view level_name(Level l) {
  switch (l) {
    case Level::Region: return "region";
    case Level::Zone: return "zone";
    case Level::Datacenter: return "datacenter";
    case Level::Rack: return "rack";
    case Level::Node: return "node";
    case Level::Gpu: return "gpu";
  }
  return "?";
}

std::string_view health_name(Health h) {
  switch (h) {
    case Health::Healthy: return "healthy";
    case Health::Degraded: return "degraded";
    case Health::Failed: return "failed";
    case Health::Repairing: return "repairing";
    case Health::Offline: return "offline";
    case Health::NotInstalled: return "not_installed";
    case Health::Retired: return "retired";
  }
  return "?";
}

namespace {

void check_name(const std::string& name, const char* what) {
  if (name.empty()) throw std::invalid_argument(std::string("fleet: a ") + what + " has an empty name");
  if (name.find('/') != std::string::npos)
    throw std::invalid_argument(std::string("fleet: ") + what + " name \"" + name + "\" contains '/'");
}

template <class T>
void check_unique(const std::vector<T>& items, const char* what) {
  for (size_t i = 0; i < items.size(); ++i)
    for (size_t j = i + 1; j < items.size(); ++j)
      if (items[i].name == items[j].name)
        throw std::invalid_argument(std::string("fleet: two ") + what + "s named \"" + items[i].name + "\"");
}

uint32_t checked_u32(uint64_t v, const char* what) {
  if (v > std::numeric_limits<uint32_t>::max() - 1)
    throw std::invalid_argument(std::string("fleet: too many ") + what + " (limit 4,294,967,294)");
  return static_cast<uint32_t>(v);
}

}  // namespace

Fleet Fleet::build(const FleetSpec& spec) {
  Fleet f;
  check_unique(spec.regions, "region");
  uint64_t racks = 0, nodes = 0, gpus = 0;
  for (const auto& rs : spec.regions) {
    check_name(rs.name, "region");
    check_unique(rs.zones, "zone");
    RegionRec r;
    r.name = rs.name;
    r.zones.begin = static_cast<uint32_t>(f.zones_.size());
    r.dcs.begin = static_cast<uint32_t>(f.dcs_.size());
    r.racks.begin = static_cast<uint32_t>(racks);
    r.nodes.begin = static_cast<uint32_t>(nodes);
    r.gpus.begin = static_cast<uint32_t>(gpus);
    for (const auto& zs : rs.zones) {
      check_name(zs.name, "zone");
      check_unique(zs.datacenters, "datacenter");
      ZoneRec z;
      z.name = zs.name;
      z.region = static_cast<uint32_t>(f.regions_.size());
      z.dcs.begin = static_cast<uint32_t>(f.dcs_.size());
      for (const auto& ds : zs.datacenters) {
        check_name(ds.name, "datacenter");
        if (ds.gpus_per_node < 1 || ds.gpus_per_node > 255)
          throw std::invalid_argument("fleet: datacenter \"" + ds.name + "\": gpus_per_node must be 1..255");
        if (ds.nodes_per_rack < 1)
          throw std::invalid_argument("fleet: datacenter \"" + ds.name + "\": nodes_per_rack must be >= 1");
        if (ds.scale_up_nodes < 1)
          throw std::invalid_argument("fleet: datacenter \"" + ds.name + "\": scale_up_nodes must be >= 1");
        if (ds.nodes < 1) throw std::invalid_argument("fleet: datacenter \"" + ds.name + "\" has no nodes");
        if (ds.retire_at && *ds.retire_at <= ds.install_at)
          throw std::invalid_argument("fleet: datacenter \"" + ds.name + "\" retires before it is installed");
        DcRec d;
        d.name = ds.name;
        d.instance = ds.instance;
        d.zone = static_cast<uint32_t>(f.zones_.size());
        d.region = z.region;
        auto it = std::find(f.accelerators_.begin(), f.accelerators_.end(), ds.accelerator);
        if (it == f.accelerators_.end()) {
          f.accelerators_.push_back(ds.accelerator);
          it = f.accelerators_.end() - 1;
        }
        d.acc = static_cast<uint32_t>(it - f.accelerators_.begin());
        d.gpn = ds.gpus_per_node;
        d.npr = ds.nodes_per_rack;
        d.scale_up_nodes = ds.scale_up_nodes;
        d.racks = {checked_u32(racks, "racks"), checked_u32(racks + ds.racks(), "racks")};
        d.nodes = {checked_u32(nodes, "nodes"), checked_u32(nodes + ds.nodes, "nodes")};
        d.gpus = {checked_u32(gpus, "GPUs"), checked_u32(gpus + ds.gpus(), "GPUs")};
        racks += ds.racks();
        nodes += ds.nodes;
        gpus += ds.gpus();
        f.dcs_.push_back(std::move(d));
        DomainState st;
        st.health = ds.install_at > SimTime::zero() ? Health::NotInstalled : Health::Healthy;
        f.dc_state_.push_back(std::move(st));
      }
      z.dcs.end = static_cast<uint32_t>(f.dcs_.size());
      f.zones_.push_back(std::move(z));
    }
    r.zones.end = static_cast<uint32_t>(f.zones_.size());
    r.dcs.end = static_cast<uint32_t>(f.dcs_.size());
    r.racks.end = static_cast<uint32_t>(racks);
    r.nodes.end = static_cast<uint32_t>(nodes);
    r.gpus.end = static_cast<uint32_t>(gpus);
    f.regions_.push_back(std::move(r));
  }
  f.naccs_ = std::max<uint32_t>(1, static_cast<uint32_t>(f.accelerators_.size()));
  f.nracks_ = static_cast<uint32_t>(racks);
  f.nnodes_ = static_cast<uint32_t>(nodes);
  f.ngpus_ = static_cast<uint32_t>(gpus);
  f.region_state_.resize(f.regions_.size());
  f.zone_state_.resize(f.zones_.size());
  f.rack_health_.assign(f.nracks_, Health::Healthy);
  f.node_health_.assign(f.nnodes_, Health::Healthy);
  f.gpu_health_.assign(f.ngpus_, Health::Healthy);
  f.rack_up_.assign(f.nracks_, 0);
  f.node_up_.assign(f.nnodes_, 0);
  f.dc_up_.assign(f.dcs_.size(), 0);
  f.zone_up_.assign(f.zones_.size() * f.naccs_, 0);
  f.region_up_.assign(f.regions_.size() * f.naccs_, 0);
  f.installed_.assign(f.regions_.size() * f.naccs_, 0);
  f.counts_.assign(f.regions_.size() * f.naccs_ * kLevels * kHealthStates, 0);
  for (uint32_t di = 0; di < f.dcs_.size(); ++di) {
    const DcRec& d = f.dcs_[di];
    f.dc_rack_begin_.push_back(d.racks.begin);
    f.dc_node_begin_.push_back(d.nodes.begin);
    f.dc_gpu_begin_.push_back(d.gpus.begin);
    for (uint32_t n = d.nodes.begin; n < d.nodes.end; ++n) {
      f.node_up_[n] = static_cast<uint8_t>(d.gpn);
      f.rack_up_[d.racks.begin + (n - d.nodes.begin) / d.npr] += d.gpn;
    }
    f.dc_up_[di] = d.gpus.size();
    if (f.own_up({Level::Datacenter, di})) {
      f.zone_up_[d.zone * f.naccs_ + d.acc] += f.dc_up_[di];
      f.region_up_[f.group(d.region, d.acc)] += f.dc_up_[di];
      f.installed_[f.group(d.region, d.acc)] += d.gpus.size();
    }
    const Health h = f.health({Level::Datacenter, di});
    f.counter(d.region, d.acc, Level::Datacenter, h) += 1;
    f.counter(d.region, d.acc, Level::Rack, h) += d.racks.size();
    f.counter(d.region, d.acc, Level::Node, h) += d.nodes.size();
    f.counter(d.region, d.acc, Level::Gpu, h) += d.gpus.size();
  }
  for (uint32_t zi = 0; zi < f.zones_.size(); ++zi) f.counter(f.zones_[zi].region, 0, Level::Zone, Health::Healthy) += 1;
  for (uint32_t ri = 0; ri < f.regions_.size(); ++ri) f.counter(ri, 0, Level::Region, Health::Healthy) += 1;
  return f;
}

uint32_t Fleet::count(Level l) const {
  switch (l) {
    case Level::Region: return static_cast<uint32_t>(regions_.size());
    case Level::Zone: return static_cast<uint32_t>(zones_.size());
    case Level::Datacenter: return static_cast<uint32_t>(dcs_.size());
    case Level::Rack: return nracks_;
    case Level::Node: return nnodes_;
    case Level::Gpu: return ngpus_;
  }
  return 0;
}

std::optional<RegionId> Fleet::find_region(std::string_view name) const {
  for (uint32_t i = 0; i < regions_.size(); ++i)
    if (regions_[i].name == name) return RegionId{i};
  return std::nullopt;
}

// ---- hierarchy ----

namespace {
uint32_t upper_index(const std::vector<uint32_t>& begins, uint32_t i) {
  // The last datacenter whose range begins at or before i. Empty datacenters do not exist (nodes >= 1).
  auto it = std::upper_bound(begins.begin(), begins.end(), i);
  return static_cast<uint32_t>((it - begins.begin()) - 1);
}
}  // namespace

uint32_t Fleet::dc_of_rack(uint32_t rack) const { return upper_index(dc_rack_begin_, rack); }
uint32_t Fleet::dc_of_node(uint32_t node) const { return upper_index(dc_node_begin_, node); }
uint32_t Fleet::dc_of_gpu(uint32_t gpu) const { return upper_index(dc_gpu_begin_, gpu); }

uint32_t Fleet::dc_index(ComponentRef c) const {
  switch (c.level) {
    case Level::Datacenter: return c.index;
    case Level::Rack: return dc_of_rack(c.index);
    case Level::Node: return dc_of_node(c.index);
    case Level::Gpu: return dc_of_gpu(c.index);
    default: throw std::logic_error("fleet: a region or zone has no datacenter");
  }
}

RegionId Fleet::region_of(ComponentRef c) const {
  switch (c.level) {
    case Level::Region: return RegionId{c.index};
    case Level::Zone: return RegionId{zones_[c.index].region};
    default: return RegionId{dcs_[dc_index(c)].region};
  }
}

ZoneId Fleet::zone_of(ComponentRef c) const {
  if (c.level == Level::Region) throw std::logic_error("fleet: a region has no zone");
  if (c.level == Level::Zone) return ZoneId{c.index};
  return ZoneId{dcs_[dc_index(c)].zone};
}

DatacenterId Fleet::datacenter_of(ComponentRef c) const { return DatacenterId{dc_index(c)}; }

RackId Fleet::rack_of(NodeId n) const {
  const DcRec& d = dcs_[dc_of_node(n.value())];
  return RackId{d.racks.begin + (n.value() - d.nodes.begin) / d.npr};
}

NodeId Fleet::node_of(GpuId g) const {
  const DcRec& d = dcs_[dc_of_gpu(g.value())];
  return NodeId{d.nodes.begin + (g.value() - d.gpus.begin) / d.gpn};
}

ComponentRef Fleet::parent(ComponentRef c) const {
  switch (c.level) {
    case Level::Region: throw std::logic_error("fleet: a region has no parent");
    case Level::Zone: return {Level::Region, zones_[c.index].region};
    case Level::Datacenter: return {Level::Zone, dcs_[c.index].zone};
    case Level::Rack: return {Level::Datacenter, dc_of_rack(c.index)};
    case Level::Node: return ref(rack_of(NodeId{c.index}));
    case Level::Gpu: return ref(node_of(GpuId{c.index}));
  }
  throw std::logic_error("fleet: bad level");
}

IndexRange Fleet::range(ComponentRef c, Level l) const {
  if (static_cast<int>(l) < static_cast<int>(c.level)) throw std::logic_error("fleet: range of a level above");
  if (l == c.level) return {c.index, c.index + 1};
  switch (c.level) {
    case Level::Region: {
      const RegionRec& r = regions_[c.index];
      switch (l) {
        case Level::Zone: return r.zones;
        case Level::Datacenter: return r.dcs;
        case Level::Rack: return r.racks;
        case Level::Node: return r.nodes;
        default: return r.gpus;
      }
    }
    case Level::Zone: {
      const ZoneRec& z = zones_[c.index];
      if (l == Level::Datacenter) return z.dcs;
      if (z.dcs.size() == 0) return {0, 0};
      const DcRec& first = dcs_[z.dcs.begin];
      const DcRec& last = dcs_[z.dcs.end - 1];
      if (l == Level::Rack) return {first.racks.begin, last.racks.end};
      if (l == Level::Node) return {first.nodes.begin, last.nodes.end};
      return {first.gpus.begin, last.gpus.end};
    }
    case Level::Datacenter: {
      const DcRec& d = dcs_[c.index];
      if (l == Level::Rack) return d.racks;
      if (l == Level::Node) return d.nodes;
      return d.gpus;
    }
    case Level::Rack: {
      const DcRec& d = dcs_[dc_of_rack(c.index)];
      const uint32_t first = d.nodes.begin + (c.index - d.racks.begin) * d.npr;
      const uint32_t end = std::min(first + d.npr, d.nodes.end);
      if (l == Level::Node) return {first, end};
      return {d.gpus.begin + (first - d.nodes.begin) * d.gpn, d.gpus.begin + (end - d.nodes.begin) * d.gpn};
    }
    case Level::Node: {
      const DcRec& d = dcs_[dc_of_node(c.index)];
      const uint32_t first = d.gpus.begin + (c.index - d.nodes.begin) * d.gpn;
      return {first, first + d.gpn};
    }
    case Level::Gpu: break;
  }
  throw std::logic_error("fleet: bad range");
}

IndexRange Fleet::scale_up_domain(NodeId n) const {
  const DcRec& d = dcs_[dc_of_node(n.value())];
  const uint32_t offset = n.value() - d.nodes.begin;
  const uint32_t first = d.nodes.begin + (offset / d.scale_up_nodes) * d.scale_up_nodes;
  return {first, std::min(first + d.scale_up_nodes, d.nodes.end)};
}

uint32_t Fleet::accelerator_of(ComponentRef c) const { return dcs_[dc_index(c)].acc; }

// ---- names ----

std::string Fleet::path(ComponentRef c) const {
  switch (c.level) {
    case Level::Region: return regions_[c.index].name;
    case Level::Zone: return regions_[zones_[c.index].region].name + "/" + zones_[c.index].name;
    case Level::Datacenter: {
      const DcRec& d = dcs_[c.index];
      return path({Level::Zone, d.zone}) + "/" + d.name;
    }
    case Level::Rack: {
      const uint32_t di = dc_of_rack(c.index);
      return path({Level::Datacenter, di}) + "/rack" + std::to_string(c.index - dcs_[di].racks.begin);
    }
    case Level::Node: {
      const RackId r = rack_of(NodeId{c.index});
      const IndexRange nodes = range(ref(r), Level::Node);
      return path(ref(r)) + "/node" + std::to_string(c.index - nodes.begin);
    }
    case Level::Gpu: {
      const NodeId n = node_of(GpuId{c.index});
      const IndexRange g = range(ref(n), Level::Gpu);
      return path(ref(n)) + "/gpu" + std::to_string(c.index - g.begin);
    }
  }
  return {};
}

std::optional<ComponentRef> Fleet::find(std::string_view p) const {
  const ComponentPathParts split = split_component_path(p);
  if (split.size == 0) return std::nullopt;
  const auto& tok = split.parts;
  const size_t n = split.size;
  const auto region = find_region(tok[0]);
  if (!region) return std::nullopt;
  ComponentRef c = ref(*region);
  if (n == 1) return c;
  const RegionRec& r = regions_[region->value()];
  std::optional<uint32_t> zone;
  for (uint32_t z = r.zones.begin; z < r.zones.end; ++z)
    if (zones_[z].name == tok[1]) zone = z;
  if (!zone) return std::nullopt;
  if (n == 2) return ComponentRef{Level::Zone, *zone};
  std::optional<uint32_t> dc;
  for (uint32_t d = zones_[*zone].dcs.begin; d < zones_[*zone].dcs.end; ++d)
    if (dcs_[d].name == tok[2]) dc = d;
  if (!dc) return std::nullopt;
  if (n == 3) return ComponentRef{Level::Datacenter, *dc};
  const auto rk = path_index(tok[3], "rack");
  if (!rk || *rk >= dcs_[*dc].racks.size()) return std::nullopt;
  const ComponentRef rack{Level::Rack, dcs_[*dc].racks.begin + *rk};
  if (n == 4) return rack;
  const auto nd = path_index(tok[4], "node");
  const IndexRange nodes = range(rack, Level::Node);
  if (!nd || *nd >= nodes.size()) return std::nullopt;
  const ComponentRef node{Level::Node, nodes.begin + *nd};
  if (n == 5) return node;
  const auto gp = path_index(tok[5], "gpu");
  const IndexRange gpus = range(node, Level::Gpu);
  if (!gp || *gp >= gpus.size()) return std::nullopt;
  return ComponentRef{Level::Gpu, gpus.begin + *gp};
}

// ---- state ----

Fleet::DomainState& Fleet::domain(ComponentRef c) {
  return const_cast<DomainState&>(static_cast<const Fleet*>(this)->domain(c));
}

const Fleet::DomainState& Fleet::domain(ComponentRef c) const {
  switch (c.level) {
    case Level::Region: return region_state_[c.index];
    case Level::Zone: return zone_state_[c.index];
    case Level::Datacenter: return dc_state_[c.index];
    default: throw std::logic_error("fleet: not a domain (region, zone or datacenter)");
  }
}

bool Fleet::dc_active(uint32_t dc) const {
  const Health h = dc_state_[dc].health;
  return h != Health::NotInstalled && h != Health::Retired;
}

Health Fleet::own_health(ComponentRef c) const {
  switch (c.level) {
    case Level::Rack: return rack_health_[c.index];
    case Level::Node: return node_health_[c.index];
    case Level::Gpu: return gpu_health_[c.index];
    default: return domain(c).health;
  }
}

Health Fleet::health(ComponentRef c) const {
  switch (c.level) {
    case Level::Region:
    case Level::Zone:
    case Level::Datacenter: {
      const DomainState& d = domain(c);
      if (!is_up(d.health)) return d.health;
      return d.outage_depth > 0 ? Health::Offline : d.health;
    }
    case Level::Rack:
    case Level::Node:
    case Level::Gpu: {
      const uint32_t di = dc_index(c);
      if (!dc_active(di)) return dc_state_[di].health;
      if (c.level == Level::Gpu) {
        const NodeId n = node_of(GpuId{c.index});
        if (node_health_[n.value()] == Health::Retired) return Health::Retired;
      }
      return own_health(c);
    }
  }
  return Health::Healthy;
}

bool Fleet::own_up(ComponentRef c) const {
  switch (c.level) {
    case Level::Region:
    case Level::Zone:
    case Level::Datacenter: {
      const DomainState& d = domain(c);
      return is_up(d.health) && d.outage_depth == 0;
    }
    default: return is_up(own_health(c));
  }
}

bool Fleet::active(ComponentRef c) const {
  switch (c.level) {
    case Level::Region:
    case Level::Zone: return true;
    case Level::Datacenter: return dc_active(c.index);
    case Level::Rack: return dc_active(dc_of_rack(c.index));
    case Level::Node: return dc_active(dc_of_node(c.index)) && node_health_[c.index] != Health::Retired;
    case Level::Gpu: {
      const NodeId n = node_of(GpuId{c.index});
      return dc_active(dc_of_gpu(c.index)) && node_health_[n.value()] != Health::Retired;
    }
  }
  return false;
}

bool Fleet::usable(ComponentRef c) const {
  ComponentRef p = c;
  while (true) {
    if (!own_up(p)) return false;
    if (p.level == Level::Region) return true;
    p = parent(p);
  }
}

uint64_t Fleet::up_count(ComponentRef c, uint32_t acc) const {
  switch (c.level) {
    case Level::Region: return region_up_[group(c.index, acc)];
    case Level::Zone: return zone_up_[c.index * naccs_ + acc];
    case Level::Datacenter: return dc_up_[c.index];
    case Level::Rack: return rack_up_[c.index];
    case Level::Node: return node_up_[c.index];
    case Level::Gpu: return 1;
  }
  return 0;
}

void Fleet::add_up_count(ComponentRef c, uint32_t acc, int64_t delta) {
  switch (c.level) {
    case Level::Region: region_up_[group(c.index, acc)] += static_cast<uint64_t>(delta); break;
    case Level::Zone: zone_up_[c.index * naccs_ + acc] += static_cast<uint64_t>(delta); break;
    case Level::Datacenter: dc_up_[c.index] += static_cast<uint64_t>(delta); break;
    case Level::Rack: rack_up_[c.index] = static_cast<uint32_t>(rack_up_[c.index] + delta); break;
    case Level::Node: node_up_[c.index] = static_cast<uint8_t>(node_up_[c.index] + delta); break;
    case Level::Gpu: break;
  }
}

void Fleet::propagate(ComponentRef c, uint32_t acc, int64_t delta) {
  if (delta == 0) return;
  ComponentRef p = c;
  while (p.level != Level::Region) {
    p = parent(p);
    add_up_count(p, acc, delta);
    if (!own_up(p)) return;  // p contributes nothing above while it is down
  }
}

uint64_t Fleet::usable_gpus(ComponentRef c) const {
  if (!usable(c)) return 0;
  if (c.level == Level::Region || c.level == Level::Zone) {
    uint64_t n = 0;
    for (uint32_t a = 0; a < naccs_; ++a) n += up_count(c, a);
    return n;
  }
  return up_count(c, 0);
}

uint64_t Fleet::usable_gpus(RegionId r, uint32_t acc) const {
  return own_up(ref(r)) ? region_up_[group(r.value(), acc)] : 0;
}

uint64_t Fleet::usable_gpus_total() const {
  uint64_t n = 0;
  for (uint32_t r = 0; r < regions_.size(); ++r) n += usable_gpus(RegionId{r});
  return n;
}

uint64_t Fleet::installed_gpus(RegionId r) const {
  uint64_t n = 0;
  for (uint32_t a = 0; a < naccs_; ++a) n += static_cast<uint64_t>(installed_[group(r.value(), a)]);
  return n;
}

int64_t& Fleet::counter(uint32_t region, uint32_t acc, Level l, Health h) {
  return counts_[(static_cast<size_t>(group(region, acc)) * kLevels + static_cast<size_t>(l)) * kHealthStates +
                 static_cast<size_t>(h)];
}

uint64_t Fleet::count(RegionId r, uint32_t acc, Level l, Health h) const {
  return static_cast<uint64_t>(const_cast<Fleet*>(this)->counter(r.value(), acc, l, h));
}

uint64_t Fleet::count_domains(RegionId r, Level l, Health h) const {
  uint64_t n = 0;
  for (uint32_t a = 0; a < naccs_; ++a) n += count(r, a, l, h);
  return n;
}

void Fleet::count_move(ComponentRef c, Health from, Health to) {
  if (from == to) return;
  const uint32_t region = region_of(c).value();
  const uint32_t acc = (c.level == Level::Region || c.level == Level::Zone) ? 0 : accelerator_of(c);
  counter(region, acc, c.level, from) -= 1;
  counter(region, acc, c.level, to) += 1;
}

// ---- changes ----

void Fleet::set_health(ComponentRef c, Health h) {
  if (h != Health::Healthy && h != Health::Degraded && h != Health::Failed && h != Health::Repairing)
    throw std::invalid_argument("fleet: set_health takes healthy, degraded, failed or repairing");
  if (!active(c)) return;  // not installed or retired: nothing to break or repair
  const Health before = health(c);
  const bool up_before = own_up(c);
  if (c.level == Level::Gpu || c.level == Level::Node) {
    auto& slow = c.level == Level::Gpu ? gpu_slow_ : node_slow_;
    if (h == Health::Healthy || !is_up(h)) slow.erase(c.index);
  }
  switch (c.level) {
    case Level::Rack: rack_health_[c.index] = h; break;
    case Level::Node: node_health_[c.index] = h; break;
    case Level::Gpu: gpu_health_[c.index] = h; break;
    default: domain(c).health = h; break;
  }
  const bool up_after = own_up(c);
  if (up_before != up_after) {
    if (c.level == Level::Region || c.level == Level::Zone) {
      // Domain toggles carry one count per accelerator; a region has no parent to tell.
      if (c.level == Level::Zone)
        for (uint32_t a = 0; a < naccs_; ++a)
          propagate(c, a, up_after ? static_cast<int64_t>(up_count(c, a)) : -static_cast<int64_t>(up_count(c, a)));
    } else {
      const uint32_t acc = accelerator_of(c);
      const auto n = static_cast<int64_t>(up_count(c, acc));
      propagate(c, acc, up_after ? n : -n);
    }
  }
  count_move(c, before, health(c));
}

void Fleet::begin_outage(ComponentRef d) {
  const Health before = health(d);
  const bool up_before = own_up(d);
  domain(d).outage_depth += 1;
  if (up_before && !own_up(d)) {
    if (d.level == Level::Zone)
      for (uint32_t a = 0; a < naccs_; ++a) propagate(d, a, -static_cast<int64_t>(up_count(d, a)));
    else if (d.level == Level::Datacenter)
      propagate(d, dcs_[d.index].acc, -static_cast<int64_t>(dc_up_[d.index]));
  }
  count_move(d, before, health(d));
}

void Fleet::end_outage(ComponentRef d) {
  DomainState& st = domain(d);
  if (st.outage_depth == 0) throw std::logic_error("fleet: end_outage without begin_outage");
  const Health before = health(d);
  const bool up_before = own_up(d);
  st.outage_depth -= 1;
  if (!up_before && own_up(d)) {
    if (d.level == Level::Zone)
      for (uint32_t a = 0; a < naccs_; ++a) propagate(d, a, static_cast<int64_t>(up_count(d, a)));
    else if (d.level == Level::Datacenter)
      propagate(d, dcs_[d.index].acc, static_cast<int64_t>(dc_up_[d.index]));
  }
  count_move(d, before, health(d));
}

int Fleet::outage_depth(ComponentRef d) const { return domain(d).outage_depth; }

void Fleet::recount_dc(uint32_t di, int sign) {
  const DcRec& d = dcs_[di];
  counter(d.region, d.acc, Level::Datacenter, health({Level::Datacenter, di})) += sign;
  for (uint32_t r = d.racks.begin; r < d.racks.end; ++r) counter(d.region, d.acc, Level::Rack, health(ref(RackId{r}))) += sign;
  for (uint32_t n = d.nodes.begin; n < d.nodes.end; ++n) {
    counter(d.region, d.acc, Level::Node, health(ref(NodeId{n}))) += sign;
    const IndexRange g = range(ref(NodeId{n}), Level::Gpu);
    for (uint32_t i = g.begin; i < g.end; ++i) counter(d.region, d.acc, Level::Gpu, health(ref(GpuId{i}))) += sign;
    if (active(ref(NodeId{n}))) installed_[group(d.region, d.acc)] += sign * static_cast<int64_t>(d.gpn);
  }
}

void Fleet::install(DatacenterId id) {
  const uint32_t di = id.value();
  if (dc_state_[di].health != Health::NotInstalled) throw std::logic_error("fleet: install of an installed datacenter");
  const DcRec& d = dcs_[di];
  recount_dc(di, -1);
  dc_state_[di].health = Health::Healthy;
  recount_dc(di, +1);
  if (own_up(ref(id))) propagate(ref(id), d.acc, static_cast<int64_t>(dc_up_[di]));
}

void Fleet::retire(DatacenterId id) {
  const uint32_t di = id.value();
  if (dc_state_[di].health == Health::Retired) return;
  const DcRec& d = dcs_[di];
  const bool up_before = own_up(ref(id));
  recount_dc(di, -1);
  dc_state_[di].health = Health::Retired;
  recount_dc(di, +1);
  if (up_before) propagate(ref(id), d.acc, -static_cast<int64_t>(dc_up_[di]));
}

void Fleet::retire(NodeId id) {
  const uint32_t n = id.value();
  if (node_health_[n] == Health::Retired) return;
  const uint32_t di = dc_of_node(n);
  const DcRec& d = dcs_[di];
  const IndexRange g = range(ref(id), Level::Gpu);
  auto recount = [&](int sign) {
    counter(d.region, d.acc, Level::Node, health(ref(id))) += sign;
    for (uint32_t i = g.begin; i < g.end; ++i) counter(d.region, d.acc, Level::Gpu, health(ref(GpuId{i}))) += sign;
    if (active(ref(id))) installed_[group(d.region, d.acc)] += sign * static_cast<int64_t>(d.gpn);
  };
  const bool up_before = own_up(ref(id));
  recount(-1);
  node_health_[n] = Health::Retired;
  node_slow_.erase(n);
  recount(+1);
  if (up_before) propagate(ref(id), d.acc, -static_cast<int64_t>(node_up_[n]));
}

std::vector<NodeId> Fleet::retire_gpus(RegionId r, uint64_t gpus) {
  std::vector<NodeId> out;
  uint64_t done = 0;
  const RegionRec& rr = regions_[r.value()];
  for (uint32_t di = rr.dcs.begin; di < rr.dcs.end && done < gpus; ++di) {
    if (!dc_active(di)) continue;
    for (uint32_t n = dcs_[di].nodes.begin; n < dcs_[di].nodes.end && done < gpus; ++n) {
      if (node_health_[n] == Health::Retired) continue;
      retire(NodeId{n});
      out.push_back(NodeId{n});
      done += dcs_[di].gpn;
    }
  }
  return out;
}

// ---- stragglers ----

void Fleet::set_slowdown(ComponentRef c, double factor) {
  if (c.level != Level::Gpu && c.level != Level::Node) throw std::invalid_argument("fleet: slowdown applies to a GPU or a node");
  if (!(factor >= 1.0)) throw std::invalid_argument("fleet: a slowdown factor is >= 1");
  auto& slow = c.level == Level::Gpu ? gpu_slow_ : node_slow_;
  const Health own = own_health(c);
  if (factor == 1.0) {
    slow.erase(c.index);
    if (own == Health::Degraded) set_health(c, Health::Healthy);
    return;
  }
  if (!is_up(own)) return;  // a failed or retired part is not slow, it is out
  if (own == Health::Healthy) {
    const Health before = health(c);
    (c.level == Level::Gpu ? gpu_health_ : node_health_)[c.index] = Health::Degraded;  // still up: no propagation
    count_move(c, before, health(c));
  }
  slow[c.index] = factor;
}

double Fleet::slowdown(GpuId g) const {
  double f = 1.0;
  if (!gpu_slow_.empty()) {
    if (auto it = gpu_slow_.find(g.value()); it != gpu_slow_.end()) f = it->second;
  }
  if (!node_slow_.empty()) {
    if (auto it = node_slow_.find(node_of(g).value()); it != node_slow_.end()) f = std::max(f, it->second);
  }
  return f;
}

double Fleet::slowest(std::span<const GpuId> gpus) const {
  double f = 1.0;
  if (gpu_slow_.empty() && node_slow_.empty()) return f;
  for (GpuId g : gpus) f = std::max(f, slowdown(g));
  return f;
}

double Fleet::slowest(std::span<const NodeId> nodes) const {
  double f = 1.0;
  if (gpu_slow_.empty() && node_slow_.empty()) return f;
  for (NodeId n : nodes) {
    if (auto it = node_slow_.find(n.value()); it != node_slow_.end()) f = std::max(f, it->second);
    if (!gpu_slow_.empty()) {
      const IndexRange g = range(ref(n), Level::Gpu);
      for (uint32_t i = g.begin; i < g.end; ++i)
        if (auto it = gpu_slow_.find(i); it != gpu_slow_.end()) f = std::max(f, it->second);
    }
  }
  return f;
}

// ---- partial outages ----

void Fleet::add_launch_block(ComponentRef d, int delta) {
  DomainState& st = domain(d);
  const int v = static_cast<int>(st.launch_blocks) + delta;
  if (v < 0) throw std::logic_error("fleet: launch block released more often than taken");
  st.launch_blocks = static_cast<uint16_t>(v);
}

bool Fleet::launch_allowed(ComponentRef c) const {
  if (c.level != Level::Region && c.level != Level::Zone) {
    if (dc_state_[dc_index(c)].launch_blocks > 0) return false;
  }
  if (c.level != Level::Region && zone_state_[zone_of(c).value()].launch_blocks > 0) return false;
  return region_state_[region_of(c).value()].launch_blocks == 0;
}

void Fleet::push_network_factor(ComponentRef d, double factor) {
  if (!(factor > 0.0 && factor <= 1.0)) throw std::invalid_argument("fleet: a network factor is in (0, 1]");
  domain(d).net_factors.push_back(factor);
}

void Fleet::pop_network_factor(ComponentRef d, double factor) {
  auto& v = domain(d).net_factors;
  auto it = std::find(v.begin(), v.end(), factor);
  if (it == v.end()) throw std::logic_error("fleet: pop of a network factor that was not pushed");
  v.erase(it);
}

double Fleet::network_factor(ComponentRef c) const {
  double f = 1.0;
  auto take = [&](const DomainState& d) {
    for (double x : d.net_factors) f = std::min(f, x);
  };
  if (c.level != Level::Region && c.level != Level::Zone) take(dc_state_[dc_index(c)]);
  if (c.level != Level::Region) take(zone_state_[zone_of(c).value()]);
  take(region_state_[region_of(c).value()]);
  return f;
}

size_t Fleet::memory_bytes() const {
  auto vec = [](const auto& v) { return v.capacity() * sizeof(v[0]); };
  size_t b = vec(regions_) + vec(zones_) + vec(dcs_) + vec(dc_rack_begin_) + vec(dc_node_begin_) + vec(dc_gpu_begin_) +
             vec(region_state_) + vec(zone_state_) + vec(dc_state_) + vec(rack_health_) + vec(node_health_) +
             vec(gpu_health_) + vec(rack_up_) + vec(node_up_) + vec(dc_up_) + vec(zone_up_) + vec(region_up_) +
             vec(installed_) + vec(counts_);
  b += (gpu_slow_.size() + node_slow_.size()) * 32;
  return b;
}

}  // namespace fleetsim
