// SPDX-License-Identifier: Apache-2.0
// fleetsim compare: sides, tolerances, exit-code facts and JUnit XML.
#include "tests/support/files.hpp"
#include "tools/sweep/compare.hpp"

#include <catch2/catch.hpp>

#include <cmath>
#include <fstream>

namespace fs = std::filesystem;
using namespace fleetsim::sweep;
using fleetsim::test::TempDir;

namespace {

fs::path write(const fs::path& p, const std::string& text) {
  fs::create_directories(p.parent_path());
  std::ofstream(p) << text;
  return p;
}

const char* const kBase = R"({"events_executed": 100, "fingerprint": "00", "seed": 1,
  "training": {"tokens_per_s": 1000.0, "interruptions": 0}})";

}  // namespace

TEST_CASE("sweep: compare within and outside a relative tolerance", "[sweep][compare]") {
  TempDir tmp("compare");
  const Side base = load_side(write(tmp.path / "a" / "summary.json", kBase).parent_path());  // a run directory
  const Side same = load_side(write(tmp.path / "b.json", kBase));
  const Side slower = load_side(write(tmp.path / "c.json", R"({"events_executed": 100, "fingerprint": "00",
    "seed": 2, "training": {"tokens_per_s": 989.0, "interruptions": 0}})"));

  Comparison c = compare(base, same, {.rel_tol = 0.01, .metrics = {}});
  CHECK(c.outside == 0);
  CHECK(c.rows.size() == 3);  // the seed is not a metric

  // 989 vs 1000: -1.1%, outside 1%, inside 2%.
  c = compare(base, slower, {.rel_tol = 0.01, .metrics = {"/training/tokens_per_s"}});
  REQUIRE(c.rows.size() == 1);
  CHECK(c.rows[0].delta_pct == Approx(-1.1));
  CHECK_FALSE(c.rows[0].within);
  CHECK(c.outside == 1);
  c = compare(base, slower, {.rel_tol = 0.02, .metrics = {"training"}});
  CHECK(c.rows.size() == 2);
  CHECK(c.outside == 0);
  // A misspelt metric names the closest one, or the closest group of them.
  CHECK_THROWS_WITH(compare(base, slower, {.rel_tol = 0.01, .metrics = {"/training/tokens_pre_s"}}),
                    Catch::Contains("has no numeric value at or under this pointer (did you mean "
                                    "\"/training/tokens_per_s\"?)"));
  CHECK_THROWS_WITH(compare(base, slower, {.rel_tol = 0.01, .metrics = {"/trainig"}}),
                    Catch::Contains("(did you mean \"/training\"?)"));
  // Exactly at the tolerance is within.
  CHECK(compare(base, slower, {.rel_tol = 0.011, .metrics = {"/training/tokens_per_s"}}).outside == 0);
}

TEST_CASE("sweep: compare a zero baseline and metrics on one side only", "[sweep][compare]") {
  TempDir tmp("compare-zero");
  const Side base = load_side(write(tmp.path / "a.json", kBase));
  const Side more = load_side(write(tmp.path / "b.json", R"({"events_executed": 100, "fingerprint": "00",
    "training": {"tokens_per_s": 1000.0, "interruptions": 1, "new_metric": 3}})"));
  const Comparison c = compare(base, more, {.rel_tol = 0.5, .metrics = {}});
  REQUIRE(c.rows.size() == 4);
  CHECK(c.rows[1].name == "/training/interruptions");
  CHECK(std::isinf(c.rows[1].delta_pct));
  CHECK_FALSE(c.rows[1].within);  // 0 -> 1 is outside any relative tolerance
  CHECK(c.rows[3].name == "/training/new_metric");
  CHECK_FALSE(c.rows[3].baseline.has_value());
  CHECK(c.outside == 2);
  const std::string text = format_comparison(c, 0.5);
  CHECK_THAT(text, Catch::Contains("only in new") && Catch::Contains("OUTSIDE") &&
                       Catch::Contains("4 metrics, 2 outside the tolerance of 50%"));
}

TEST_CASE("sweep: compare prints a delta that agrees with its verdict", "[sweep][compare]") {
  // Issue 18 defect 5: +1.0026% against a 1% tolerance was printed "+1%  OUTSIDE".
  TempDir tmp("compare-digits");
  const Side base = load_side(write(tmp.path / "a.json", R"({"events_executed": 1, "fingerprint": "00",
    "x": 1000.0, "y": 1000.0, "z": 1000.0})"));
  const Side next = load_side(write(tmp.path / "b.json", R"({"events_executed": 1, "fingerprint": "00",
    "x": 1010.026, "y": 1010.0, "z": 1002.0})"));
  const Comparison c = compare(base, next, {.rel_tol = 0.01, .metrics = {"/x", "/y", "/z"}});
  REQUIRE(c.rows.size() == 3);
  CHECK_FALSE(c.rows[0].within);
  CHECK(c.rows[1].within);  // exactly 1% is within
  const std::string text = format_comparison(c, 0.01);
  CHECK_THAT(text, Catch::Contains("+1.003%  OUTSIDE"));  // enough digits to show it is past 1%
  CHECK_THAT(text, Catch::Contains("+1%  ok"));
  CHECK_THAT(text, Catch::Contains("+0.2%  ok"));          // short when short is enough
  CHECK_THAT(junit_xml(c, 0.01, "a", "b"), Catch::Contains("+1.003% outside 1%"));
}

