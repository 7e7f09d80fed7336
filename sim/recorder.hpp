// SPDX-License-Identifier: Apache-2.0
// The recorder: what models publish to. Models never open files; the recorder owns the writers.
//
//   Recorder rec(RecorderOptions{.directory = "out/run1"});           // or Recorder rec; (in memory)
//   TableId util = rec.table("utilization", {"time_ns", "region", "metric", "value"});
//   rec.row(util, eng.now(), "us-east-1", "gpu_busy_fraction", 0.93);  // one line of utilization.csv
//   rec.event(eng.now(), "failure").field("path", "us-east-1/az1/dc1/rack3").field("repair_ns", Duration::hours(15));
//   rec.summary()["gpu_hours"] = 1234.5;                               // headline figures
// Models publish typed records instead (sim/record.hpp): one description per record names its table
// or event kind and its fields, and the writers here make the header, the row, the line and the
// summary object from it; listeners get the struct (events_of<R>, rows_of<R>):
//   auto t = rec.table<Sample>();  rec.row(t, Sample{.time = now, ...});   // <Sample::table>.csv
//   rec.publish(now, Done{.job = j, ...});  rec.summarize(Totals{...});      // events.jsonl, summary.json
//   rec.finish(RunInfo{.complete = true, .simulated_until = eng.now(), ...});
//
// What it writes into the directory (docs/outputs.md has the details):
//   <table>.csv    one per table(): header + rows (sim/csv_writer.hpp: RFC 4180, LF, shortest doubles);
//   events.jsonl   one object per event(): {"time_ns":..,"time":"3h12m","kind":"failure",<fields>...};
//   summary.json   summary() plus the run fields of RunInfo, keys sorted, 2-space indent, LF at the end.
// Everything is written to temporaries and renamed into place only by finish(), summary.json last, so
// summary.json existing means every other file is complete. If the recorder is destroyed without
// finish() (an exception unwound the run) every temporary is removed and no final file appears.
// An interrupted run (SIGINT, a wall-clock limit) still calls finish() with complete = false: at any
// event boundary the files are valid, they just end earlier.
//
// summary.json holds nothing machine-dependent (no wall time, no paths, no host), so two runs of the
// same scenario and seed produce byte-identical files; manifest.json (written by the CLI) holds those.
//
// In-memory mode, for tests: with no directory (or keep_in_memory), rows and events are also kept in
// memory and can be read back with rows(), events(), event_count() without parsing files.
//
// The directory must exist (the CLI creates it after its overwrite checks). Not thread-safe: one
// recorder per simulation, used from the engine's thread.
//
// trace.json (sim/trace_writer.hpp, STYLE.md 2.3) is one more writer owned here: opened in the
// constructor when RecorderOptions::trace is set, fed by whoever listens to on_event / on_row (the
// recorder itself knows nothing of what a trace should show), finished and committed in finish()
// before summary.json. A listener that throws from on_event (say, the trace's disk filled up) does
// not unwind the model that published: the error is kept and rethrown by the next call into the
// recorder, at the latest by finish().
#pragma once

#include "sim/csv_writer.hpp"
#include "sim/jsonl_writer.hpp"
#include "sim/record.hpp"
#include "sim/record_json.hpp"
#include "sim/signal.hpp"
#include "sim/time.hpp"
#include "sim/trace_writer.hpp"

#include <nlohmann/json.hpp>

#include <array>
#include <cstdint>
#include <exception>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace fleetsim {

struct RecorderOptions {
  /// Where the files go. Empty: write no files (and keep everything in memory).
  std::filesystem::path directory;
  /// Also keep rows and events in memory when writing files (tests comparing both). Memory grows
  /// with every row and event, so the CLI leaves this off.
  bool keep_in_memory = false;
  /// Without a directory: keep only the summary, dropping rows and events (a search that reads one
  /// figure of each of many runs, `fleetsim plan`, would otherwise hold every run's tables).
  bool summary_only = false;
  /// Write trace.json (in memory without a directory), with this window; see trace().
  bool trace = false;
  TraceWindow trace_window = {};
  /// Which outputs get files (a directory given). Unwritten tables and events still reach on_row and
  /// on_event listeners and still count in summary.json's events_published, so the simulation and its
  /// summary do not depend on them; an unwritten event is not even formatted.
  /// write_events false: no events.jsonl at all. write_event: the kinds that get a line (empty: all).
  /// write_table: the tables that get a <table>.csv (empty: all).
  bool write_events = true;
  std::function<bool(std::string_view kind)> write_event = nullptr;
  std::function<bool(std::string_view table)> write_table = nullptr;
};

