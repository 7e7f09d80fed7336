// SPDX-License-Identifier: Apache-2.0
// The recorder and its writers: CSV quoting and numbers, JSON escaping, in-memory read-back,
// summary.json contents, atomic commit at finish() and byte-identical reruns.
#include "sim/csv_writer.hpp"
#include "sim/json_out.hpp"
#include "sim/jsonl_writer.hpp"
#include "sim/recorder.hpp"

#include "tests/support/files.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <bit>
#include <charconv>
#include <cmath>
#include <fstream>
#include <limits>
#include <sstream>
#include <unistd.h>

using namespace fleetsim;
using fleetsim::test::read_all;
using TempDir = fleetsim::test::TempDir;
namespace fs = std::filesystem;

namespace {



std::vector<std::string> names_in(const fs::path& dir) {
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(dir)) names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

std::string csv_line(std::initializer_list<CellView> cells) {
  std::string out;
  append_csv_line(out, std::span<const CellView>(cells.begin(), cells.size()));
  return out;
}

std::string json_string(std::string_view s) {
  std::string out;
  append_json_string(out, s);
  return out;
}

SimTime at_hours(int64_t h) { return SimTime::zero() + Duration::hours(h); }

// A small recording that exercises every writer, the same way each time.
void record_sample_run(Recorder& rec) {
  TableId util = rec.table("utilization", {"time_ns", "region", "metric", "value"});
  TableId cost = rec.table("cost", {"time_ns", "component", "usd"});
  for (int h = 0; h < 5; ++h) {
    rec.row(util, at_hours(h), "us-east-1", "gpu_busy_fraction", 0.1 * h);
    rec.row(util, at_hours(h), "eu, west \"1\"", "gpu_busy_fraction", 1.0 / 3.0);
    rec.row(cost, at_hours(h), "energy", 1234.5678 * h);
  }
  rec.event(at_hours(2), "failure").field("path", "us-east-1/az1/dc1/rack3").field("repair_ns", Duration::hours(15));
  rec.event(at_hours(17), "repair").field("path", "us-east-1/az1/dc1/rack3");
  rec.summary()["gpu_hours"] = 1234.5;
  rec.summary()["availability"] = 0.9991;
  rec.summary()["by_region"]["us-east-1"] = 7;
  rec.summary()["by_region"]["ap-south-1"] = 3;
}

RunInfo sample_info() {
  RunInfo info;
  info.complete = true;
  info.simulated_until = SimTime::zero() + Duration::days(54);
  info.events_executed = 123456;
  info.fingerprint = 0x00ab'cdef'0123'4567ull;
  info.seed = 42;
  info.scenario_hash = "sha256:0f1e";
  info.version = "0.1.0";
  info.stop_reason = "horizon";
  return info;
}

}  // namespace

// ---------------------------------------------------------------- CSV

TEST_CASE("csv: plain fields are not quoted", "[output]") {
  CHECK(csv_line({"abc", "us-east-1/az1", "a b", ""}) == "abc,us-east-1/az1,a b,\n");
}

TEST_CASE("csv: fields with comma quote CR or LF are quoted and quotes doubled", "[output]") {
  CHECK(csv_line({"a,b"}) == "\"a,b\"\n");
  CHECK(csv_line({"b\"bb"}) == "\"b\"\"bb\"\n");
  CHECK(csv_line({"two\nlines"}) == "\"two\nlines\"\n");
  CHECK(csv_line({"cr\r"}) == "\"cr\r\"\n");
  CHECK(csv_line({"\"", "x"}) == "\"\"\"\",x\n");
}

TEST_CASE("csv: numbers bools and nulls have one spelling", "[output]") {
  CHECK(csv_line({int64_t{-42}, std::numeric_limits<int64_t>::min(), uint32_t{7}}) ==
        "-42,-9223372036854775808,7\n");
  CHECK(csv_line({1.0, 0.1, 1e20, -0.0, 2.5e-8}) == "1,0.1,1e+20,-0,2.5e-08\n");
  CHECK(csv_line({std::nan(""), std::numeric_limits<double>::infinity(), -std::numeric_limits<double>::infinity()}) ==
        ",inf,-inf\n");
  CHECK(csv_line({true, false, CellView::null()}) == "true,false,\n");
  CHECK(csv_line({SimTime::zero() + Duration::s(3), Duration::us(5)}) == "3000000000,5000\n");
  CHECK_THROWS_AS(CellView(uint64_t{1} << 63), std::out_of_range);
}

