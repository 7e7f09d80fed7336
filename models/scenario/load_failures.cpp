// SPDX-License-Identifier: Apache-2.0
#include "models/scenario/load_failures.hpp"

#include "models/scenario/did_you_mean.hpp"
#include "models/scenario/embedded.hpp"
#include "models/hardware/component_path.hpp"
#include "models/scenario/load_fleet.hpp"
#include "sim/time_units.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <map>
#include <stdexcept>

namespace fleetsim {

namespace {

// Bounds that keep a failure process finite (issue 19): an MTBF of 1e-320 s made the superposed rate
// infinite, and a shape of 1e-300 a Weibull mean of inf. One failure per minute per component is
// beyond any published figure by orders of magnitude (GPU MTBFs are thousands of hours); published
// Weibull shapes of hardware lifetimes lie from about 0.5 to 5.
constexpr double kMinMtbfSeconds = 60;
constexpr double kMinWeibullShape = 0.1;
constexpr double kMaxWeibullShape = 20;
// A datacenter, zone or region failing more than once a day: region failures at absurd rates with
// 1 ns repairs grew memory by 28 KB per outage (2.3 GB in 20 s). Published region outages are a few a
// year.
constexpr double kMinSiteMtbfSeconds = 86400;

bool is_site(ComponentClass c) {
  return c == ComponentClass::Datacenter || c == ComponentClass::Az || c == ComponentClass::Region;
}
double min_mtbf_s(ComponentClass c) { return is_site(c) ? kMinSiteMtbfSeconds : kMinMtbfSeconds; }
std::string min_mtbf_message(ComponentClass c) {
  return is_site(c) ? fmt::format("an MTBF of at least 1 day (at most one failure a day) for a {}", class_name(c))
                    : fmt::format("an MTBF of at least {} s (at most one failure per {} s) per component",
                                  kMinMtbfSeconds, kMinMtbfSeconds);
}

}  // namespace

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

// Leading decimal number of s (advancing s past it); nullopt if none.
std::optional<double> take_number(std::string_view& s) {
  double v = 0;
  const char* first = s.data();
  if (!s.empty() && s.front() == '+') return std::nullopt;
  auto [p, ec] = std::from_chars(first, first + s.size(), v);
  if (ec != std::errc() || !std::isfinite(v)) return std::nullopt;
  s.remove_prefix(static_cast<size_t>(p - first));
  return v;
}

// The one table of time units (sim/time_units.hpp), months and years included.
std::optional<double> time_unit_seconds(std::string_view u) { return per_time_unit_seconds(u); }

// Population words each class accepts in a rate ("0.06/GPU-year"), lower case.
std::vector<std::string_view> population_words(ComponentClass c) {
  switch (population_level(c)) {
    case Level::Gpu: return c == ComponentClass::Link ? std::vector<std::string_view>{"gpu", "rail", "link"}
                                                      : std::vector<std::string_view>{"gpu"};
    case Level::Node: return {"node", "host", "server", "instance"};
    case Level::Rack: return c == ComponentClass::Switch ? std::vector<std::string_view>{"rack", "switch"}
                                                         : std::vector<std::string_view>{"rack"};
    case Level::Datacenter: return {"datacenter", "dc"};
    case Level::Zone: return {"az", "zone"};
    case Level::Region: return {"region"};
  }
  return {};
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& ch : out) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return out;
}

}  // namespace

double parse_span_seconds(std::string_view text) {
  std::string_view s = trim(text);
  const auto v = take_number(s);
  if (!v) throw std::invalid_argument(fmt::format("expected a duration such as \"50000h\", got {}", quote(text)));
  s = trim(s);
  if (s.empty()) throw std::invalid_argument(fmt::format("a duration needs a unit (\"50000h\", \"5.7y\"), got {}", quote(text)));
  const auto unit = time_unit_seconds(s);
  if (!unit) throw std::invalid_argument(fmt::format("unknown time unit {} in {}", quote(s), quote(text)));
  return *v * *unit;
}

