// SPDX-License-Identifier: Apache-2.0
// Typed records (sim/record.hpp): one description of a record gives the CSV header and row, the
// events.jsonl line, the summary object and the typed listeners' struct; a description that misses
// a member, names one twice or repeats a name is rejected at compile time (and, for a whole
// translation unit, by the compile-fail tests in tests/compile_fail).
#include "sim/record.hpp"
#include "sim/record_json.hpp"
#include "sim/recorder.hpp"

#include "tests/support/files.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <cmath>
#include <limits>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

using namespace fleetsim;

namespace {

struct Sample {
  static constexpr std::string_view table = "samples";
  SimTime time;
  std::string_view site;
  int64_t count = 0;
  double share = 0;
  Nullable<double> plan;
  bool open = false;
  static constexpr auto fields() {
    return std::tuple{field("time_ns", &Sample::time), field("site", &Sample::site), field("count", &Sample::count),
                      field("share", &Sample::share), field("plan_usd", &Sample::plan), field("open", &Sample::open)};
  }
};

struct Broke {
  static constexpr std::string_view kind = "broke";
  std::string_view path;
  Nullable<Duration> repair;
  uint64_t parts = 0;
  static constexpr auto fields() {
    return std::tuple{field("path", &Broke::path), field("repair_ns", &Broke::repair), field("parts", &Broke::parts)};
  }
};

struct Inner {
  double a = 0;
  uint32_t b = 0;
  static constexpr auto fields() { return std::tuple{field("a", &Inner::a), field("b", &Inner::b)}; }
};

struct Totals {
  static constexpr std::string_view key = "totals";
  std::string name;
  Nullable<double> started_s;       // null until it happens
  Nullable<double> interval_s;      // left out when empty
  Inner inner;
  Keyed<Inner> by_site;
  std::vector<SimTime> marks;
  static constexpr auto fields() {
    return std::tuple{field("name", &Totals::name),   field("started_s", &Totals::started_s),
                      field_if("interval_s", &Totals::interval_s), field("inner", &Totals::inner),
                      field("by_site", &Totals::by_site), field("marks", &Totals::marks)};
  }
};

// ---- descriptions the checks reject

struct MissingMember {  // `b` has no field: a column would silently not be written
  int a = 0;
  int b = 0;
  static constexpr auto fields() { return std::tuple{field("a", &MissingMember::a)}; }
};
struct MemberTwice {  // the count is right, but `a` is described twice and `b` never
  int a = 0;
  int b = 0;
  static constexpr auto fields() { return std::tuple{field("a", &MemberTwice::a), field("b", &MemberTwice::a)}; }
};
struct NameTwice {  // two columns of one name
  int a = 0;
  int b = 0;
  static constexpr auto fields() { return std::tuple{field("x", &NameTwice::a), field("x", &NameTwice::b)}; }
};
struct EmptyName {
  int a = 0;
  static constexpr auto fields() { return std::tuple{field("", &EmptyName::a)}; }
};

}  // namespace

// The checks are compile-time facts: a failing one stops this file from compiling.
static_assert(check_record<Sample>());
static_assert(check_record<Broke>());
static_assert(check_record<Totals>());
static_assert(!check_record<MissingMember>());
static_assert(!check_record<MemberTwice>());
static_assert(!check_record<NameTwice>());
static_assert(!check_record<EmptyName>());
static_assert(field_count<Sample>() == 6);
static_assert(field_names<Sample>()[4] == "plan_usd");
static_assert(name_of(&Sample::plan) == "plan_usd");
static_assert(member_name<&Broke::repair>() == "repair_ns");

TEST_CASE("a record table: the header from the fields, a row from the struct", "[record]") {
  fleetsim::test::TempDir dir("record-table");
  Recorder rec(RecorderOptions{.directory = dir.path, .keep_in_memory = true});
  const TableOf<Sample> t = rec.table<Sample>();
  CHECK(rec.table_name(t.id) == "samples");
  CHECK(rec.columns(t.id) == std::vector<std::string>{"time_ns", "site", "count", "share", "plan_usd", "open"});
  std::vector<std::string> seen;
  rec.rows_of<Sample>().connect([&](const Sample& s) { seen.emplace_back(s.site); });
  rec.row(t, Sample{.time = SimTime::from_ticks(5), .site = "a,b", .count = -3, .share = 0.25, .plan = {}, .open = true});
  rec.row(t, Sample{.time = SimTime::from_ticks(7), .site = "c", .count = 4, .share = 1e20,
                    .plan = Nullable<double>::of(2.5), .open = false});
  CHECK(seen == std::vector<std::string>{"a,b", "c"});
  REQUIRE(rec.rows(t.id).size() == 2);
  CHECK(std::get<int64_t>(rec.rows(t.id)[1][2]) == 4);
  CHECK(std::holds_alternative<std::monostate>(rec.rows(t.id)[0][4]));
  rec.finish(RunInfo{});
  CHECK(fleetsim::test::read_all(dir.path / "samples.csv") ==
        "time_ns,site,count,share,plan_usd,open\n"
        "5,\"a,b\",-3,0.25,,true\n"
        "7,c,4,1e+20,2.5,false\n");
}

