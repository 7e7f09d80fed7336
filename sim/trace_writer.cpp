// SPDX-License-Identifier: Apache-2.0
#include "sim/trace_writer.hpp"

#include "sim/json_out.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace fleetsim {

namespace {

constexpr size_t kFlushBytes = size_t{1} << 16;

// Whole microseconds, rounded half up from integer ns. Readers parse ts and dur as doubles (Perfetto's
// JSON importer does); microseconds with three decimals need 17 significant digits past about 104
// simulated days (2^53 ns), and then a slice's ts + dur rounds past the next slice's ts, so the slices
// seem to overlap. Whole microseconds stay exact in a double for 285 years, and since rounding is
// monotonic a slice's dur is its rounded end minus its rounded start (write_slice): every slice still
// ends at or before the next one on its track begins and nests inside its parent. Reruns stay
// byte-identical (integer arithmetic only).
int64_t round_us(int64_t ns) {
  // Floor division so that negative times (never produced by the engine) round the same way.
  const int64_t shifted = ns + 500;
  return shifted >= 0 ? shifted / 1000 : -((-shifted + 999) / 1000);
}

}  // namespace

TraceWriter::TraceWriter(std::filesystem::path path, TraceWindow window)
    : file_(std::make_unique<AtomicFile>(std::move(path))), window_(window) {
  buffer_ = "{\"traceEvents\":[\n";
}

TraceWriter::TraceWriter(TraceWindow window) : window_(window) { buffer_ = "{\"traceEvents\":[\n"; }

TraceWriter::~TraceWriter() { discard(); }

void TraceWriter::check_open() const {
  if (finished_) throw std::logic_error("TraceWriter used after finish()");
}

void TraceWriter::emit_begin(std::string_view ph, uint32_t pid, uint32_t tid, std::string_view name) {
  if (events_ > 0) buffer_ += ",\n";
  buffer_ += "{\"ph\":\"";
  buffer_ += ph;
  buffer_ += "\",\"pid\":";
  append_uint(buffer_, pid);
  buffer_ += ",\"tid\":";
  append_uint(buffer_, tid);
  buffer_ += ",\"name\":";
  append_json_string(buffer_, name);
  ++events_;
}

void TraceWriter::emit_ts(std::string_view key, int64_t us) {
  buffer_ += ",\"";
  buffer_ += key;
  buffer_ += "\":";
  append_int(buffer_, us);
}

void TraceWriter::emit_end_event() {
  buffer_ += '}';
  maybe_flush();
}

void TraceWriter::maybe_flush() {
  if (file_ && buffer_.size() >= kFlushBytes) {
    file_->write(buffer_);
    buffer_.clear();
  }
}

uint32_t TraceWriter::process(std::string_view name, int sort_index) {
  check_open();
  next_tid_.push_back(1);
  const auto pid = static_cast<uint32_t>(next_tid_.size());
  emit_begin("M", pid, 0, "process_name");
  buffer_ += ",\"args\":{\"name\":";
  append_json_string(buffer_, name);
  buffer_ += "}";
  emit_end_event();
  emit_begin("M", pid, 0, "process_sort_index");
  buffer_ += ",\"args\":{\"sort_index\":";
  append_int(buffer_, sort_index);
  buffer_ += "}";
  emit_end_event();
  return pid;
}

TrackId TraceWriter::track(uint32_t pid, std::string_view name) {
  check_open();
  if (pid == 0 || pid > next_tid_.size()) throw std::out_of_range("TraceWriter::track: unknown pid");
  const uint32_t tid = next_tid_[pid - 1]++;
  emit_begin("M", pid, tid, "thread_name");
  buffer_ += ",\"args\":{\"name\":";
  append_json_string(buffer_, name);
  buffer_ += "}";
  emit_end_event();
  emit_begin("M", pid, tid, "thread_sort_index");
  buffer_ += ",\"args\":{\"sort_index\":";
  append_uint(buffer_, tid);
  buffer_ += "}";
  emit_end_event();
  tracks_.push_back(Track{pid, tid, {}, 0});
  return TrackId{static_cast<uint32_t>(tracks_.size() - 1)};
}

CounterId TraceWriter::counter_track(uint32_t pid, std::string_view name) {
  check_open();
  if (pid == 0 || pid > next_tid_.size()) throw std::out_of_range("TraceWriter::counter_track: unknown pid");
  counters_.push_back(Counter{pid, std::string(name), {}, {}, std::nullopt, {}, SimTime::zero(), false});
  return CounterId{static_cast<uint32_t>(counters_.size() - 1)};
}

void TraceWriter::begin(TrackId id, SimTime t, std::string_view name, std::string_view cat,
                        std::string_view args_json) {
  check_open();
  Track& tr = tracks_.at(id.index);
  if (tr.depth == tr.open.size()) tr.open.emplace_back();
  OpenSlice& s = tr.open[tr.depth++];
  s.start = t;
  s.name.assign(name);
  s.cat.assign(cat);
  s.args.assign(args_json);
}

void TraceWriter::write_slice(const Track& tr, const OpenSlice& s, SimTime end) {
  if (end < window_.from || s.start > window_.to) return;  // entirely outside the window
  const SimTime a = std::max(s.start, window_.from);
  const SimTime b = std::min(end, window_.to);
  emit_begin("X", tr.pid, tr.tid, s.name);
  if (!s.cat.empty()) {
    buffer_ += ",\"cat\":";
    append_json_string(buffer_, s.cat);
  }
  const int64_t a_us = round_us(a.ticks());
  emit_ts("ts", a_us);
  emit_ts("dur", round_us(b.ticks()) - a_us);
  if (!s.args.empty()) {
    buffer_ += ",\"args\":";
    buffer_ += s.args;
  }
  emit_end_event();
}