double parse_failure_rate(std::string_view text, ComponentClass cls) {
  const std::string example = fmt::format("\"0.06/{}-year\"", population_words(cls).front() == "gpu" ? "GPU" : std::string(population_words(cls).front()));
  const size_t slash = text.find('/');
  if (slash == std::string_view::npos)
    throw std::invalid_argument(fmt::format("expected a rate such as {} or \"6.5/1000 node-days\", got {}", example, quote(text)));
  std::string_view num = trim(text.substr(0, slash));
  const auto count = take_number(num);
  if (!count || !trim(num).empty())
    throw std::invalid_argument(fmt::format("expected a number before '/' in {}", quote(text)));
  std::string_view denom = trim(text.substr(slash + 1));
  double multiplier = 1;
  if (!denom.empty() && (std::isdigit(static_cast<unsigned char>(denom.front())) || denom.front() == '.')) {
    const auto m = take_number(denom);
    if (!m || !(*m > 0)) throw std::invalid_argument(fmt::format("expected a positive count after '/' in {}", quote(text)));
    multiplier = *m;
    denom = trim(denom);
  }
  std::string_view unit = denom;
  const size_t dash = denom.rfind('-');
  if (dash != std::string_view::npos) {
    const std::string word = lower(denom.substr(0, dash));
    unit = denom.substr(dash + 1);
    const auto words = population_words(cls);
    if (std::find(words.begin(), words.end(), word) == words.end() &&
        !(word.size() > 1 && word.back() == 's' &&
          std::find(words.begin(), words.end(), std::string_view(word).substr(0, word.size() - 1)) != words.end()))
      throw std::invalid_argument(fmt::format(
          "a rate per {} does not fit class {}, whose population is one per {} (for example {})",
          quote(denom.substr(0, dash)), quote(class_name(cls)), words.front() == "gpu" ? "GPU" : std::string(words.front()),
          example));
  }
  const auto seconds = time_unit_seconds(unit);
  if (!seconds)
    throw std::invalid_argument(fmt::format("unknown time unit {} in rate {} (use hour, day, week, month or year)",
                                            quote(unit), quote(text)));
  return *count / (multiplier * *seconds);
}

