// SPDX-License-Identifier: Apache-2.0
// The scenario reader (models/scenario/reader.hpp): pointers, messages, collection, defaults.
#include <catch2/catch.hpp>

#include <fmt/format.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "models/scenario/reader.hpp"

using fleetsim::Diagnostic;
using fleetsim::Diagnostics;
using fleetsim::Dimension;
using fleetsim::Duration;
using fleetsim::Reader;
using nlohmann::json;

namespace {

// The errors as "pointer: message" lines, sorted as rendered.
std::vector<std::string> lines(const Diagnostics& d) {
  std::vector<std::string> out;
  for (const Diagnostic& x : d.sorted()) out.push_back(x.pointer + ": " + x.message);
  return out;
}

using Lines = std::vector<std::string>;

}  // namespace

TEST_CASE("reader: a missing required key is reported at its object", "[scenario]") {
  const json doc = json::parse(R"({"fleet": {}})");
  Diagnostics diags("s.json");
  const Reader root = Reader::root(doc, diags);
  const Reader regions = root.at("fleet").at("regions");
  CHECK_FALSE(regions.valid());
  CHECK(regions.pointer() == "/fleet/regions");
  CHECK(lines(diags) == Lines{R"(/fleet: missing required property "regions")"});
}

TEST_CASE("reader: reads below a missing key record nothing more", "[scenario]") {
  const json doc = json::parse(R"({})");
  Diagnostics diags("s.json");
  const Reader fleet = Reader::root(doc, diags).at("fleet");
  CHECK(fleet.at("regions").items().empty());
  CHECK(fleet.at("gpus").integer(1, 10) == 1);
  CHECK(fleet.at("name").string().empty());
  fleet.reject_unknown_keys({"a"});
  CHECK(diags.size() == 1);
}

TEST_CASE("reader: wrong types say what was expected and what was found", "[scenario]") {
  const json doc = json::parse(R"({"name": 5, "on": "yes", "list": {"a": 1}, "n": "3", "obj": [1, 2]})");
  Diagnostics diags("s.json");
  const Reader root = Reader::root(doc, diags);
  CHECK(root.at("name").string().empty());
  CHECK_FALSE(root.at("on").boolean());
  CHECK(root.at("list").items().empty());
  CHECK(root.at("n").number() == 0);
  CHECK_FALSE(root.at("obj").at("x").valid());
  CHECK(lines(diags) == Lines{
                            R"(/list: expected an array, got {"a":1})",
                            R"(/n: expected a number, got "3")",
                            R"(/name: expected a string, got 5)",
                            R"(/obj: expected an object, got [1,2])",
                            R"(/on: expected true or false, got "yes")",
                        });
}

TEST_CASE("reader: integers are whole numbers within range", "[scenario]") {
  const json doc = json::parse(R"([-8, 1.5, "3", 8.0, 1e6, 2000, 18446744073709551615, 7])");
  Diagnostics diags("s.json");
  const auto items = Reader::root(doc, diags).items();
  REQUIRE(items.size() == 8);
  CHECK(items[0].integer(1, INT64_MAX) == 1);
  CHECK(items[1].integer(0, INT64_MAX) == 0);
  CHECK(items[2].integer() == 0);
  CHECK(items[3].integer(1, 10) == 8);
  CHECK(items[4].integer(0, INT64_MAX) == 1'000'000);
  CHECK(items[5].integer(1, 1024) == 1);
  CHECK(items[6].integer(INT64_MIN, 100) == 0);
  CHECK(items[7].integer(10, INT64_MAX) == 10);
  CHECK(lines(diags) == Lines{
                            "/0: expected a positive integer, got -8",
                            "/1: expected a non-negative integer, got 1.5",
                            R"(/2: expected an integer, got "3")",
                            "/5: expected an integer from 1 to 1024, got 2000",
                            "/6: expected an integer <= 100, got 18446744073709551615",
                            "/7: expected an integer >= 10, got 7",
                        });
}

