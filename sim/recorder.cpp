// SPDX-License-Identifier: Apache-2.0
#include "sim/recorder.hpp"

#include "sim/duration_text.hpp"
#include "sim/json_out.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <exception>
#include <stdexcept>

namespace fleetsim {

namespace {

// Keys finish() adds to summary.json; a model writing one of them would be overwritten silently.
constexpr std::array<std::string_view, 10> kReservedSummaryKeys = {
    "complete",    "events_executed", "events_published", "fingerprint",     "scenario_hash",
    "seed",        "simulated_until", "simulated_until_ns", "stop_reason", "version"};

bool valid_table_name(std::string_view name) {
  if (name.empty() || name.front() == '.') return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
           c == '.';
  });
}

}  // namespace

Cell to_cell(const CellView& v) {
  switch (v.type()) {
    case CellView::Type::Null: return std::monostate{};
    case CellView::Type::Bool: return v.as_bool();
    case CellView::Type::Int: return v.as_int();
    case CellView::Type::Double: return v.as_double();
    case CellView::Type::String: return std::string(v.as_string());
  }
  return std::monostate{};
}

const Cell* RecordedEvent::find(std::string_view key) const {
  for (const auto& [k, v] : fields) {
    if (k == key) return &v;
  }
  return nullptr;
}

std::string_view PublishedEvent::text(std::string_view key) const {
  const Cell* c = find(key);
  if (!c) return {};
  if (const auto* s = std::get_if<std::string>(c)) return *s;
  return {};
}

std::optional<double> PublishedEvent::number(std::string_view key) const {
  const Cell* c = find(key);
  if (!c) return std::nullopt;
  if (const auto* i = std::get_if<int64_t>(c)) return static_cast<double>(*i);
  if (const auto* d = std::get_if<double>(c)) return *d;
  return std::nullopt;
}

const Cell* PublishedEvent::find(std::string_view key) const {
  for (const auto& [k, v] : fields) {
    if (k == key) return &v;
  }
  return nullptr;
}

Recorder::Recorder(RecorderOptions options) : options_(std::move(options)) {
  keep_ = (options_.directory.empty() && !options_.summary_only) || options_.keep_in_memory;
  if (!options_.directory.empty() && options_.write_events) {
    events_ = std::make_unique<JsonlWriter>(options_.directory / "events.jsonl");
  }
  if (options_.trace) {
    trace_ = options_.directory.empty()
                 ? std::make_unique<TraceWriter>(options_.trace_window)
                 : std::make_unique<TraceWriter>(options_.directory / "trace.json", options_.trace_window);
  }
}

Recorder::~Recorder() { abandon(); }

void Recorder::abandon() noexcept {
  if (finished_) return;
  abandoned_ = true;
  if (events_) events_->discard();
  if (trace_) trace_->discard();
  for (auto& t : tables_) {
    if (t.writer) t.writer->discard();
  }
}

size_t Recorder::next_typed_slot() {
  static std::atomic<size_t> next{0};
  return next.fetch_add(1);
}

void Recorder::keep_listener_error() noexcept {
  if (!listener_error_) listener_error_ = std::current_exception();
}

void Recorder::rethrow_listener_error() {
  if (listener_error_) {
    auto e = std::exchange(listener_error_, nullptr);
    std::rethrow_exception(e);
  }
}

void Recorder::check_open(const char* what) const {
  if (finished_) throw std::logic_error(fmt::format("Recorder::{} after finish()", what));
  if (abandoned_) throw std::logic_error(fmt::format("Recorder::{} after abandon()", what));
}

TableId Recorder::table(std::string name, std::vector<std::string> columns) {
  check_open("table");
  if (!valid_table_name(name)) {
    throw std::invalid_argument(fmt::format(
        "table name \"{}\": expected letters, digits, '_', '-' or '.', not starting with '.'", name));
  }
  if (find_table(name)) throw std::invalid_argument(fmt::format("table \"{}\" declared twice", name));
  if (tables_.size() >= UINT32_MAX - 1) throw std::length_error("too many tables");
  Table t;
  t.name = std::move(name);
  if (!options_.directory.empty() && (!options_.write_table || options_.write_table(t.name))) {
    t.writer = std::make_unique<CsvWriter>(options_.directory / (t.name + ".csv"), columns);
  } else if (columns.empty()) {
    throw std::invalid_argument(fmt::format("table \"{}\" declares no columns", t.name));
  } else {
    std::vector<std::string> sorted = columns;
    std::sort(sorted.begin(), sorted.end());
    auto dup = std::adjacent_find(sorted.begin(), sorted.end());
    if (dup != sorted.end()) {
      throw std::invalid_argument(fmt::format("table \"{}\" declares column \"{}\" twice", t.name, *dup));
    }
  }
  t.columns = std::move(columns);
  tables_.push_back(std::move(t));
  return TableId{static_cast<uint32_t>(tables_.size() - 1)};
}