TEST_CASE("csv: doubles round-trip exactly", "[output]") {
  const double values[] = {0.1,     1.0 / 3.0, 2.0 / 3.0, 1e-300,  5e-324, 1.7976931348623157e308,
                           123.456, 6.02214076e23, -1e-7, 0.30000000000000004, 9007199254740993.0};
  for (double v : values) {
    std::string text;
    append_double(text, v);
    double back = 0;
    auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), back);
    REQUIRE(ec == std::errc());
    REQUIRE(ptr == text.data() + text.size());
    CHECK(std::bit_cast<uint64_t>(back) == std::bit_cast<uint64_t>(v));
    // Formatting the value read back gives the same bytes.
    std::string again;
    append_double(again, back);
    CHECK(again == text);
  }
}

TEST_CASE("csv: a row with the wrong field count is rejected", "[output]") {
  TempDir dir("recorder");
  CsvWriter w(dir.path / "t.csv", {"a", "b", "c"});
  CHECK_THROWS_AS(w.row(1, 2), std::invalid_argument);
  CHECK_THROWS_AS(w.row(1, 2, 3, 4), std::invalid_argument);
  w.row(1, 2, 3);
  CHECK(w.rows_written() == 1);
}

TEST_CASE("csv: duplicate or missing columns are rejected and leave no file", "[output]") {
  TempDir dir("recorder");
  CHECK_THROWS_AS(CsvWriter(dir.path / "t.csv", {"a", "b", "a"}), std::invalid_argument);
  CHECK_THROWS_AS(CsvWriter(dir.path / "t.csv", {}), std::invalid_argument);
  CHECK(names_in(dir.path).empty());
}

TEST_CASE("csv: the writer streams a header and rows to the committed file", "[output]") {
  TempDir dir("recorder");
  CsvWriter w(dir.path / "t.csv", {"time_ns", "name, quoted", "value"});
  w.row(SimTime::zero(), "x", 0.5);
  w.row(SimTime::zero() + Duration::ns(7), "a\"b", 2);
  CHECK_FALSE(fs::exists(dir.path / "t.csv"));
  w.commit();
  CHECK(read_all(dir.path / "t.csv") == "time_ns,\"name, quoted\",value\n0,x,0.5\n7,\"a\"\"b\",2\n");
}

// ---------------------------------------------------------------- JSON Lines

TEST_CASE("jsonl: strings escape quotes backslashes and control characters", "[output]") {
  CHECK(json_string("plain") == "\"plain\"");
  CHECK(json_string("say \"hi\"") == "\"say \\\"hi\\\"\"");
  CHECK(json_string("C:\\dir") == "\"C:\\\\dir\"");
  CHECK(json_string("a\nb\tc\rd\be\ff") == "\"a\\nb\\tc\\rd\\be\\ff\"");
  CHECK(json_string(std::string_view("\x01\x1f\x00", 3)) == "\"\\u0001\\u001f\\u0000\"");
  CHECK(json_string("/ and \x7f stay") == "\"/ and \x7f stay\"");
}

TEST_CASE("jsonl: UTF-8 passes through unchanged", "[output]") {
  const std::string s = "z\xc3\xbcrich \xe2\x9c\x93 \xf0\x9f\x98\x80";  // zürich ✓ 😀
  CHECK(json_string(s) == "\"" + s + "\"");
  CHECK(nlohmann::json::parse(json_string(s)).get<std::string>() == s);
}

TEST_CASE("jsonl: every escaped string parses back to the original", "[output]") {
  std::string all;
  for (int c = 1; c < 128; ++c) all += static_cast<char>(c);
  all += std::string("\0end", 4);
  CHECK(nlohmann::json::parse(json_string(all)).get<std::string>() == all);
}

