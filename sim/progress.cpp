// SPDX-License-Identifier: Apache-2.0
#include "sim/progress.hpp"

#include "sim/engine.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <unistd.h>

namespace fleetsim {

std::string format_count(double n) {
  if (!std::isfinite(n)) return "?";
  if (n < 0) return "-" + format_count(-n);
  static constexpr std::array<const char*, 6> suffix = {"", "k", "M", "G", "T", "P"};
  size_t unit = 0;
  double v = n;
  // Move up a unit while the rounded value would print as 1000 or more.
  while (unit + 1 < suffix.size() && v >= 999.5) {
    v /= 1000.0;
    ++unit;
  }
  if (unit == 0) return fmt::format("{:.0f}", v);
  if (v < 99.95) return fmt::format("{:.1f}{}", v, suffix[unit]);
  return fmt::format("{:.0f}{}", v, suffix[unit]);
}

std::string format_sim_clock(Duration d) {
  int64_t ns = d.ticks();
  if (ns < 0) {
    if (ns == INT64_MIN) return "-" + format_duration(Duration::max());
    return "-" + format_sim_clock(Duration::ns(-ns));
  }
  constexpr int64_t kUs = 1'000, kMs = 1'000'000, kS = 1'000'000'000;
  constexpr int64_t kMin = 60 * kS, kH = 60 * kMin, kD = 24 * kH;
  if (ns < kUs) return fmt::format("{}ns", ns);
  if (ns < kMs) return fmt::format("{}us", ns / kUs);
  if (ns < kS) return fmt::format("{}ms", ns / kMs);
  if (ns < 10 * kS) return fmt::format("{}.{}s", ns / kS, ns % kS / (kS / 10));
  if (ns < kMin) return fmt::format("{}s", ns / kS);
  if (ns < kH) return fmt::format("{}m{:02}s", ns / kMin, ns % kMin / kS);
  if (ns < kD) return fmt::format("{}h{:02}m{:02}s", ns / kH, ns % kH / kMin, ns % kMin / kS);
  return fmt::format("{}d{:02}h{:02}m", ns / kD, ns % kD / kH, ns % kH / kMin);
}

std::string format_wall_seconds(double s) {
  if (!std::isfinite(s) || s < 0) return "?";
  if (s < 9.95) return fmt::format("{:.1f}s", s);
  const auto whole = static_cast<int64_t>(std::min(s, 9.0e15));
  if (whole < 60) return fmt::format("{}s", whole);
  if (whole < 3600) return fmt::format("{}m{:02}s", whole / 60, whole % 60);
  return fmt::format("{}h{:02}m", whole / 3600, whole % 3600 / 60);
}

std::string format_progress_line(const ProgressSnapshot& s) {
  std::string line = "[fleetsim] t=" + format_sim_clock(s.now - s.start);
  std::optional<double> frac;
  if (s.horizon != SimTime::max() && s.horizon > s.start) {
    const double span = static_cast<double>(s.horizon.ticks()) - static_cast<double>(s.start.ticks());
    const double done = static_cast<double>(s.now.ticks()) - static_cast<double>(s.start.ticks());
    frac = std::clamp(done / span, 0.0, 1.0);
    line += fmt::format(" ({:.1f}% of {})", *frac * 100.0, format_duration(s.horizon - s.start));
  }
  line += fmt::format(" events={} ev/s={} elapsed={}", format_count(static_cast<double>(s.events)),
                      format_count(s.events_per_s), format_wall_seconds(s.elapsed_s));
  if (frac && *frac > 0.0 && s.elapsed_s > 0.0) {
    line += " eta=" + format_wall_seconds(s.elapsed_s * (1.0 - *frac) / *frac);
  }
  return line;
}

namespace {
int64_t steady_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}
}  // namespace

Progress::Progress(ProgressMode mode, SimTime start, SimTime horizon, std::FILE* out, std::optional<bool> is_tty)
    : mode_(mode), start_(start), horizon_(horizon), out_(out != nullptr ? out : stderr) {
  tty_ = is_tty.value_or(::isatty(::fileno(out_)) == 1);
  switch (mode_) {
    case ProgressMode::Never: interval_s_ = 0.0; break;
    case ProgressMode::Auto: interval_s_ = tty_ ? 1.0 : 0.0; break;
    case ProgressMode::Always: interval_s_ = tty_ ? 1.0 : 10.0; break;
  }
  start_ns_ = steady_ns();
}

Progress::~Progress() {
  if (drawn_) {
    std::fputc('\n', out_);
    std::fflush(out_);
  }
}

double Progress::wall_now() const { return static_cast<double>(steady_ns() - start_ns_) * 1e-9; }

void Progress::attach(Engine& engine, uint64_t every_events) {
  if (!active()) return;
  Engine* eng = &engine;
  engine.set_periodic_hook(every_events, [this, eng] { poll(eng->now(), eng->events_executed()); });
}

void Progress::poll(SimTime now, uint64_t events) {
  if (!active() || finished_) return;
  update(now, events, wall_now());
}

void Progress::update(SimTime now, uint64_t events, double wall_s) {
  if (!active() || finished_) return;
  const double since = wall_s - last_print_s_;
  if (since < interval_s_) return;
  const double rate = static_cast<double>(events - std::min(events, last_events_)) / since;
  draw(now, events, wall_s, rate);
  last_print_s_ = wall_s;
  last_events_ = events;
}

void Progress::draw(SimTime now, uint64_t events, double wall_s, double rate) {
  ProgressSnapshot s{now, start_, horizon_, events, rate, wall_s};
  std::string line = format_progress_line(s);
  if (tty_) {
    const size_t width = line.size();
    // Blank what is left of a longer previous line instead of using terminal escapes.
    if (width < last_width_) line.append(last_width_ - width, ' ');
    last_width_ = width;
    std::fputc('\r', out_);
    std::fwrite(line.data(), 1, line.size(), out_);
    drawn_ = true;
  } else {
    line += '\n';
    std::fwrite(line.data(), 1, line.size(), out_);
  }
  std::fflush(out_);
  printed_ = true;
}

void Progress::clear() {
  if (!drawn_) return;
  std::string blank(last_width_ + 2, ' ');
  blank.front() = '\r';
  blank.back() = '\r';
  std::fwrite(blank.data(), 1, blank.size(), out_);
  std::fflush(out_);
  drawn_ = false;
  last_width_ = 0;
}

void Progress::finish(SimTime now, uint64_t events) { finish(now, events, wall_now()); }

void Progress::finish(SimTime now, uint64_t events, double wall_s) {
  if (finished_) return;
  finished_ = true;
  if (!active()) return;
  const bool plain_always = !tty_ && mode_ == ProgressMode::Always;
  if (!printed_ && !plain_always) return;
  const double rate = wall_s > 0.0 ? static_cast<double>(events) / wall_s : 0.0;
  draw(now, events, wall_s, rate);
  if (drawn_) {
    std::fputc('\n', out_);
    std::fflush(out_);
    drawn_ = false;
  }
}

}  // namespace fleetsim