TEST_CASE("a renamed record table keeps the record's columns", "[record]") {
  Recorder rec;
  const auto t = rec.table<Sample>("other");
  CHECK(rec.table_name(t.id) == "other");
  CHECK(rec.columns(t.id).front() == "time_ns");
}

TEST_CASE("a record event: the line from the fields, the struct to typed listeners", "[record]") {
  Recorder rec;
  std::vector<std::pair<int64_t, uint64_t>> typed;
  std::vector<std::string> generic;
  rec.events_of<Broke>().connect([&](SimTime t, const Broke& b) { typed.emplace_back(t.ticks(), b.parts); });
  rec.on_event.connect([&](const PublishedEvent& e) { generic.emplace_back(e.text("path")); });
  rec.publish(SimTime::zero() + Duration::hours(2),
              Broke{.path = "r1/rack\"2\"", .repair = Nullable<Duration>::of(Duration::minutes(5)), .parts = 3});
  rec.publish(SimTime::zero() + Duration::hours(3), Broke{.path = "r2", .repair = {}, .parts = 0});
  REQUIRE(rec.events().size() == 2);
  CHECK(rec.events()[0].json ==
        R"({"time_ns":7200000000000,"time":"2h","kind":"broke","path":"r1/rack\"2\"","repair_ns":300000000000,"parts":3})");
  CHECK(rec.events()[1].json == R"({"time_ns":10800000000000,"time":"3h","kind":"broke","path":"r2","repair_ns":null,"parts":0})");
  CHECK(rec.event_count("broke") == 2);
  CHECK(typed == std::vector<std::pair<int64_t, uint64_t>>{{7200000000000, 3}, {10800000000000, 0}});
  CHECK(generic == std::vector<std::string>{"r1/rack\"2\"", "r2"});
}

TEST_CASE("a record event publishes the same line as the builder it replaces", "[record]") {
  Recorder a, b;
  const SimTime t = SimTime::from_ticks(123456789);
  a.publish(t, Broke{.path = "x/y", .repair = Nullable<Duration>::of(Duration::ns(9)), .parts = 2});
  b.event(t, "broke").field("path", "x/y").field("repair_ns", Duration::ns(9)).field("parts", uint64_t{2});
  CHECK(a.events().at(0).json == b.events().at(0).json);
}

TEST_CASE("a typed listener that throws does not unwind the publisher", "[record]") {
  Recorder rec;
  rec.events_of<Broke>().connect([](SimTime, const Broke&) { throw std::runtime_error("disk full"); });
  CHECK_NOTHROW(rec.publish(SimTime::zero(), Broke{.path = "p", .repair = {}, .parts = 0}));
  CHECK_THROWS_WITH(rec.publish(SimTime::zero(), Broke{.path = "q", .repair = {}, .parts = 0}), "disk full");
}

TEST_CASE("an unwritten record event is not formatted but still reaches typed listeners", "[record]") {
  fleetsim::test::TempDir dir("record-filter");
  Recorder rec(RecorderOptions{.directory = dir.path,
                               .write_event = [](std::string_view kind) { return kind != "broke"; }});
  int heard = 0;
  rec.events_of<Broke>().connect([&](SimTime, const Broke&) { ++heard; });
  rec.publish(SimTime::zero(), Broke{.path = "p", .repair = {}, .parts = 0});
  rec.finish(RunInfo{});
  CHECK(heard == 1);
  CHECK(rec.event_count("broke") == 1);
  CHECK(fleetsim::test::read_all(dir.path / "events.jsonl").empty());
}

TEST_CASE("a record summary: keys from the fields, null and omitted values, nested records", "[record]") {
  Totals s;
  s.name = "run";
  s.inner = {.a = 1.5, .b = 2};
  s.by_site["z"] = {.a = 0.5, .b = 1};
  s.by_site["a"] = {.a = 1.0, .b = 0};
  s.marks = {SimTime::from_ticks(1), SimTime::from_ticks(2)};
  const nlohmann::json j = record_json(s);
  CHECK(j.dump() ==
        R"({"by_site":{"a":{"a":1.0,"b":0},"z":{"a":0.5,"b":1}},"inner":{"a":1.5,"b":2},"marks":[1,2],"name":"run","started_s":null})");
  s.interval_s = Nullable<double>::of(60);
  s.started_s = Nullable<double>::of(0);
  CHECK(record_json(s)["interval_s"] == 60.0);
  CHECK(record_json(s)["started_s"] == 0.0);

  Recorder rec;
  rec.summarize(s);
  CHECK(rec.summary()["totals"]["inner"]["b"] == 2);
  rec.summarize("sites", s.by_site);
  CHECK(rec.summary()["sites"]["z"]["a"] == 0.5);
}