TEST_CASE("jsonl: objects keep the caller's key order and write null for non-finite numbers", "[output]") {
  std::string line;
  JsonObjectWriter obj(line);
  obj.field("time_ns", int64_t{5})
      .field("kind", "x")
      .field("a", 0.25)
      .field("nan", std::nan(""))
      .field("big", uint64_t{18446744073709551615ull})
      .field("ok", true)
      .field_null("none");
  obj.close();
  CHECK(line == R"({"time_ns":5,"kind":"x","a":0.25,"nan":null,"big":18446744073709551615,"ok":true,"none":null})");
  CHECK(nlohmann::json::parse(line)["big"].get<uint64_t>() == 18446744073709551615ull);
}

TEST_CASE("jsonl: the writer flushes in chunks and commits every line", "[output]") {
  TempDir dir("recorder");
  JsonlWriter w(dir.path / "e.jsonl", 64);  // a tiny flush threshold exercises the chunking
  std::string expected;
  for (int i = 0; i < 100; ++i) {
    JsonObjectWriter obj(w.begin_line());
    obj.field("i", i);
    obj.close();
    w.end_line();
    expected += "{\"i\":" + std::to_string(i) + "}\n";
  }
  w.begin_line() += "{\"dropped\":true";
  w.discard_line();
  w.write_line("{\"last\":1}");
  expected += "{\"last\":1}\n";
  CHECK(w.lines() == 101);
  w.commit();
  CHECK(read_all(dir.path / "e.jsonl") == expected);
}

// ---------------------------------------------------------------- recorder, in memory

TEST_CASE("recorder: in-memory mode returns the rows published", "[recorder]") {
  Recorder rec;
  CHECK_FALSE(rec.writes_files());
  CHECK(rec.keeps_in_memory());
  TableId util = rec.table("utilization", {"time_ns", "region", "value"});
  rec.row(util, at_hours(1), "us-east-1", 0.5);
  rec.row(util, at_hours(2), std::string("eu-west-1"), 7);
  const auto& rows = rec.rows(util);
  REQUIRE(rows.size() == 2);
  CHECK(std::get<int64_t>(rows[0][0]) == Duration::hours(1).ticks());
  CHECK(std::get<std::string>(rows[0][1]) == "us-east-1");
  CHECK(std::get<double>(rows[0][2]) == 0.5);
  CHECK(std::get<int64_t>(rows[1][rec.column_index(util, "value")]) == 7);
  CHECK(rec.find_table("utilization") == util);
  CHECK_FALSE(rec.find_table("cost").has_value());
  CHECK(rec.columns(util).size() == 3);
  CHECK_THROWS_AS(rec.column_index(util, "nope"), std::out_of_range);
}

TEST_CASE("recorder: rows with the wrong field count are rejected in memory mode too", "[recorder]") {
  Recorder rec;
  TableId t = rec.table("t", {"a", "b"});
  CHECK_THROWS_AS(rec.row(t, 1), std::invalid_argument);
  CHECK_THROWS_AS(rec.row(t, 1, 2, 3), std::invalid_argument);
  CHECK(rec.rows(t).empty());
  CHECK_THROWS_AS(rec.row(TableId{}, 1, 2), std::out_of_range);
}

TEST_CASE("recorder: table declarations are checked", "[recorder]") {
  Recorder rec;
  rec.table("cost", {"time_ns", "usd"});
  CHECK_THROWS_AS(rec.table("cost", {"time_ns"}), std::invalid_argument);
  CHECK_THROWS_AS(rec.table("../escape", {"a"}), std::invalid_argument);
  CHECK_THROWS_AS(rec.table("", {"a"}), std::invalid_argument);
  CHECK_THROWS_AS(rec.table("x", {}), std::invalid_argument);
  CHECK_THROWS_AS(rec.table("y", {"a", "a"}), std::invalid_argument);
}