/// Refers to a declared table.
struct TableId {
  uint32_t index = UINT32_MAX;
  bool valid() const { return index != UINT32_MAX; }
  friend bool operator==(TableId, TableId) = default;
};

/// Refers to a table declared from a record type (Recorder::table<R>): its rows are R's.
template <class R>
struct TableOf {
  TableId id;
  bool valid() const { return id.valid(); }
};

namespace record_detail {
template <class T>
CellView cell(const T& v) {
  return CellView(v);
}
template <class T>
CellView cell(const Nullable<T>& v) {
  return v.has ? CellView(v.value) : CellView::null();
}
}  // namespace record_detail

/// An owned cell value as kept in memory: null, bool, integer, double or text.
using Cell = std::variant<std::monostate, bool, int64_t, double, std::string>;
Cell to_cell(const CellView& v);

/// One published event as kept in memory.
struct RecordedEvent {
  SimTime time;
  std::string kind;
  std::vector<std::pair<std::string, Cell>> fields;  // in publication order, without time/kind
  std::string json;                                  // the exact line of events.jsonl (no LF)
  /// The value of a field, or nullptr if the event has none of that name.
  const Cell* find(std::string_view key) const;
};

/// An event as its listeners see it (Recorder::on_event), valid during the call only.
struct PublishedEvent {
  SimTime time;
  std::string_view kind;
  std::span<const std::pair<std::string, Cell>> fields;  // in publication order, without time/kind
  const Cell* find(std::string_view key) const;
  /// The text of a string field, empty if absent or not text.
  std::string_view text(std::string_view key) const;
  /// A numeric field (integer or double) as double; nullopt if absent or not a number.
  std::optional<double> number(std::string_view key) const;
};

/// What the run reached, for summary.json. Filled in by the CLI from the engine and the scenario.
struct RunInfo {
  bool complete = true;                 // false: interrupted (SIGINT, wall-clock limit, stop)
  SimTime simulated_until;              // the simulated time the run reached
  uint64_t events_executed = 0;         // Engine::events_executed()
  uint64_t fingerprint = 0;             // Engine::fingerprint(), written as 16 hex digits
  uint64_t seed = 0;
  std::string scenario_hash;            // of the resolved scenario, as the loader computes it
  std::string version = FLEETSIM_VERSION;
  std::string stop_reason;              // optional: "horizon", "empty", "interrupted" ...; omitted if empty
};

class Recorder {
 public:
  class EventBuilder;

  explicit Recorder(RecorderOptions options = {});
  /// Removes every temporary if finish() did not complete. Never throws.
  ~Recorder();
  Recorder(const Recorder&) = delete;
  Recorder& operator=(const Recorder&) = delete;

  // ---- tables (CSV time series) ----

  /// Declares `<name>.csv` with these columns (creating its temporary now, so an unwritable directory
  /// fails at the start of a run rather than at the end). Names: letters, digits, '_', '-', '.', not
  /// starting with '.'; unique. Column names unique and non-empty list. Throws std::invalid_argument,
  /// OutputError{Create}.
  TableId table(std::string name, std::vector<std::string> columns);
  /// Appends a row: one cell per column, in order (int64/any integer, double, bool, text, SimTime and
  /// Duration as integer ns, CellView::null()). Throws std::invalid_argument on a wrong field count.
  template <class... Cells>
  void row(TableId id, const Cells&... cells) {
    const std::array<CellView, sizeof...(Cells)> views{CellView(cells)...};
    write_row(id, views);
  }
  void write_row(TableId id, std::span<const CellView> cells);

  /// Declares a table whose columns are record R's fields (sim/record.hpp), named R::table unless a
  /// name is given (a scenario may rename a model's table).
  template <Record R>
  TableOf<R> table() {
    return table<R>(std::string(R::table));
  }
  template <Record R>
  TableOf<R> table(std::string name) {
    assert_record<R>();
    constexpr auto names = field_names<R>();
    return TableOf<R>{table(std::move(name), std::vector<std::string>(names.begin(), names.end()))};
  }
  /// Appends record r as a row of its table, then gives it to rows_of<R>() listeners.
  template <Record R>
  void row(TableOf<R> t, const R& r) {
    std::array<CellView, field_count<R>()> cells;
    size_t i = 0;
    for_each_field<R>([&](const auto& f) { cells[i++] = record_detail::cell(f.get(r)); });
    write_row(t.id, cells);
    if (auto* s = find_typed<Signal<const R&>>(); s && !s->empty()) s->emit(r);
  }
  /// Listeners of every row of record type R (whatever table it goes to).
  template <Record R>
  Signal<const R&>& rows_of() {
    return typed<Signal<const R&>>();
  }