TEST_CASE("reader: numbers fractions and quantities", "[scenario]") {
  const json doc = json::parse(R"({
    "bw": "400 Gbps", "bw_si": 5e10, "bad_bw": "400 parsecs", "zero": "0 Gbps", "neg": -1,
    "frac": "95%", "frac2": 0.5, "frac_bad": 1.5, "pos": 0, "nonneg": -0.5,
    "t": "15h", "t_num": 90, "t_zero": "0s", "t_bad": true, "when": "2025-10-20T06:48:00Z", "when_bad": "2025-13-01",
    "price": "$55.04/h", "cnt": 2.5
  })");
  Diagnostics diags("s.json");
  const Reader r = Reader::root(doc, diags);
  CHECK(r.at("bw").quantity(Dimension::Bandwidth) == 5e10);
  CHECK(r.at("bw_si").quantity(Dimension::Bandwidth) == 5e10);
  CHECK(r.at("bad_bw").quantity(Dimension::Bandwidth) == 0);
  CHECK(r.at("zero").quantity(Dimension::Bandwidth, fleetsim::Bound::Positive) == 1);
  CHECK(r.at("neg").quantity(Dimension::Power) == 0);
  CHECK(r.at("neg").quantity(Dimension::Power, fleetsim::Bound::Any) == -1);
  CHECK(r.at("frac").fraction() == 0.95);
  CHECK(r.at("frac2").fraction() == 0.5);
  CHECK(r.at("frac_bad").fraction() == 0);
  CHECK(r.at("pos").positive() == 1);
  CHECK(r.at("nonneg").non_negative() == 0);
  CHECK(r.at("t").duration() == Duration::hours(15));
  CHECK(r.at("t_num").duration() == Duration::s(90));
  CHECK(r.at("t_zero").positive_duration() == Duration::s(1));
  CHECK(r.at("t_bad").duration() == Duration::zero());
  CHECK(r.at("when").utc_ns() == 1760942880LL * 1'000'000'000);
  CHECK(r.at("when_bad").utc_ns() == 0);
  CHECK(r.at("price").quantity(Dimension::MoneyRate) == 55.04 / 3600);
  CHECK(r.at("cnt").quantity(Dimension::Count) == 0);
  CHECK(lines(diags) == Lines{
      R"(/bad_bw: expected a bandwidth such as "400 Gbps" or "50 GB/s", got "400 parsecs" (unknown unit "parsecs"))",
      R"(/cnt: expected a whole number such as 8, got 2.5)",
      R"(/frac_bad: expected a fraction from 0 to 1 such as 0.95 or "95%", got 1.5)",
      R"(/neg: expected a non-negative power, got -1)",
      R"(/nonneg: expected a non-negative number, got -0.5)",
      R"(/pos: expected a positive number, got 0)",
      R"(/t_bad: expected a duration such as "15h" or "250us", got true)",
      R"(/t_zero: expected a positive duration, got "0s")",
      R"(/when_bad: invalid UTC time "2025-13-01": month 13 is not in 1..12; expected ISO-8601 UTC such as "2025-10-20T06:48:00Z", "2025-10-20T06:48Z" or "2025-10-20")",
      R"(/zero: expected a positive bandwidth, got "0 Gbps")",
  });
}

namespace {
enum class Kind { Hbm, Nic, Gpu };
}

TEST_CASE("reader: choices list the allowed values and suggest the closest", "[scenario]") {
  const json doc = json::parse(R"(["NIC", "hbm", "disk", 3])");
  Diagnostics diags("s.json");
  const auto items = Reader::root(doc, diags).items();
  const auto options = {std::pair<std::string_view, Kind>{"HBM", Kind::Hbm}, {"NIC", Kind::Nic}, {"GPU", Kind::Gpu}};
  CHECK(items[0].choice(options) == Kind::Nic);
  CHECK(items[1].choice(options) == Kind::Hbm);
  CHECK(items[2].choice(options) == Kind::Hbm);
  CHECK(items[3].choice(options) == Kind::Hbm);
  CHECK(lines(diags) == Lines{
                            R"(/1: expected one of "HBM", "NIC", "GPU", got "hbm" (did you mean "HBM"?))",
                            R"(/2: expected one of "HBM", "NIC", "GPU", got "disk")",
                            R"(/3: expected one of "HBM", "NIC", "GPU", got 3)",
                        });
}

TEST_CASE("reader: unknown keys get a did-you-mean or the allowed list", "[scenario]") {
  const json doc = json::parse(R"({"horizn": "1h", "seed": 1, "colour": "red", "$schema": "x", "_note": "hi"})");
  Diagnostics diags("s.json");
  Reader::root(doc, diags).reject_unknown_keys({"horizon", "seed", "start"});
  CHECK(lines(diags) == Lines{
                            R"(/colour: unknown property "colour" (allowed: "horizon", "seed", "start"))",
                            R"(/horizn: unknown property "horizn" (did you mean "horizon"?))",
                        });
}