TEST_CASE("recorder: events are kept in memory with their exact line", "[recorder]") {
  Recorder rec;
  rec.event(at_hours(1), "failure").field("path", "us-east-1/az1/dc1/rack3").field("duration_ns", 123).field("x", 0.5);
  rec.event(at_hours(2), "repair").field("ok", true);
  rec.event(at_hours(3), "failure");
  const auto& ev = rec.events();
  REQUIRE(ev.size() == 3);
  CHECK(ev[0].json ==
        R"({"time_ns":3600000000000,"time":"1h","kind":"failure","path":"us-east-1/az1/dc1/rack3","duration_ns":123,"x":0.5})");
  CHECK(ev[0].time == at_hours(1));
  CHECK(ev[0].kind == "failure");
  REQUIRE(ev[0].find("duration_ns") != nullptr);
  CHECK(std::get<int64_t>(*ev[0].find("duration_ns")) == 123);
  CHECK(std::get<std::string>(*ev[0].find("path")) == "us-east-1/az1/dc1/rack3");
  CHECK(ev[0].find("missing") == nullptr);
  CHECK(std::get<bool>(*ev[1].find("ok")));
  CHECK(ev[2].json == R"({"time_ns":10800000000000,"time":"3h","kind":"failure"})");
  CHECK(rec.event_count("failure") == 2);
  CHECK(rec.event_count("repair") == 1);
  CHECK(rec.event_count("outage") == 0);
  CHECK(rec.events_published() == 3);
}

TEST_CASE("recorder: an exception while building an event drops the partial event", "[recorder]") {
  Recorder rec;
  try {
    rec.event(at_hours(1), "failure").field("a", 1).field("too_big", uint64_t{1} << 63);
  } catch (const std::out_of_range&) {
  }
  CHECK(rec.events().empty());
  CHECK(rec.event_count("failure") == 0);
  rec.event(at_hours(2), "repair");  // the recorder accepts the next event
  CHECK(rec.events().size() == 1);
}

TEST_CASE("recorder: only one event builder at a time", "[recorder]") {
  Recorder rec;
  auto b = rec.event(at_hours(1), "failure");
  CHECK_THROWS_AS(rec.event(at_hours(1), "repair"), std::logic_error);
  b.field("k", 1);
}

TEST_CASE("recorder: finish builds summary text with sorted keys and the run fields", "[recorder]") {
  Recorder rec;
  record_sample_run(rec);
  rec.finish(sample_info());
  const std::string& text = rec.final_summary();
  REQUIRE_FALSE(text.empty());
  CHECK(text.back() == '\n');
  const auto j = nlohmann::json::parse(text);
  CHECK(j["complete"] == true);
  CHECK(j["simulated_until"] == "54d");
  CHECK(j["simulated_until_ns"] == Duration::days(54).ticks());
  CHECK(j["events_executed"] == 123456);
  CHECK(j["fingerprint"] == "00abcdef01234567");
  CHECK(j["seed"] == 42);
  CHECK(j["scenario_hash"] == "sha256:0f1e");
  CHECK(j["version"] == "0.1.0");
  CHECK(j["stop_reason"] == "horizon");
  CHECK(j["gpu_hours"] == 1234.5);
  CHECK(j["events_published"]["failure"] == 1);
  CHECK(j["events_published"]["repair"] == 1);
  // Keys appear sorted in the text, at every level, with 2-space indentation.
  CHECK(text.find("  \"availability\"") < text.find("  \"by_region\""));
  CHECK(text.find("\"ap-south-1\"") < text.find("\"us-east-1\": 7"));
  CHECK(text.find("  \"complete\": true") < text.find("  \"version\""));
  CHECK(text.rfind("{\n  \"availability\": 0.9991,\n", 0) == 0);
}

TEST_CASE("recorder: an interrupted run says complete false", "[recorder]") {
  Recorder rec;
  RunInfo info = sample_info();
  info.complete = false;
  info.stop_reason = "";
  rec.finish(info);
  const auto j = nlohmann::json::parse(rec.final_summary());
  CHECK(j["complete"] == false);
  CHECK_FALSE(j.contains("stop_reason"));
  CHECK(j["events_published"].is_object());
}