namespace {

// What the reads below need to know about the fleet and the run.
struct Context {
  const FleetSpec& fleet;
  const RunSpec& run;
  std::vector<std::string> regions;
  std::vector<std::string> accelerators;
};

std::vector<std::string> string_list(const Reader& r, const std::vector<std::string>& allowed, std::string_view what) {
  std::vector<std::string> out;
  for (const Reader& item : r.items()) {
    std::string s = item.non_empty_string();
    if (!item.valid() || s.empty()) continue;
    if (std::find(allowed.begin(), allowed.end(), s) == allowed.end()) {
      item.error(fmt::format("unknown {} {}{}", what, quote(s), did_you_mean(s, allowed)));
      continue;
    }
    out.push_back(std::move(s));
  }
  return out;
}

RepairSpec read_repair(const Reader& r) {
  RepairSpec rep;
  if (!r.valid()) return rep;
  if (!r.is_object()) {
    rep.kind = RepairSpec::Kind::Fixed;
    rep.value_s = r.duration(Bound::NonNegative).seconds();
    return rep;
  }
  r.reject_unknown_keys({"distribution", "value", "mean", "median", "sigma", "detect"});
  rep.kind = r.choice_or<RepairSpec::Kind>("distribution",
                                           {{"fixed", RepairSpec::Kind::Fixed},
                                            {"exponential", RepairSpec::Kind::Exponential},
                                            {"lognormal", RepairSpec::Kind::Lognormal}},
                                           RepairSpec::Kind::Fixed);
  auto forbid = [&](std::string_view key, std::string_view dist) {
    if (r.has(key)) r.at(key).error(fmt::format("\"{}\" does not apply to a {} repair time", key, dist));
  };
  switch (rep.kind) {
    case RepairSpec::Kind::Fixed:
      rep.value_s = r.at("value").duration(Bound::NonNegative).seconds();
      forbid("mean", "fixed");
      forbid("median", "fixed");
      forbid("sigma", "fixed");
      break;
    case RepairSpec::Kind::Exponential:
      rep.value_s = r.at("mean").positive_duration().seconds();
      forbid("value", "exponential");
      forbid("median", "exponential");
      forbid("sigma", "exponential");
      break;
    case RepairSpec::Kind::Lognormal:
      rep.value_s = r.at("median").positive_duration().seconds();
      rep.sigma = r.at("sigma").non_negative();
      forbid("value", "lognormal");
      forbid("mean", "lognormal");
      break;
  }
  rep.detect = r.duration_or("detect", Duration::zero(), Bound::NonNegative);
  return rep;
}

// The lifetime keys shared by processes and straggler processes: distribution, mtbf | rate, shape.
LifetimeSpec read_lifetime(const Reader& e, ComponentClass cls) {
  LifetimeSpec life;
  life.kind = e.choice_or<LifetimeSpec::Kind>(
      "distribution", {{"exponential", LifetimeSpec::Kind::Exponential}, {"weibull", LifetimeSpec::Kind::Weibull}},
      LifetimeSpec::Kind::Exponential);
  const bool has_mtbf = e.has("mtbf"), has_rate = e.has("rate");
  if (has_mtbf && has_rate) {
    e.at("rate").error("give either \"mtbf\" or \"rate\", not both");
  } else if (!has_mtbf && !has_rate) {
    e.error("missing required property \"mtbf\" (or \"rate\")");
  } else if (has_mtbf) {
    const Reader m = e.at("mtbf");
    double s = 0;
    bool ok = true;
    if (m.is_number()) {
      s = m.number();
    } else if (m.is_string()) {
      try {
        s = parse_span_seconds(m.json().get_ref<const std::string&>());
      } catch (const std::invalid_argument& ex) {
        m.error(ex.what());
        ok = false;
      }
    } else {
      ok = false;
      m.expected("a positive duration such as \"50000h\"");
    }
    if (ok && !(s > 0)) {
      m.expected("a positive duration such as \"50000h\"");
      ok = false;
    }
    if (ok && s < min_mtbf_s(cls)) {
      m.expected(min_mtbf_message(cls));
      ok = false;
    }
    life.mean_s = ok ? s : 1.0;
  } else {
    const Reader r = e.at("rate");
    double per_s = 0;
    bool ok = true;
    if (r.is_number()) {
      per_s = r.number();  // plain SI: per second per component
    } else if (r.is_string()) {
      try {
        per_s = parse_failure_rate(r.json().get_ref<const std::string&>(), cls);
      } catch (const std::invalid_argument& ex) {
        r.error(ex.what());
        ok = false;
      }
    } else {
      ok = false;
      r.expected("a rate such as \"0.06/GPU-year\" or \"6.5/1000 node-days\"");
    }
    if (ok && !(per_s > 0)) {
      r.expected("a positive rate such as \"0.06/GPU-year\" or \"6.5/1000 node-days\"");
      ok = false;
    }
    if (ok && per_s > 1.0 / min_mtbf_s(cls)) {
      r.expected(min_mtbf_message(cls));
      ok = false;
    }
    life.mean_s = ok ? 1.0 / per_s : 1.0;
  }
  if (life.kind == LifetimeSpec::Kind::Weibull) {
    life.shape = e.at("shape").positive();
    if (life.shape < kMinWeibullShape || life.shape > kMaxWeibullShape) {
      e.at("shape").expected(fmt::format("a Weibull shape from {} to {}", kMinWeibullShape, kMaxWeibullShape));
      life.shape = 1;
    }
  } else if (e.has("shape")) {
    e.at("shape").error("\"shape\" applies to \"distribution\": \"weibull\" only");
  }
  return life;
}

ComponentClass read_class(const Reader& r) {
  const std::string s = r.non_empty_string();
  if (!r.valid() || s.empty()) return ComponentClass::Gpu;
  if (const auto c = parse_class(s)) return *c;
  std::string allowed;
  for (const auto& n : class_names()) allowed += (allowed.empty() ? "" : ", ") + quote(n);
  const std::string hint = did_you_mean(s, class_names());
  r.error(!hint.empty() ? fmt::format("unknown component class {}{}", quote(s), hint)
                        : fmt::format("unknown component class {} (allowed: {})", quote(s), allowed));
  return ComponentClass::Gpu;
}

ProcessSpec read_process(const Reader& e, const Context& ctx, bool straggler) {
  ProcessSpec p;
  if (straggler) {
    e.reject_unknown_keys({"name", "class", "cause", "distribution", "mtbf", "rate", "shape", "slowdown", "duration",
                           "regions", "accelerators", "sources", "note"});
  } else {
    e.reject_unknown_keys({"name", "class", "cause", "distribution", "mtbf", "rate", "shape", "repair", "regions",
                           "accelerators", "sources", "note"});
  }
  p.name = e.at("name").non_empty_string();
  p.cls = read_class(e.at("class"));
  if (straggler && e.has("class") && p.cls != ComponentClass::Gpu && p.cls != ComponentClass::Node)
    e.at("class").expected("\"gpu\" or \"node\" (a straggler is a slow GPU or host)");
  p.cause = e.string_or("cause", class_name(p.cls));
  p.lifetime = read_lifetime(e, p.cls);
  if (straggler) {
    p.repair = read_repair(e.at("duration"));
    const Reader s = e.at("slowdown");
    p.slowdown = s.number();
    if (s.valid() && s.is_number() && !(p.slowdown > 1.0)) s.expected("a slowdown factor above 1 (1.1 = 10% slower)");
  } else {
    p.repair = read_repair(e.at("repair"));
  }
  if (auto r = e.opt("regions")) p.regions = string_list(*r, ctx.regions, "region");
  if (auto a = e.opt("accelerators")) {
    p.accelerators = string_list(*a, ctx.accelerators, "accelerator");
    if (population_level(p.cls) == Level::Zone || population_level(p.cls) == Level::Region)
      a->error(fmt::format("class {} has no accelerator; remove \"accelerators\"", quote(class_name(p.cls))));
  }
  if (auto s = e.opt("sources"))
    for (const auto& [k, v] : s->entries()) (void)v.string();
  if (auto n = e.opt("note")) (void)n->string();
  return p;
}

// A region[/zone[/datacenter]] target from the entry's keys; empty on error (reported at `blame`).
std::string read_target(const Reader& e, const Context& ctx) {
  const Reader rr = e.at("region");
  const std::string region = rr.non_empty_string();
  if (!rr.valid() || region.empty()) return {};
  const RegionSpec* rs = ctx.fleet.find_region(region);
  if (rs == nullptr) {
    rr.error(fmt::format("unknown region {}{}", quote(region), did_you_mean(region, ctx.regions)));
    return {};
  }
  std::string path = region;
  const ZoneSpec* zs = nullptr;
  if (auto zr = e.opt("zone")) {
    const std::string zone = zr->non_empty_string();
    std::vector<std::string> names;
    for (const auto& z : rs->zones) {
      names.push_back(z.name);
      if (z.name == zone) zs = &z;
    }
    if (zs == nullptr) {
      if (zr->valid()) zr->error(fmt::format("unknown zone {} in region {}{}", quote(zone), quote(region), did_you_mean(zone, names)));
      return {};
    }
    path += "/" + zone;
  }
  if (auto dr = e.opt("datacenter")) {
    const std::string dc = dr->non_empty_string();
    std::vector<std::string> names;
    std::vector<const ZoneSpec*> found;
    for (const auto& z : rs->zones) {
      if (zs != nullptr && &z != zs) continue;
      for (const auto& d : z.datacenters) {
        names.push_back(d.name);
        if (d.name == dc) found.push_back(&z);
      }
    }
    if (found.empty()) {
      if (dr->valid()) dr->error(fmt::format("unknown datacenter {} in {}{}", quote(dc), quote(path), did_you_mean(dc, names)));
      return {};
    }
    if (found.size() > 1) {
      dr->error(fmt::format("datacenter {} exists in several zones of {}: add \"zone\"", quote(dc), quote(region)));
      return {};
    }
    if (zs == nullptr) path += "/" + found.front()->name;
    path += "/" + dc;
  }
  return path;
}

// Checks a GPU or node path ("r/z/dc/rack3/node2[/gpu5]") against the FleetSpec; "" if fine, else why.
std::string check_component_path(const std::string& path, const FleetSpec& fleet) {
  const ComponentPathParts split = split_component_path(path);
  const auto& tok = split.parts;
  if (split.size != 5 && split.size != 6)
    return "expected the path of a node or GPU, such as \"us-east-1/use1-az4/dc1/rack3/node2\" or \".../node2/gpu5\"";
  const RegionSpec* r = fleet.find_region(tok[0]);
  if (r == nullptr) {
    std::vector<std::string> names;
    for (const auto& x : fleet.regions) names.push_back(x.name);
    return fmt::format("no region {}{}", quote(tok[0]), did_you_mean(tok[0], names));
  }
  const ZoneSpec* z = nullptr;
  std::vector<std::string> zones;
  for (const auto& x : r->zones) {
    if (x.name == tok[1]) z = &x;
    zones.push_back(x.name);
  }
  if (z == nullptr) return fmt::format("no zone {} in {}{}", quote(tok[1]), quote(tok[0]), did_you_mean(tok[1], zones));
  const DatacenterSpec* d = nullptr;
  std::vector<std::string> dcs;
  for (const auto& x : z->datacenters) {
    if (x.name == tok[2]) d = &x;
    dcs.push_back(x.name);
  }
  if (d == nullptr)
    return fmt::format("no datacenter {} in {}/{}{}", quote(tok[2]), tok[0], tok[1], did_you_mean(tok[2], dcs));
  const auto rack = path_index(tok[3], "rack");
  if (!rack || *rack >= d->racks())
    return fmt::format("no {} in {}/{}/{} (it has rack0 to rack{})", quote(tok[3]), tok[0], tok[1], tok[2], d->racks() - 1);
  const uint32_t in_rack = std::min(d->nodes_per_rack, d->nodes - *rack * d->nodes_per_rack);
  const auto node = path_index(tok[4], "node");
  if (!node || *node >= in_rack) return fmt::format("no {} in rack{} (it has node0 to node{})", quote(tok[4]), *rack, in_rack - 1);
  if (split.size == 6) {
    const auto gpu = path_index(tok[5], "gpu");
    if (!gpu || *gpu >= d->gpus_per_node)
      return fmt::format("no {} in node{} (it has gpu0 to gpu{})", quote(tok[5]), *node, d->gpus_per_node - 1);
  }
  return {};
}

// Presets, parsed once per load from the embedded file.
nlohmann::json preset_document() {
  const auto text = embedded_file("catalog/failure_presets.json");
  if (!text) throw std::logic_error("failures: scenarios/catalog/failure_presets.json is not embedded in this build");
  Diagnostics diags("(built-in) scenarios/catalog/failure_presets.json");
  return parse_json_text(*text, diags);
}

OutageSpec read_outage(const Reader& e, const Context& ctx, int index) {
  OutageSpec o;
  e.reject_unknown_keys({"name", "region", "zone", "datacenter", "from", "duration", "kind", "network_factor", "cause",
                         "sources", "note"});
  o.target = read_target(e, ctx);
  o.name = e.has("name") ? e.at("name").non_empty_string() : fmt::format("outage{}", index + 1);
  o.kind = e.choice_or<OutageKind>("kind", {{"full", OutageKind::Full}, {"launch", OutageKind::Launch}, {"network", OutageKind::Network}},
                                   OutageKind::Full);
  const Reader from = e.at("from");
  o.from = read_instant(from, ctx.run);
  require_within_run(from, o.from, ctx.run);
  o.duration = e.at("duration").positive_duration();
  if (o.kind == OutageKind::Network) {
    const Reader f = e.at("network_factor");
    o.network_factor = f.fraction();
    if (f.valid() && !(o.network_factor > 0)) f.expected("a fraction of nominal bandwidth above 0 (0.5 = half)");
  } else if (e.has("network_factor")) {
    e.at("network_factor").error("\"network_factor\" applies to \"kind\": \"network\" only");
  }
  o.cause = e.string_or("cause", fmt::format("{} outage", outage_kind_name(o.kind)));
  if (auto s = e.opt("sources"))
    for (const auto& [k, v] : s->entries()) (void)v.string();
  return o;
}

}  // namespace