void TraceWriter::end(TrackId id, SimTime t) {
  check_open();
  Track& tr = tracks_.at(id.index);
  if (tr.depth == 0) return;
  --tr.depth;
  write_slice(tr, tr.open[tr.depth], t);
}

void TraceWriter::end_all(TrackId id, SimTime t) {
  check_open();
  Track& tr = tracks_.at(id.index);
  while (tr.depth > 0) {
    --tr.depth;
    write_slice(tr, tr.open[tr.depth], t);
  }
}

void TraceWriter::set_state(TrackId id, SimTime t, std::string_view name, std::string_view cat,
                            std::string_view args_json) {
  end_all(id, t);
  begin(id, t, name, cat, args_json);
}

size_t TraceWriter::open_slices(TrackId id) const { return tracks_.at(id.index).depth; }

std::string_view TraceWriter::open_slice_name(TrackId id) const {
  const Track& tr = tracks_.at(id.index);
  return tr.depth == 0 ? std::string_view{} : std::string_view(tr.open[tr.depth - 1].name);
}

void TraceWriter::instant(TrackId id, SimTime t, std::string_view name, std::string_view cat,
                          std::string_view args_json) {
  check_open();
  const Track& tr = tracks_.at(id.index);
  if (!window_.contains(t)) return;
  emit_begin("i", tr.pid, tr.tid, name);
  if (!cat.empty()) {
    buffer_ += ",\"cat\":";
    append_json_string(buffer_, cat);
  }
  buffer_ += ",\"s\":\"t\"";
  emit_ts("ts", round_us(t.ticks()));
  if (!args_json.empty()) {
    buffer_ += ",\"args\":";
    buffer_ += args_json;
  }
  emit_end_event();
}

void TraceWriter::write_counter(Counter& c, SimTime t, const std::vector<double>& values) {
  emit_begin("C", c.pid, 0, c.name);
  emit_ts("ts", round_us(t.ticks()));
  buffer_ += ",\"args\":{";
  for (size_t i = 0; i < values.size(); ++i) {
    if (i > 0) buffer_ += ',';
    append_json_string(buffer_, c.keys[i]);
    buffer_ += ':';
    append_json_double(buffer_, values[i]);
  }
  buffer_ += '}';
  emit_end_event();
  c.last = values;
  c.last_t = t;
}

namespace {
// Equal as a counter shows them: NaN (written as null) equals NaN.
bool same_values(const std::vector<double>& a, std::span<const CounterValue> b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i] != b[i].second && !(std::isnan(a[i]) && std::isnan(b[i].second))) return false;
  }
  return true;
}
bool same_values(const std::vector<double>& a, const std::vector<double>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i] != b[i] && !(std::isnan(a[i]) && std::isnan(b[i]))) return false;
  }
  return true;
}
void assign_values(std::vector<double>& out, std::span<const CounterValue> values) {
  out.resize(values.size());
  for (size_t i = 0; i < values.size(); ++i) out[i] = values[i].second;
}
}  // namespace

void TraceWriter::counter(CounterId id, SimTime t, std::span<const CounterValue> values) {
  check_open();
  Counter& c = counters_.at(id.index);
  if (t > window_.to) return;
  // Series names rarely change; when they do, everything before counts as a different sample.
  bool same_keys = c.keys.size() == values.size();
  for (size_t i = 0; same_keys && i < values.size(); ++i) same_keys = c.keys[i] == values[i].first;
  if (!same_keys) {
    if (c.has_held && c.held_t < t && window_.contains(c.held_t)) write_counter(c, c.held_t, c.held);
    c.has_held = false;
    c.keys.assign(values.size(), std::string());
    for (size_t i = 0; i < values.size(); ++i) c.keys[i].assign(values[i].first);
    c.last.clear();
    c.last_t.reset();
  }
  if (t < window_.from) {  // remembered, written at `from` once the window opens
    assign_values(c.held, values);
    c.held_t = window_.from;
    c.has_held = true;
    return;
  }
  // A sample held from before the window (or a min-interval one) that is older than this one.
  if (c.has_held && c.held_t < t && (!c.last_t || !same_values(c.last, c.held)) &&
      (!c.last_t || c.held_t >= *c.last_t + window_.min_counter_interval)) {
    write_counter(c, c.held_t, c.held);
  }
  c.has_held = false;
  if (c.last_t && same_values(c.last, values)) return;
  if (c.last_t && t < *c.last_t + window_.min_counter_interval) {
    assign_values(c.held, values);
    c.held_t = t;
    c.has_held = true;
    return;
  }
  assign_values(scratch_values_, values);
  write_counter(c, t, scratch_values_);
}

void TraceWriter::finish(SimTime end, std::string_view other_data_json) {
  check_open();
  for (size_t i = 0; i < tracks_.size(); ++i) end_all(TrackId{static_cast<uint32_t>(i)}, end);
  for (auto& c : counters_) {
    if (c.has_held && (!c.last_t || !same_values(c.last, c.held)) && window_.contains(c.held_t) && c.held_t <= end)
      write_counter(c, c.held_t, c.held);
    c.has_held = false;
  }
  buffer_ += "\n],\"displayTimeUnit\":\"ns\",\"otherData\":";
  buffer_ += other_data_json.empty() ? std::string_view("{}") : other_data_json;
  buffer_ += "}\n";
  finished_ = true;
  if (file_) {
    file_->write(buffer_);
    buffer_.clear();
  }
}

void TraceWriter::commit() {
  if (!finished_) throw std::logic_error("TraceWriter::commit before finish()");
  if (file_) file_->commit();
}

void TraceWriter::discard() noexcept {
  if (file_) file_->discard();
}

}  // namespace fleetsim