TEST_CASE("recorder: summary keys of the run are reserved", "[recorder]") {
  Recorder rec;
  rec.summary()["seed"] = 7;
  CHECK_THROWS_AS(rec.finish(sample_info()), std::logic_error);
  Recorder other;
  other.summary() = 3;
  CHECK_THROWS_AS(other.summary_text(sample_info()), std::logic_error);
}

TEST_CASE("recorder: nothing is accepted after finish", "[recorder]") {
  Recorder rec;
  TableId t = rec.table("t", {"a"});
  rec.finish(sample_info());
  CHECK(rec.finished());
  CHECK_THROWS_AS(rec.row(t, 1), std::logic_error);
  CHECK_THROWS_AS((void)rec.event(at_hours(1), "x"), std::logic_error);
  CHECK_THROWS_AS(rec.table("u", {"a"}), std::logic_error);
  CHECK_THROWS_AS(rec.finish(sample_info()), std::logic_error);
}

// ---------------------------------------------------------------- recorder, files

TEST_CASE("recorder: files appear only at finish and hold what was published", "[recorder]") {
  TempDir dir("recorder");
  Recorder rec(RecorderOptions{.directory = dir.path, .keep_in_memory = true});
  record_sample_run(rec);
  for (const auto& name : names_in(dir.path)) CHECK(name.find(".tmp.") != std::string::npos);
  rec.finish(sample_info());
  CHECK(names_in(dir.path) == std::vector<std::string>{"cost.csv", "events.jsonl", "summary.json", "utilization.csv"});
  CHECK(read_all(dir.path / "summary.json") == rec.final_summary());

  const std::string util = read_all(dir.path / "utilization.csv");
  CHECK(util.rfind("time_ns,region,metric,value\n0,us-east-1,gpu_busy_fraction,0\n", 0) == 0);
  CHECK(util.find("3600000000000,\"eu, west \"\"1\"\"\",gpu_busy_fraction,0.3333333333333333\n") !=
        std::string::npos);
  CHECK(std::count(util.begin(), util.end(), '\n') == 11);

  std::string expected_events;
  for (const auto& e : rec.events()) expected_events += e.json + "\n";
  CHECK(read_all(dir.path / "events.jsonl") == expected_events);
  CHECK(expected_events.rfind(
            R"({"time_ns":7200000000000,"time":"2h","kind":"failure","path":"us-east-1/az1/dc1/rack3","repair_ns":54000000000000})",
            0) == 0);
}

TEST_CASE("recorder: a recorder destroyed without finish leaves no file", "[recorder]") {
  TempDir dir("recorder");
  try {
    Recorder rec(RecorderOptions{.directory = dir.path});
    record_sample_run(rec);
    CHECK_FALSE(names_in(dir.path).empty());  // temporaries exist while running
    throw std::runtime_error("simulation error");
  } catch (const std::runtime_error&) {
  }
  CHECK(names_in(dir.path).empty());
}

TEST_CASE("recorder: a missing output directory fails at construction with kind Create", "[recorder]") {
  TempDir dir("recorder");
  try {
    Recorder rec(RecorderOptions{.directory = dir.path / "missing"});
    FAIL("expected OutputError");
  } catch (const OutputError& e) {
    CHECK(e.kind() == OutputError::Kind::Create);
  }
}

TEST_CASE("recorder: two identical recordings produce byte-identical files", "[recorder]") {
  TempDir a("recorder");
  TempDir b("recorder");
  for (const fs::path* dir : {&a.path, &b.path}) {
    Recorder rec(RecorderOptions{.directory = *dir});
    record_sample_run(rec);
    rec.finish(sample_info());
  }
  const auto names = names_in(a.path);
  REQUIRE(names.size() == 4);
  CHECK(names_in(b.path) == names);
  for (const auto& name : names) {
    INFO(name);
    CHECK(read_all(a.path / name) == read_all(b.path / name));
  }
}