std::vector<std::string> failure_preset_names() {
  const nlohmann::json doc = preset_document();
  std::vector<std::string> names;
  for (auto it = doc.at("presets").begin(); it != doc.at("presets").end(); ++it) names.push_back(it.key());
  std::sort(names.begin(), names.end());
  return names;
}

FailureSpec load_failures(const Reader& section, const FleetSpec& fleet, const RunSpec& run) {
  FailureSpec spec;
  spec.sample_interval = run.sample_interval;
  if (!section.valid()) return spec;
  section.reject_unknown_keys({"presets", "processes", "outages", "stragglers"});
  Context ctx{fleet, run, {}, {}};
  for (const auto& r : fleet.regions) {
    ctx.regions.push_back(r.name);
    for (const auto& z : r.zones)
      for (const auto& d : z.datacenters)
        if (std::find(ctx.accelerators.begin(), ctx.accelerators.end(), d.accelerator) == ctx.accelerators.end())
          ctx.accelerators.push_back(d.accelerator);
  }
  std::map<std::string, std::string> names;  // process name -> pointer where first defined
  auto claim = [&](const std::string& name, const Reader& where) {
    if (name.empty()) return;
    auto [it, fresh] = names.emplace(name, where.pointer());
    if (!fresh) where.error(fmt::format("duplicate process name {} (also at {})", quote(name), it->second));
  };

  if (auto presets = section.opt("presets")) {
    const nlohmann::json doc = preset_document();
    std::vector<std::string> known;
    for (auto it = doc.at("presets").begin(); it != doc.at("presets").end(); ++it) known.push_back(it.key());
    for (const Reader& pr : presets->items()) {
      const std::string name = pr.non_empty_string();
      if (!pr.valid() || name.empty()) continue;
      if (!doc.at("presets").contains(name)) {
        pr.error(fmt::format("unknown failure preset {}{}", quote(name), did_you_mean(name, known)));
        continue;
      }
      // The preset's own structure is built in: an error there is a bug, reported as such.
      Diagnostics internal("(built-in) scenarios/catalog/failure_presets.json");
      const Reader root = Reader::root(doc, internal);
      const Reader p = root.at("presets").at(name);
      p.reject_unknown_keys({"description", "source", "exposure", "processes", "outages"});
      if (auto procs = p.opt("processes"))
        for (const Reader& e : procs->items()) {
          spec.processes.push_back(read_process(e, ctx, false));
          claim(spec.processes.back().name, pr);
        }
      if (auto outs = p.opt("outages")) {
        // Semantic problems (the fleet lacks the region, the run misses the dates) are the scenario's:
        // read into a scratch Diagnostics and report them at the preset's pointer.
        int i = 0;
        for (const Reader& e : outs->items()) {
          Diagnostics local("preset");
          const Reader lr = Reader::root(e.json(), local);
          OutageSpec o = read_outage(lr, ctx, i++);
          if (!local.empty()) {
            for (const auto& d : local.sorted())
              pr.error(fmt::format("preset outage {}: {}{}", quote(o.name), d.pointer.empty() ? "" : d.pointer.substr(1) + ": ",
                                   d.message));
          } else {
            spec.outages.push_back(std::move(o));
          }
        }
      }
      if (!internal.empty()) throw std::logic_error("failures: preset " + name + " is invalid:\n" + internal.render());
    }
  }
  if (auto procs = section.opt("processes")) {
    for (const Reader& e : procs->items()) {
      spec.processes.push_back(read_process(e, ctx, false));
      claim(spec.processes.back().name, e.has("name") ? e.at("name") : e);
    }
  }
  if (auto outs = section.opt("outages")) {
    int i = 0;
    for (const Reader& e : outs->items()) {
      OutageSpec o = read_outage(e, ctx, i++);
      // The same outage listed twice (target, kind, start and duration) is a copy-paste slip that
      // doubled nothing visible: refused rather than silently overlapping itself (issue 19).
      for (const auto& prev : spec.outages)
        if (prev.target == o.target && prev.kind == o.kind && prev.from == o.from && prev.duration == o.duration &&
            !o.target.empty()) {
          e.error(fmt::format("the same outage as {} (same target, kind, start and duration)", quote(prev.name)));
          break;
        }
      spec.outages.push_back(std::move(o));
    }
  }
  if (auto strs = section.opt("stragglers")) {
    int i = 0;
    for (const Reader& e : strs->items()) {
      ++i;
      if (!e.has("component")) {
        spec.processes.push_back(read_process(e, ctx, true));
        claim(spec.processes.back().name, e.has("name") ? e.at("name") : e);
        continue;
      }
      e.reject_unknown_keys({"name", "component", "at", "duration", "slowdown", "cause", "sources", "note"});
      StragglerSpec s;
      s.name = e.has("name") ? e.at("name").non_empty_string() : fmt::format("straggler{}", i);
      const Reader c = e.at("component");
      s.target = c.non_empty_string();
      if (c.valid() && !s.target.empty()) {
        const std::string why = check_component_path(s.target, fleet);
        if (!why.empty()) c.error(fmt::format("unknown component {}: {}", quote(s.target), why));
      }
      const Reader at = e.at("at");
      s.at = read_instant(at, run);
      require_within_run(at, s.at, run);
      s.duration = e.at("duration").positive_duration();
      const Reader f = e.at("slowdown");
      s.slowdown = f.number();
      if (f.valid() && f.is_number() && !(s.slowdown > 1.0)) f.expected("a slowdown factor above 1 (1.1 = 10% slower)");
      s.cause = e.string_or("cause", "straggler");
      spec.stragglers.push_back(std::move(s));
    }
  }
  return spec;
}

}  // namespace fleetsim
