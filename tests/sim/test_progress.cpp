// SPDX-License-Identifier: Apache-2.0
// The progress line: its pure formatting, and the throttling driven with given wall times.
#include "sim/progress.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdio>
#include <string>

using namespace fleetsim;

namespace {

// Captures what a Progress writes, through a real FILE*.
struct Capture {
  std::FILE* f = std::tmpfile();
  ~Capture() { std::fclose(f); }
  std::string text() const {
    std::fflush(f);
    std::string s;
    std::rewind(f);
    char buf[512];
    size_t n = 0;
    while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) s.append(buf, n);
    return s;
  }
};

size_t count(const std::string& s, char c) { return static_cast<size_t>(std::count(s.begin(), s.end(), c)); }

}  // namespace

TEST_CASE("progress: counts scale to k M G with three significant figures", "[output]") {
  CHECK(format_count(0) == "0");
  CHECK(format_count(950) == "950");
  CHECK(format_count(999.4) == "999");
  CHECK(format_count(999.6) == "1.0k");
  CHECK(format_count(12345) == "12.3k");
  CHECK(format_count(99'960) == "100k");
  CHECK(format_count(2.1e6) == "2.1M");
  CHECK(format_count(18'412'345) == "18.4M");
  CHECK(format_count(123e6) == "123M");
  CHECK(format_count(999.7e6) == "1.0G");
  CHECK(format_count(1.5e9) == "1.5G");
  CHECK(format_count(4.2e12) == "4.2T");
}

TEST_CASE("progress: simulated clock readings are truncated to a readable unit", "[output]") {
  CHECK(format_sim_clock(Duration::ns(0)) == "0ns");
  CHECK(format_sim_clock(Duration::ns(250'999)) == "250us");
  CHECK(format_sim_clock(Duration::ms(12)) == "12ms");
  CHECK(format_sim_clock(Duration::ms(4'790)) == "4.7s");
  CHECK(format_sim_clock(Duration::s(45)) == "45s");
  CHECK(format_sim_clock(Duration::s(12 * 60 + 5)) == "12m05s");
  CHECK(format_sim_clock(Duration::hours(3) + Duration::minutes(12) + Duration::s(5) + Duration::ms(900)) ==
        "3h12m05s");
  CHECK(format_sim_clock(Duration::days(12) + Duration::hours(3) + Duration::minutes(12) + Duration::s(59)) ==
        "12d03h12m");
}

TEST_CASE("progress: wall seconds read as s m and h", "[output]") {
  CHECK(format_wall_seconds(0.44) == "0.4s");
  CHECK(format_wall_seconds(4.7) == "4.7s");
  CHECK(format_wall_seconds(39.9) == "39s");
  CHECK(format_wall_seconds(125) == "2m05s");
  CHECK(format_wall_seconds(3720) == "1h02m");
}

TEST_CASE("progress: the line shows time percent events rate elapsed and eta", "[output]") {
  ProgressSnapshot s;
  s.start = SimTime::zero();
  s.horizon = SimTime::zero() + Duration::days(30);
  // 10.7% of 30 days is 3.21 days: 3d05h02m24s.
  s.now = SimTime::zero() + Duration::days(3) + Duration::hours(5) + Duration::minutes(2) + Duration::s(24);
  s.events = 18'400'000;
  s.events_per_s = 2.1e6;
  s.elapsed_s = 4.7;
  // eta = 4.7 s * (1 - 0.107) / 0.107 = 39.2 s
  CHECK(format_progress_line(s) == "[fleetsim] t=3d05h02m (10.7% of 30d) events=18.4M ev/s=2.1M elapsed=4.7s eta=39s");
}

TEST_CASE("progress: without a horizon there is no percent and no eta", "[output]") {
  ProgressSnapshot s;
  s.now = SimTime::zero() + Duration::s(45);
  s.events = 950;
  s.events_per_s = 12'345;
  s.elapsed_s = 12;
  CHECK(format_progress_line(s) == "[fleetsim] t=45s events=950 ev/s=12.3k elapsed=12s");
}

TEST_CASE("progress: time is measured from the start and eta is absent before time advances", "[output]") {
  ProgressSnapshot s;
  s.start = SimTime::zero() + Duration::days(1);
  s.horizon = s.start + Duration::days(2);
  s.now = s.start;
  s.elapsed_s = 0.5;
  CHECK(format_progress_line(s) == "[fleetsim] t=0ns (0.0% of 2d) events=0 ev/s=0 elapsed=0.5s");
  s.now = s.horizon;
  CHECK(format_progress_line(s) == "[fleetsim] t=2d00h00m (100.0% of 2d) events=0 ev/s=0 elapsed=0.5s eta=0.0s");
}

TEST_CASE("progress: plain mode prints a line every 10 wall seconds and a last one", "[output]") {
  Capture cap;
  const SimTime horizon = SimTime::zero() + Duration::hours(10);
  {
    Progress p(ProgressMode::Always, SimTime::zero(), horizon, cap.f, false);
    REQUIRE(p.active());
    p.update(SimTime::zero() + Duration::hours(1), 1000, 5.0);   // too early
    p.update(SimTime::zero() + Duration::hours(2), 2000, 10.0);  // first line
    p.update(SimTime::zero() + Duration::hours(3), 3000, 15.0);  // too early
    p.update(SimTime::zero() + Duration::hours(5), 5000, 20.5);  // second line
    p.finish(horizon, 9000, 30.0);                                // last line
    p.finish(horizon, 9000, 31.0);                                // idempotent
  }
  const std::string out = cap.text();
  CHECK(count(out, '\n') == 3);
  CHECK(count(out, '\r') == 0);
  CHECK(out.find("t=2h00m00s (20.0% of 10h)") != std::string::npos);
  CHECK(out.find("t=5h00m00s (50.0% of 10h)") != std::string::npos);
  // The second line's rate covers the interval since the first: 3000 events in 10.5 s.
  CHECK(out.find("ev/s=286 ") != std::string::npos);
  CHECK(out.find("t=10h00m00s (100.0% of 10h) events=9.0k ev/s=300 elapsed=30s eta=0.0s\n") != std::string::npos);
}

TEST_CASE("progress: terminal mode redraws one line in place and ends it with a newline", "[output]") {
  Capture cap;
  const SimTime horizon = SimTime::zero() + Duration::hours(10);
  {
    Progress p(ProgressMode::Auto, SimTime::zero(), horizon, cap.f, true);
    p.update(SimTime::zero() + Duration::hours(1), 10, 0.5);  // too early
    p.update(SimTime::zero() + Duration::hours(2), 20, 1.0);
    p.update(SimTime::zero() + Duration::hours(3), 30, 2.5);
    p.finish(horizon, 40, 3.0);
  }
  const std::string out = cap.text();
  CHECK(count(out, '\r') == 3);
  CHECK(count(out, '\n') == 1);
  CHECK(out.back() == '\n');
  CHECK(out.find("\r[fleetsim] t=2h00m00s (20.0% of 10h)") == 0);
  CHECK(out.find("\r[fleetsim] t=10h00m00s (100.0% of 10h)") != std::string::npos);
}

TEST_CASE("progress: a shorter redraw blanks the rest of the longer line", "[output]") {
  Capture cap;
  {
    Progress p(ProgressMode::Always, SimTime::zero(), SimTime::max(), cap.f, true);
    p.update(SimTime::zero() + Duration::hours(1), 123'456'789, 1.0);
    p.update(SimTime::zero() + Duration::s(2), 123'456'790, 2.0);
    p.finish(SimTime::zero() + Duration::s(2), 123'456'790, 2.0);
  }
  const std::string out = cap.text();
  const size_t first_end = out.find('\r', 1);
  REQUIRE(first_end != std::string::npos);
  const size_t second_end = out.find('\r', first_end + 1);
  REQUIRE(second_end != std::string::npos);
  CHECK(second_end - first_end == first_end);  // each redraw at least as wide as the first line
}

TEST_CASE("progress: auto mode off a terminal and never mode print nothing", "[output]") {
  for (auto [mode, tty] : {std::pair{ProgressMode::Auto, false}, std::pair{ProgressMode::Never, true},
                           std::pair{ProgressMode::Never, false}}) {
    Capture cap;
    {
      Progress p(mode, SimTime::zero(), SimTime::zero() + Duration::hours(1), cap.f, tty);
      CHECK_FALSE(p.active());
      p.update(SimTime::zero() + Duration::minutes(1), 100, 50.0);
      p.finish(SimTime::zero() + Duration::hours(1), 200, 100.0);
    }
    CHECK(cap.text().empty());
  }
}

TEST_CASE("progress: a run shorter than the interval on a terminal prints nothing", "[output]") {
  Capture cap;
  {
    Progress p(ProgressMode::Auto, SimTime::zero(), SimTime::zero() + Duration::hours(1), cap.f, true);
    p.update(SimTime::zero() + Duration::minutes(1), 100, 0.3);
    p.finish(SimTime::zero() + Duration::hours(1), 200, 0.6);
  }
  CHECK(cap.text().empty());
}

TEST_CASE("progress: clear blanks a drawn line so a warning starts at column 0", "[output]") {
  Capture cap;
  {
    Progress p(ProgressMode::Auto, SimTime::zero(), SimTime::zero() + Duration::hours(1), cap.f, true);
    p.update(SimTime::zero() + Duration::minutes(1), 100, 1.0);
    p.clear();
    std::fputs("warning: x\n", cap.f);
    p.clear();  // nothing drawn: no output
  }
  const std::string out = cap.text();
  const size_t warn = out.find("warning: x\n");
  REQUIRE(warn != std::string::npos);
  CHECK(out[warn - 1] == '\r');
  CHECK(out.substr(warn + 11).empty());  // no newline from the destructor: the line was cleared
  const size_t first_cr_after_line = out.find('\r', 1);
  CHECK(warn - first_cr_after_line - 2 == first_cr_after_line - 1);  // blanks as wide as the line
}