  // ---- events (events.jsonl) ----

  /// Starts an event line {"time_ns":..,"time":"..","kind":"..",...}; add fields on the returned
  /// builder; the line is complete when the builder is destroyed (end of the full expression for a
  /// temporary). One builder at a time (std::logic_error otherwise). If an exception leaves the
  /// builder's scope, the partial event is dropped.
  EventBuilder event(SimTime t, std::string_view kind);

  /// Publishes record r as an event of kind R::kind: its fields in fields() order make the line of
  /// events.jsonl (formatted only when some file or listener takes it, as event() does), on_event
  /// sees it as any event, and events_of<R>() listeners get r itself. No allocation per call.
  template <Record R>
  void publish(SimTime t, const R& r);
  /// Listeners of events of record type R (the struct, not its text), called after on_event's.
  template <Record R>
  Signal<SimTime, const R&>& events_of() {
    return typed<Signal<SimTime, const R&>>();
  }

  // ---- listeners and the trace ----

  /// Every event, once complete. Connecting makes each event copy its fields (only then).
  Signal<const PublishedEvent&> on_event;
  /// Every row, with the table it goes to (cells valid during the call only).
  Signal<TableId, std::span<const CellView>> on_row;
  /// The trace writer, or nullptr when RecorderOptions::trace is off.
  TraceWriter* trace() { return trace_.get(); }
  const TraceWriter* trace() const { return trace_.get(); }
  /// Extra keys for the trace's otherData (besides the run fields finish() adds).
  nlohmann::json& trace_metadata() { return trace_metadata_; }

  // ---- summary ----

  /// The headline figures: an object, keys sorted on output. Keys of RunInfo are reserved.
  nlohmann::json& summary() { return summary_; }
  const nlohmann::json& summary() const { return summary_; }
  /// Sets summary()[R::key] to record s as a JSON object (record_json, sim/record_json.hpp).
  template <Record R>
  void summarize(const R& s) {
    summary_[std::string(R::key)] = record_json(s);
  }
  /// Sets summary()[key] to a value a record may hold (a Keyed<R> of records, a vector ...).
  template <class T>
  void summarize(std::string_view key, const T& value) {
    summary_[std::string(key)] = record_detail::json_value(value);
  }
  /// The exact text finish() would write as summary.json. Throws std::logic_error if summary() is not
  /// an object or uses a reserved key.
  std::string summary_text(const RunInfo& info) const;

  /// Renames every file into place, writes summary.json last. Call once; afterwards the recorder
  /// accepts nothing more. Throws OutputError (files committed before the failure stay, summary.json
  /// does not appear), std::logic_error as summary_text().
  void finish(const RunInfo& info);
  /// The same, calling `before_summary(summary text)` after every other file is in place and before
  /// summary.json: a caller's own file (report.html) then also appears before summary.json. What it
  /// throws propagates, and summary.json does not appear.
  void finish(const RunInfo& info, const std::function<void(const std::string&)>& before_summary);
  /// Names of the files this recorder writes into its directory (tables, events.jsonl, trace.json,
  /// summary.json), for the manifest: `fleetsim run --force` removes only what a run listed.
  std::vector<std::string> file_names() const;
  bool finished() const { return finished_; }
  /// Removes every temporary; the recorder accepts nothing more. What the destructor does.
  void abandon() noexcept;

  // ---- reading back (in-memory mode) ----

  bool writes_files() const { return !options_.directory.empty(); }
  bool keeps_in_memory() const { return keep_; }
  const std::vector<std::string>& columns(TableId id) const;
  const std::string& table_name(TableId id) const;
  std::optional<TableId> find_table(std::string_view name) const;
  /// Rows published to a table (empty unless keeps_in_memory()).
  const std::vector<std::vector<Cell>>& rows(TableId id) const;
  /// Index of a column by name; throws std::out_of_range if absent.
  size_t column_index(TableId id, std::string_view column) const;
  /// Events published (empty unless keeps_in_memory()).
  const std::vector<RecordedEvent>& events() const { return memory_events_; }
  /// Events published per kind (always counted, in any mode), sorted by kind.
  const std::map<std::string, uint64_t, std::less<>>& event_counts() const { return event_counts_; }
  uint64_t event_count(std::string_view kind) const;
  uint64_t events_published() const { return events_published_; }
  /// summary.json's text as written by finish() (also in memory-only mode), empty before.
  const std::string& final_summary() const { return final_summary_; }