const Recorder::Table& Recorder::table_at(TableId id) const {
  if (id.index >= tables_.size()) throw std::out_of_range("Recorder: unknown TableId");
  return tables_[id.index];
}

void Recorder::write_row(TableId id, std::span<const CellView> cells) {
  check_open("row");
  (void)table_at(id);  // range check
  Table& t = tables_[id.index];
  if (cells.size() != t.columns.size()) {
    throw std::invalid_argument(fmt::format("row for table \"{}\" has {} fields, the table has {} columns", t.name,
                                            cells.size(), t.columns.size()));
  }
  rethrow_listener_error();
  on_row.emit(id, cells);
  if (t.writer) t.writer->write_row(cells);
  if (keep_) {
    std::vector<Cell> r;
    r.reserve(cells.size());
    for (const auto& c : cells) r.push_back(to_cell(c));
    t.memory_rows.push_back(std::move(r));
  }
}

Recorder::EventBuilder Recorder::event(SimTime t, std::string_view kind) {
  check_open("event");
  if (event_open_) throw std::logic_error("Recorder::event while another event builder is alive");
  rethrow_listener_error();
  tap_size_ = 0;
  tap_time_ = t;
  open_written_ = events_ && writes_kind(kind);
  open_text_ = open_written_ || keep_;
  std::string& out = open_written_ ? events_->begin_line() : (scratch_.clear(), scratch_);
  event_open_ = true;
  open_kind_.assign(kind);
  if (keep_) memory_events_.push_back(RecordedEvent{t, open_kind_, {}, {}});
  return EventBuilder(*this, out, t, open_text_);
}

bool Recorder::writes_kind(std::string_view kind) {
  if (!options_.write_event) return true;
  auto it = kind_written_.find(kind);
  if (it == kind_written_.end()) it = kind_written_.emplace(std::string(kind), options_.write_event(kind)).first;
  return it->second;
}

void Recorder::close_event(JsonObjectWriter& obj) noexcept {
  obj.close();
  if (keep_) {
    memory_events_.back().json = open_written_ ? std::string(events_->current_line()) : scratch_;
  }
  if (open_written_) events_->end_line();
  auto it = event_counts_.find(open_kind_);
  if (it == event_counts_.end()) {
    event_counts_.emplace(open_kind_, 1);
  } else {
    ++it->second;
  }
  ++events_published_;
  event_open_ = false;
}

// Called from the builder's destructor, which must not throw: a listener's exception waits in
// listener_error_ for the next call into the recorder.
void Recorder::publish_event() noexcept {
  if (on_event.empty()) return;
  try {
    const PublishedEvent ev{tap_time_, open_kind_,
                            std::span<const std::pair<std::string, Cell>>(tap_fields_.data(), tap_size_)};
    on_event.emit(ev);
  } catch (...) {
    if (!listener_error_) listener_error_ = std::current_exception();
  }
}

void Recorder::abort_event() noexcept {
  if (open_written_) events_->discard_line();
  if (keep_ && !memory_events_.empty()) memory_events_.pop_back();
  event_open_ = false;
}

Recorder::EventBuilder::EventBuilder(Recorder& rec, std::string& out, SimTime t, bool text)
    : rec_(&rec), obj_(out), text_(text), uncaught_at_start_(std::uncaught_exceptions()) {
  if (!text_) return;
  // The fixed head of every line; field() appends the caller's fields after it. The time text is
  // appended into a reused buffer (no string per line) and needs no escaping: digits, '.', units.
  std::string& time = rec.time_text_;
  time.assign(1, '"');
  append_duration(time, t.since_epoch());
  time += '"';
  obj_.field("time_ns", t.ticks()).field_raw("time", time).field("kind", rec.open_kind_);
}

Recorder::EventBuilder::~EventBuilder() {
  if (std::uncaught_exceptions() > uncaught_at_start_) {
    rec_->abort_event();
  } else {
    rec_->publish_event();  // before close_event: open_kind_ is still this event's
    rec_->close_event(obj_);
  }
}

