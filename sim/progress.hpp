// SPDX-License-Identifier: Apache-2.0
// The progress line on stderr while a run goes:
//
//   [fleetsim] t=3h12m05s (10.7% of 30d) events=18.4M ev/s=2.1M elapsed=4.7s eta=39s
//
//   Progress progress(ProgressMode::Auto, SimTime::zero(), horizon);
//   progress.attach(engine);             // Engine::set_periodic_hook, every 65536 events
//   engine.run(horizon);
//   progress.finish(engine.now(), engine.events_executed());   // last line + newline, if any was drawn
//
// Modes (the CLI's --progress auto|always|never, --quiet maps to never):
//   Auto    stderr is a terminal: one line redrawn in place with '\r' about once per wall second;
//           otherwise silent (logs and CI output stay clean);
//   Always  as Auto on a terminal; otherwise a plain line every ~10 wall seconds, and a last one;
//   Never   nothing.
// The engine calls the hook every N events; only then is the steady clock read, and a line is printed
// only when the interval has passed, so the cost per event is one counter check inside the engine.
// format_progress_line() is a pure function, so the format is tested without a terminal or a clock.
// ev/s is the rate over the last interval; eta extrapolates simulated time per wall second since the
// start. The line carries nothing a parser should rely on beyond "t=", "events=" and their units.
#pragma once

#include "sim/time.hpp"

#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>

namespace fleetsim {

class Engine;

enum class ProgressMode { Auto, Always, Never };

/// What one line shows.
struct ProgressSnapshot {
  SimTime now;                    // simulated time reached
  SimTime start;                  // where the run started (usually zero)
  SimTime horizon = SimTime::max();  // where it stops; SimTime::max(): no horizon, no % and no eta
  uint64_t events = 0;            // events executed so far
  double events_per_s = 0.0;      // recent wall-clock rate
  double elapsed_s = 0.0;         // wall seconds since the start
};

/// "[fleetsim] t=3h12m05s (10.7% of 30d) events=18.4M ev/s=2.1M elapsed=4.7s eta=39s". Without a
/// horizon the "(..% of ..)" and "eta=" parts are left out; eta is left out until time has advanced.
std::string format_progress_line(const ProgressSnapshot& s);
/// A count with a k/M/G/T suffix and 3 significant figures: 950, 12.3k, 18.4M, 123M, 1.5G.
std::string format_count(double n);
/// A simulated clock reading, truncated for display: 250us, 12ms, 45s, 12m05s, 3h12m05s, 12d03h12m.
std::string format_sim_clock(Duration d);
/// Wall seconds for humans: 0.4s, 4.7s, 39s, 2m05s, 1h02m.
std::string format_wall_seconds(double s);

class Progress {
 public:
  /// out defaults to stderr; is_tty defaults to isatty(fileno(out)). Tests pass a memory stream.
  Progress(ProgressMode mode, SimTime start, SimTime horizon, std::FILE* out = nullptr,
           std::optional<bool> is_tty = std::nullopt);
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;
  /// Ends a drawn line with a newline (without a final line): call finish() for the last figures.
  ~Progress();

  /// True when this mode on this stream prints anything at all.
  bool active() const { return interval_s_ > 0.0; }
  /// Installs the engine's periodic hook (only when active()). The engine must outlive the run.
  void attach(Engine& engine, uint64_t every_events = 65536);
  /// Reads the steady clock and prints if the interval has passed.
  void poll(SimTime now, uint64_t events);
  /// As poll() with the wall time given (seconds since construction): the testable core.
  void update(SimTime now, uint64_t events, double wall_s);
  /// Prints the final figures (if anything was printed before, or always in plain Always mode)
  /// and ends the line. Idempotent.
  void finish(SimTime now, uint64_t events);
  void finish(SimTime now, uint64_t events, double wall_s);
  /// Blanks a line drawn in place so a warning can be printed on a clean line; the next interval
  /// draws it again. Call before writing anything else to the same stream.
  void clear();

 private:
  double wall_now() const;
  void draw(SimTime now, uint64_t events, double wall_s, double rate);

  ProgressMode mode_;
  SimTime start_;
  SimTime horizon_;
  std::FILE* out_;
  bool tty_ = false;
  double interval_s_ = 0.0;  // 0: inactive
  int64_t start_ns_ = 0;     // steady_clock at construction
  double last_print_s_ = 0.0;
  uint64_t last_events_ = 0;
  size_t last_width_ = 0;    // of the line drawn in place, to blank leftovers
  bool drawn_ = false;       // a line is on the terminal without its newline
  bool printed_ = false;
  bool finished_ = false;
};

}  // namespace fleetsim