TEST_CASE("reader: unknown keys past the kept errors are counted, each once", "[scenario]") {
  // 1,500 unknown keys: the first kMaxKept (1,000) are kept with their text, the rest only
  // counted, so the total still says how many there were.
  json doc = json::object();
  for (int i = 0; i < 1500; ++i) doc[fmt::format("horizn{:04}", i)] = 1;
  Diagnostics diags("scen.json");
  Reader::root(doc, diags).reject_unknown_keys({"horizon", "seed"});
  CHECK(diags.size() == 1500);
  CHECK(diags.full());
  const auto kept = diags.sorted();
  REQUIRE(kept.size() == Diagnostics::kMaxKept);
  CHECK_THAT(kept.front().message, Catch::StartsWith(R"(unknown property "horizn0000")"));
  CHECK_THAT(diags.render(1), Catch::EndsWith("... and 1499 more errors"));
}

TEST_CASE("reader: errors are collected and rendered sorted by pointer", "[scenario]") {
  const json doc = json::parse(R"({"fleet": {"regions": [
      {"name": "a", "gpus": 8}, {"name": 1, "gpus": -8}, {"gpus": 8}, {}, {}, {}, {}, {}, {}, {},
      {"name": "k", "gpus": 0}]}})");
  Diagnostics diags("scen.json");
  const Reader root = Reader::root(doc, diags);
  for (const Reader& region : root.at("fleet").at("regions").items()) {
    region.at("gpus").integer(1, INT64_MAX);
    region.at("name").string();
  }
  root.at("horizon");
  CHECK(diags.size() == 19);
  const std::string text = diags.render(5);
  CHECK(text ==
        "error: scen.json: missing required property \"horizon\"\n"
        "error: scen.json: /fleet/regions/1/gpus: expected a positive integer, got -8\n"
        "error: scen.json: /fleet/regions/1/name: expected a string, got 1\n"
        "error: scen.json: /fleet/regions/2: missing required property \"name\"\n"
        "error: scen.json: /fleet/regions/3: missing required property \"gpus\"\n"
        "error: scen.json: ... and 14 more errors");
  // Numeric order of indices: /10 after /9.
  const auto all = diags.sorted();
  CHECK(all.back().pointer == "/fleet/regions/10/gpus");
  try {
    diags.throw_if_any();
    FAIL("no exception");
  } catch (const fleetsim::ScenarioError& e) {
    CHECK(e.diagnostics().size() == 19);
    CHECK(std::string(e.what()).rfind("error: scen.json: missing required property \"horizon\"\n", 0) == 0);
  }
}

TEST_CASE("reader: the same error twice is reported once", "[scenario]") {
  const json doc = json::parse(R"({"fleet": 3})");
  Diagnostics diags("s.json");
  const Reader fleet = Reader::root(doc, diags).at("fleet");
  fleet.at("a");
  fleet.at("b");
  fleet.reject_unknown_keys({"a"});
  CHECK(lines(diags) == Lines{"/fleet: expected an object, got 3"});
}

TEST_CASE("reader: defaults are written into resolved at their pointer", "[scenario]") {
  const json doc = json::parse(R"({"seed": 7, "fleet": {"regions": [{"name": "a"}]}})");
  json resolved = doc;
  Diagnostics diags("s.json");
  const Reader root = Reader::root(doc, diags, &resolved);
  CHECK(root.integer_or("seed", 0, INT64_MAX, 42) == 7);
  CHECK(root.duration_or("horizon", Duration::days(30)) == Duration::days(30));
  const Reader region = root.at("fleet").at("regions").items().at(0);
  CHECK(region.quantity_or("wan", Dimension::Bandwidth, 5e10) == 5e10);
  CHECK(region.string_or("name", "x") == "a");
  CHECK(region.boolean_or("spare", true));
  CHECK(region.fraction_or("pue_headroom", 0.1) == 0.1);
  CHECK(region.choice_or("kind", {std::pair<std::string_view, Kind>{"HBM", Kind::Hbm}, {"NIC", Kind::Nic}},
                         Kind::Nic) == Kind::Nic);
  const Reader failures = root.section("failures");
  CHECK(failures.valid());
  CHECK(failures.quantity_or("price", Dimension::MoneyRate, 55.04 / 3600) == 55.04 / 3600);
  CHECK(diags.empty());
  CHECK(resolved == json::parse(R"({
    "seed": 7, "horizon": "30d",
    "fleet": {"regions": [{"name": "a", "wan": "400 Gbps", "spare": true, "pue_headroom": 0.1, "kind": "NIC"}]},
    "failures": {"price": "$55.04/h"}
  })"));
}

TEST_CASE("reader: nested pointers name array indices", "[scenario]") {
  const json doc = json::parse(R"({"fleet": {"regions": [{"name": "a"}, {"name": ["b"]}]}})");
  Diagnostics diags("s.json");
  const auto regions = Reader::root(doc, diags).at("fleet").at("regions");
  CHECK(regions.at(1).at("name").pointer() == "/fleet/regions/1/name");
  regions.at(1).at("name").string();
  regions.at(5);
  CHECK(lines(diags) == Lines{
                            "/fleet/regions: expected at least 6 items, got 2",
                            R"(/fleet/regions/1/name: expected a string, got ["b"])",
                        });
}