TEST_CASE("sweep: compare trouble: missing sides, foreign files, unknown metrics", "[sweep][compare]") {
  TempDir tmp("compare-trouble");
  CHECK_THROWS_WITH(load_side(tmp.path / "nope"), Catch::Contains("no such file"));
  CHECK_THROWS_WITH(load_side(tmp.path), Catch::Contains("neither a run directory"));
  CHECK_THROWS_WITH(load_side(write(tmp.path / "x.json", "{\"a\": 1}")), Catch::Contains("not a fleetsim summary"));
  CHECK_THROWS_WITH(load_side(write(tmp.path / "y.json", "{oops")), Catch::Contains("not valid JSON"));
  const Side base = load_side(write(tmp.path / "a.json", kBase));
  CHECK_THROWS_WITH(compare(base, base, {.rel_tol = 0.01, .metrics = {"/training/tokens"}}),
                    Catch::Contains("--metric /training/tokens:"));
  const Side sweep = load_side(write(tmp.path / "s" / "sweep.json", R"({"kind": "fleetsim-sweep", "cells": []})").parent_path());
  CHECK_THROWS_WITH(compare(base, sweep, {}), Catch::Contains("cannot compare a run with a sweep"));
}

TEST_CASE("sweep: compare sweeps cell by cell, matched by parameters", "[sweep][compare]") {
  TempDir tmp("compare-sweep");
  const Side a = load_side(write(tmp.path / "a.json", R"({"kind": "fleetsim-sweep", "cells": [
    {"label": "/x=1", "metrics": {"/m": {"mean": 10.0}}},
    {"label": "/x=2", "metrics": {"/m": {"mean": 20.0}}}]})"));
  const Side b = load_side(write(tmp.path / "b.json", R"({"kind": "fleetsim-sweep", "cells": [
    {"label": "/x=2", "metrics": {"/m": {"mean": 22.0}}},
    {"label": "/x=1", "metrics": {"/m": {"mean": 10.05}}}]})"));
  const Comparison c = compare(a, b, {.rel_tol = 0.01, .metrics = {"/m"}});
  REQUIRE(c.rows.size() == 2);
  CHECK(c.rows[0].name == "/m @ /x=1");
  CHECK(c.rows[0].within);
  CHECK(c.rows[1].name == "/m @ /x=2");
  CHECK(c.rows[1].delta_pct == Approx(10.0));
  CHECK(c.outside == 1);
}

TEST_CASE("sweep: --rel-tol takes a fraction or a percentage", "[sweep][compare]") {
  CHECK(parse_rel_tol("1%") == Approx(0.01));
  CHECK(parse_rel_tol("0.5 %") == Approx(0.005));
  CHECK(parse_rel_tol("0.02") == Approx(0.02));
  CHECK(parse_rel_tol("0") == 0.0);
  for (const char* bad : {"", "%", "abc", "-1%", "1%%", "1e999"}) CHECK_THROWS_AS(parse_rel_tol(bad), std::invalid_argument);
}

TEST_CASE("sweep: JUnit XML has a testcase per metric and a failure per violation", "[sweep][compare]") {
  Comparison c;
  c.rows.push_back(CompareRow{"/a", 1.0, 1.0, 0.0, true});
  c.rows.push_back(CompareRow{"/b<&>", 100.0, 90.0, -10.0, false});
  c.outside = 1;
  const std::string xml = junit_xml(c, 0.01, "base\"line", "new");
  CHECK_THAT(xml, Catch::StartsWith("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites"));
  CHECK_THAT(xml, Catch::Contains("tests=\"2\" failures=\"1\""));
  CHECK_THAT(xml, Catch::Contains("<testcase classname=\"fleetsim.compare\" name=\"/a\"/>"));
  CHECK_THAT(xml, Catch::Contains("name=\"/b&lt;&amp;&gt;\">"));
  CHECK_THAT(xml, Catch::Contains("<failure message=\"-10% outside 1%: baseline 100, new 90\""));
  CHECK_THAT(xml, Catch::Contains("value=\"base&quot;line\""));
}
