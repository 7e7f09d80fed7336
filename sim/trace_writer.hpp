// SPDX-License-Identifier: Apache-2.0
// A Chrome trace-event JSON writer (the format ui.perfetto.dev and chrome://tracing open), streamed to
// an atomically committed file or kept in memory. It knows processes, tracks, slices, instants and
// counters; what they mean is the caller's business (tools/run/trace_translator.hpp).
//
//   TraceWriter w("out/trace.json", TraceWindow{});            // or TraceWriter w(TraceWindow{}); in memory
//   uint32_t pid = w.process("region us-east-1", 10);
//   TrackId t = w.track(pid, "outages");
//   w.begin(t, at(3h), "outage: launch", "outage");             // slices on one track nest (a stack)
//   w.end(t, at(5h));
//   w.instant(t, at(4h), "gpu failure", "failure", R"({"path":"..."})");
//   CounterId c = w.counter_track(pid, "H100 GPUs");
//   w.counter(c, at(1h), {{"usable", 1020.0}, {"failed", 4.0}});
//   w.finish(at(31d), R"({"scenario":"quickstart"})");          // closes open slices, writes the footer
//   w.commit();
//
// Format (Trace Event Format; Perfetto docs "other formats"): {"traceEvents":[...],"displayTimeUnit":"ns",
// "otherData":{...}}. ts and dur are whole microseconds (ts 3600000000 is 1 h), rounded from integer ns
// so that they survive a reader that parses them as doubles: a slice's dur is its rounded end minus its
// rounded start, so slices that touch or nest in ns still touch or nest after rounding. Slices are "X" events written when they end, so every slice on a track is
// either inside or after the one before: a track is a stack, and a stack nests perfectly (Perfetto
// draws overlapping X slices on one track badly: google/perfetto#4280). Instants are "i" with thread
// scope, counters "C" (process-local, each key one series), names "M" metadata.
//
// Window: only what overlaps [from, to] is written; slices are clipped to it (clipping keeps nesting),
// instants and counters outside are dropped, and a counter's last value before `from` is written at
// `from` so its series starts right. Counters: a sample equal to the last one written is dropped (so
// hourly samples of a steady value cost nothing), and samples closer than min_counter_interval to the
// last written one are held back; the latest held sample is written when the next may be, or at
// finish(). A change is thus written at most min_counter_interval late; shorter blips can be lost.
//
// Time must not go backwards per track (sim time never does). Not thread-safe.
#pragma once

#include "sim/atomic_file.hpp"
#include "sim/time.hpp"

#include <cstdint>
#include <filesystem>
#include <initializer_list>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace fleetsim {

struct TraceWindow {
  SimTime from = SimTime::zero();
  SimTime to = SimTime::max();
  Duration min_counter_interval = Duration::zero();
  bool contains(SimTime t) const { return t >= from && t <= to; }
};

struct TrackId {
  uint32_t index = UINT32_MAX;
  bool valid() const { return index != UINT32_MAX; }
};

struct CounterId {
  uint32_t index = UINT32_MAX;
  bool valid() const { return index != UINT32_MAX; }
};

using CounterValue = std::pair<std::string_view, double>;

class TraceWriter {
 public:
  /// Writes to `<path>.tmp.<pid>`, renamed onto path by commit(). Throws OutputError{Create}.
  TraceWriter(std::filesystem::path path, TraceWindow window);
  /// In memory: text() holds the trace.
  explicit TraceWriter(TraceWindow window);
  ~TraceWriter();
  TraceWriter(const TraceWriter&) = delete;
  TraceWriter& operator=(const TraceWriter&) = delete;

  /// A new process (a group of tracks) with its name and sort position; returns its pid (1, 2, ...).
  uint32_t process(std::string_view name, int sort_index);
  /// A new track (a thread in the format) of a process, sorted in creation order.
  TrackId track(uint32_t pid, std::string_view name);
  /// A counter of a process; every key of counter() is one series of it.
  CounterId counter_track(uint32_t pid, std::string_view name);

  /// Opens a slice inside the innermost open slice of the track. args_json: an object's JSON text or empty.
  void begin(TrackId track, SimTime t, std::string_view name, std::string_view cat, std::string_view args_json = {});
  /// Closes the innermost open slice of the track; nothing if none is open.
  void end(TrackId track, SimTime t);
  /// Closes every open slice of the track.
  void end_all(TrackId track, SimTime t);
  /// end_all, then begin: a track that shows one state at a time.
  void set_state(TrackId track, SimTime t, std::string_view name, std::string_view cat,
                 std::string_view args_json = {});
  size_t open_slices(TrackId track) const;
  /// The name of the innermost open slice, empty if none.
  std::string_view open_slice_name(TrackId track) const;

  void instant(TrackId track, SimTime t, std::string_view name, std::string_view cat,
               std::string_view args_json = {});
  void counter(CounterId id, SimTime t, std::span<const CounterValue> values);
  void counter(CounterId id, SimTime t, std::initializer_list<CounterValue> values) {
    counter(id, t, std::span<const CounterValue>(values.begin(), values.size()));
  }

  /// Closes every open slice at `end`, writes held counter samples and the footer with otherData
  /// (an object's JSON text, or empty for {}). Nothing may be added afterwards.
  void finish(SimTime end, std::string_view other_data_json = {});
  /// Renames the file into place (file mode). Call after finish().
  void commit();
  void discard() noexcept;

  const TraceWindow& window() const { return window_; }
  uint64_t events_written() const { return events_; }
  /// The whole trace in memory mode (after finish(): complete JSON).
  const std::string& text() const { return buffer_; }

 private:
  struct OpenSlice {
    SimTime start;
    std::string name, cat, args;
  };
  struct Track {
    uint32_t pid, tid;
    std::vector<OpenSlice> open;
    size_t depth = 0;  // open.size() in use; entries beyond are kept for their string capacity
  };
  // Values are compared as numbers and formatted only when written: most samples repeat the last.
  struct Counter {
    uint32_t pid;
    std::string name;
    std::vector<std::string> keys;   // the series names of the last sample
    std::vector<double> last;        // values last written
    std::optional<SimTime> last_t;   // when last written (nullopt: never)
    std::vector<double> held;        // a sample held back (min interval or before the window)
    SimTime held_t;
    bool has_held = false;
  };

  void emit_begin(std::string_view ph, uint32_t pid, uint32_t tid, std::string_view name);
  void emit_ts(std::string_view key, int64_t us);
  void emit_end_event();
  void write_slice(const Track& tr, const OpenSlice& s, SimTime end);
  void write_counter(Counter& c, SimTime t, const std::vector<double>& values);
  void maybe_flush();
  void check_open() const;

  std::unique_ptr<AtomicFile> file_;
  TraceWindow window_;
  std::string buffer_;
  std::vector<double> scratch_values_;
  std::vector<Track> tracks_;
  std::vector<Counter> counters_;
  std::vector<uint32_t> next_tid_;  // per pid
  uint64_t events_ = 0;
  bool finished_ = false;
};

}  // namespace fleetsim