TEST_CASE("reader: pointers escape slash and tilde per RFC 6901", "[scenario]") {
  const json doc = json::parse(R"({"links": {"a/b": {"x~y": 1}}})");
  Diagnostics diags("s.json");
  const Reader r = Reader::root(doc, diags).at("links").at("a/b");
  CHECK(r.pointer() == "/links/a~1b");
  r.reject_unknown_keys({});
  CHECK(lines(diags) == Lines{R"(/links/a~1b/x~0y: unknown property "x~y" (no properties are allowed here))"});
  // The escaped pointer finds the value again.
  CHECK(doc.at(json::json_pointer("/links/a~1b/x~0y")) == 1);
  CHECK(fleetsim::escape_pointer_token("~/") == "~0~1");
  // The one unescaper (used by --set and the validation scoreboard) reverses it, RFC 6901 section 4.
  CHECK(fleetsim::unescape_pointer_token("~0~1") == "~/");
  CHECK(fleetsim::unescape_pointer_token("~01") == "~1");  // "~0" first, then a plain '1'
  CHECK(fleetsim::unescape_pointer_token("a~1b~0c") == "a/b~c");
  CHECK_FALSE(fleetsim::unescape_pointer_token("a~2"));
  CHECK_FALSE(fleetsim::unescape_pointer_token("a~"));
  for (const std::string key : {"", "plain", "~", "/", "a/b~c~~//"})
    CHECK(fleetsim::unescape_pointer_token(fleetsim::escape_pointer_token(key)) == key);
}

TEST_CASE("reader: entries skip annotations and keep sorted keys", "[scenario]") {
  const json doc = json::parse(R"({"us-west": 2, "_comment": "x", "eu": 1})");
  Diagnostics diags("s.json");
  const auto entries = Reader::root(doc, diags).entries();
  REQUIRE(entries.size() == 2);
  CHECK(entries[0].first == "eu");
  CHECK(entries[1].second.pointer() == "/us-west");
}

TEST_CASE("reader: long values are abbreviated in messages", "[scenario]") {
  const json doc = json::parse(R"({"a": [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30],
                                  "s": "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"})");
  Diagnostics diags("s.json");
  const Reader r = Reader::root(doc, diags);
  r.at("a").string();
  r.at("s").integer();
  CHECK(lines(diags) == Lines{
                            "/a: expected a string, got an array of 30 items",
                            "/s: expected an integer, got \"" + std::string(60, 'a') + "...\"",
                        });
}

TEST_CASE("parse json: syntax errors carry line and column", "[scenario]") {
  Diagnostics diags("bad.json");
  CHECK_THROWS_AS(fleetsim::parse_json_text("{\n  \"a\": 1,\n  ,\n}", diags), fleetsim::ScenarioError);
  REQUIRE(diags.size() == 1);
  CHECK_THAT(diags.render(), Catch::StartsWith("error: bad.json: parse error at line 3, column 3: syntax error"));
}

TEST_CASE("parse json: duplicate keys are errors at their pointer", "[scenario]") {
  Diagnostics diags("dup.json");
  CHECK_THROWS_AS(fleetsim::parse_json_text(R"({"a": [1, {"x": 1, "x": 2}], "b": {"y": 1}, "b": 2})", diags),
                  fleetsim::ScenarioError);
  CHECK(lines(diags) == Lines{
                            R"(/a/1/x: duplicate property "x" (JSON keeps only the last one))",
                            R"(/b: duplicate property "b" (JSON keeps only the last one))",
                        });
}

TEST_CASE("parse json: a missing file is an input error not a scenario error", "[scenario]") {
  Diagnostics diags("nope.json");
  CHECK_THROWS_AS(fleetsim::parse_json_file("/nonexistent/fleetsim/nope.json", diags), fleetsim::InputError);
  CHECK_THROWS_AS(fleetsim::parse_json_file("/", diags), fleetsim::InputError);
  CHECK(diags.empty());
}

TEST_CASE("parse json: a readable file parses", "[scenario]") {
  const auto path = std::filesystem::temp_directory_path() / "fleetsim_test_reader_ok.json";
  {
    std::ofstream out(path);
    out << R"({"seed": 3})";
  }
  Diagnostics diags(path.string());
  const json doc = fleetsim::parse_json_file(path.string(), diags);
  std::filesystem::remove(path);
  CHECK(doc.at("seed") == 3);
}