Recorder::EventBuilder& Recorder::EventBuilder::field(std::string_view key, CellView value) {
  if (text_) {
    switch (value.type()) {
      case CellView::Type::Null: obj_.field_null(key); break;
      case CellView::Type::Bool: obj_.field(key, value.as_bool()); break;
      case CellView::Type::Int: obj_.field(key, value.as_int()); break;
      case CellView::Type::Double: obj_.field(key, value.as_double()); break;
      case CellView::Type::String: obj_.field(key, value.as_string()); break;
    }
  }
  if (rec_->keep_) rec_->memory_events_.back().fields.emplace_back(std::string(key), to_cell(value));
  if (!rec_->on_event.empty()) {
    auto& tap = rec_->tap_fields_;
    if (rec_->tap_size_ == tap.size()) tap.emplace_back();
    auto& [k, v] = tap[rec_->tap_size_++];
    k.assign(key);
    if (value.type() == CellView::Type::String && std::holds_alternative<std::string>(v)) {
      std::get<std::string>(v).assign(value.as_string());  // reuses the string's capacity
    } else {
      v = to_cell(value);
    }
  }
  return *this;
}

const std::vector<std::string>& Recorder::columns(TableId id) const { return table_at(id).columns; }
const std::string& Recorder::table_name(TableId id) const { return table_at(id).name; }

std::optional<TableId> Recorder::find_table(std::string_view name) const {
  for (size_t i = 0; i < tables_.size(); ++i) {
    if (tables_[i].name == name) return TableId{static_cast<uint32_t>(i)};
  }
  return std::nullopt;
}

const std::vector<std::vector<Cell>>& Recorder::rows(TableId id) const { return table_at(id).memory_rows; }

size_t Recorder::column_index(TableId id, std::string_view column) const {
  const auto& cols = table_at(id).columns;
  auto it = std::find(cols.begin(), cols.end(), column);
  if (it == cols.end()) {
    throw std::out_of_range(fmt::format("table \"{}\" has no column \"{}\"", table_at(id).name, column));
  }
  return static_cast<size_t>(it - cols.begin());
}

uint64_t Recorder::event_count(std::string_view kind) const {
  auto it = event_counts_.find(kind);
  return it == event_counts_.end() ? 0 : it->second;
}

std::string Recorder::summary_text(const RunInfo& info) const {
  if (!summary_.is_object()) throw std::logic_error("Recorder::summary() must be a JSON object");
  for (auto key : kReservedSummaryKeys) {
    if (summary_.contains(key)) {
      throw std::logic_error(fmt::format("summary key \"{}\" is reserved for the run information", key));
    }
  }
  nlohmann::json out = summary_;
  out["complete"] = info.complete;
  out["simulated_until"] = format_duration(info.simulated_until.since_epoch());
  out["simulated_until_ns"] = info.simulated_until.ticks();
  out["events_executed"] = info.events_executed;
  out["fingerprint"] = fmt::format("{:016x}", info.fingerprint);
  out["seed"] = info.seed;
  out["scenario_hash"] = info.scenario_hash;
  out["version"] = info.version;
  if (!info.stop_reason.empty()) out["stop_reason"] = info.stop_reason;
  nlohmann::json counts = nlohmann::json::object();
  for (const auto& [kind, n] : event_counts_) counts[kind] = n;
  out["events_published"] = std::move(counts);
  // error_handler::replace: a model's invalid UTF-8 becomes U+FFFD instead of an exception at the end.
  return out.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

void Recorder::finish(const RunInfo& info) { finish(info, {}); }

std::vector<std::string> Recorder::file_names() const {
  std::vector<std::string> names;
  if (options_.directory.empty()) return names;
  for (const auto& t : tables_)
    if (t.writer) names.push_back(t.name + ".csv");
  if (events_) names.emplace_back("events.jsonl");
  if (trace_) names.emplace_back("trace.json");
  names.emplace_back("summary.json");
  return names;
}

void Recorder::finish(const RunInfo& info, const std::function<void(const std::string&)>& before_summary) {
  check_open("finish");
  if (event_open_) throw std::logic_error("Recorder::finish while an event builder is alive");
  rethrow_listener_error();
  std::string text = summary_text(info);
  if (trace_) {
    nlohmann::json other = trace_metadata_;
    other["seed"] = info.seed;
    other["scenario_hash"] = info.scenario_hash;
    other["version"] = info.version;
    other["complete"] = info.complete;
    other["simulated_until"] = format_duration(info.simulated_until.since_epoch());
    trace_->finish(info.simulated_until, other.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  }
  if (events_) events_->commit();
  for (auto& t : tables_) {
    if (t.writer) t.writer->commit();
  }
  if (trace_) trace_->commit();
  if (before_summary) before_summary(text);
  // Last: its presence says every other file is complete.
  if (!options_.directory.empty()) write_file_atomically(options_.directory / "summary.json", text);
  final_summary_ = std::move(text);
  finished_ = true;
}

}  // namespace fleetsim