 private:
  // Typed listeners (events_of, rows_of): one signal per record type, found by a slot number given to
  // each signal type on first use (process-wide), so publishing looks up a vector, not a map.
  struct AnySignal {
    virtual ~AnySignal() = default;
  };
  template <class S>
  struct SignalBox : AnySignal {
    S signal;
  };
  static size_t next_typed_slot();
  template <class S>
  static size_t typed_slot() {
    static const size_t slot = next_typed_slot();
    return slot;
  }
  template <class S>
  S* find_typed() {
    const size_t i = typed_slot<S>();
    if (i >= typed_.size() || !typed_[i]) return nullptr;
    return &static_cast<SignalBox<S>&>(*typed_[i]).signal;
  }
  template <class S>
  S& typed() {
    const size_t i = typed_slot<S>();
    if (i >= typed_.size()) typed_.resize(i + 1);
    if (!typed_[i]) typed_[i] = std::make_unique<SignalBox<S>>();
    return static_cast<SignalBox<S>&>(*typed_[i]).signal;
  }
  void keep_listener_error() noexcept;

  struct Table {
    std::string name;
    std::vector<std::string> columns;
    std::unique_ptr<CsvWriter> writer;         // null without a directory
    std::vector<std::vector<Cell>> memory_rows;
  };
  const Table& table_at(TableId id) const;
  void check_open(const char* what) const;
  void close_event(JsonObjectWriter& obj) noexcept;
  void abort_event() noexcept;
  void publish_event() noexcept;
  bool writes_kind(std::string_view kind);
  void rethrow_listener_error();

  RecorderOptions options_;
  bool keep_ = false;
  bool finished_ = false;
  bool abandoned_ = false;
  bool event_open_ = false;
  std::vector<Table> tables_;
  std::unique_ptr<JsonlWriter> events_;
  std::string scratch_;                           // event line when no events file
  std::vector<RecordedEvent> memory_events_;
  std::map<std::string, uint64_t, std::less<>> event_counts_;
  std::string open_kind_;                         // kind of the event being built
  bool open_written_ = false;                     // the event being built goes to events.jsonl
  bool open_text_ = false;                        // ... or its text is needed anyway (kept in memory)
  std::map<std::string, bool, std::less<>> kind_written_;  // write_event's answer per kind, asked once
  std::string time_text_;                         // the "time" field's JSON text, reused per line
  uint64_t events_published_ = 0;
  nlohmann::json summary_ = nlohmann::json::object();
  std::string final_summary_;
  std::unique_ptr<TraceWriter> trace_;
  nlohmann::json trace_metadata_ = nlohmann::json::object();
  // The event being built, for on_event: entries beyond tap_size_ are kept for their capacity.
  std::vector<std::pair<std::string, Cell>> tap_fields_;
  size_t tap_size_ = 0;
  SimTime tap_time_;
  std::exception_ptr listener_error_;
  std::vector<std::unique_ptr<AnySignal>> typed_;
};

/// Adds fields to an event line; see Recorder::event. Keys are written in call order after time_ns,
/// time and kind, which are reserved; keys must be distinct (not checked). Values as for table cells;
/// integers above INT64_MAX throw std::out_of_range; NaN and infinities are written as null.
class Recorder::EventBuilder {
 public:
  EventBuilder(const EventBuilder&) = delete;
  EventBuilder& operator=(const EventBuilder&) = delete;
  ~EventBuilder();
  EventBuilder& field(std::string_view key, CellView value);

 private:
  friend class Recorder;
  EventBuilder(Recorder& rec, std::string& out, SimTime t, bool text);
  Recorder* rec_;
  JsonObjectWriter obj_;
  bool text_;  // false: the line is written nowhere, so fields are not formatted
  int uncaught_at_start_;
};

template <Record R>
void Recorder::publish(SimTime t, const R& r) {
  assert_record<R>();
  {
    EventBuilder b = event(t, R::kind);
    for_each_field<R>([&](const auto& f) { b.field(f.name, record_detail::cell(f.get(r))); });
  }
  if (auto* s = find_typed<Signal<SimTime, const R&>>(); s && !s->empty()) {
    // As for on_event: a listener's exception does not unwind the publishing model.
    try {
      s->emit(t, r);
    } catch (...) {
      keep_listener_error();
    }
  }
}

}  // namespace fleetsim
