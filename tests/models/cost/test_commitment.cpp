// SPDX-License-Identifier: Apache-2.0
#include "models/cost/commitment.hpp"
#include "tests/models/cost/cost_fixtures.hpp"

#include <catch2/catch.hpp>

using namespace fleetsim;

namespace {
constexpr double kYear = 365 * 86400.0;
// US$38 billion over 7 years (the OpenAI-AWS agreement of 3 Nov 2025, AWS/OpenAI announcement as
// reported by digitimes.com), with the run starting on the contract's first day.
CommitmentSpec deal() {
  CommitmentSpec c;
  c.enabled = true;
  c.name = "deal";
  c.amount_usd = 38e9;
  c.start_s = 0;
  c.term_s = 7 * kYear;
  return c;
}
}  // namespace

TEST_CASE("commitment: the straight-line plan", "[cost][commitment]") {
  const CommitmentSpec c = deal();
  CHECK(plan_usd(c, -1) == 0);
  CHECK(plan_usd(c, 0) == 0);
  CHECK(plan_usd(c, kYear) == Approx(38e9 / 7));          // 5.428571e9 a year
  CHECK(plan_usd(c, 3.5 * kYear) == Approx(19e9));
  CHECK(plan_usd(c, 8 * kYear) == Approx(38e9));          // capped at the amount
}

// By hand: after one year, spent $3 billion; plan 38/7 = 5.428571 billion; shortfall 2.428571
// billion. At $3 billion a year the remaining 35 billion last 35/3 = 11.6667 more years, so the
// commitment is exhausted 12.6667 years after its start; at the end of the term (6 more years) the
// spend reaches 3 + 18 = 21 billion, leaving 17 billion owed under take-or-pay.
TEST_CASE("commitment: shortfall, exhaustion and take-or-pay by hand", "[cost][commitment]") {
  const CommitmentSpec c = deal();
  const double rate = 3e9 / kYear;
  const CommitmentStatus st = commitment_status(c, 3e9, kYear, rate);
  CHECK(st.plan_usd == Approx(5.428571428571e9));
  CHECK(st.shortfall_usd == Approx(2.428571428571e9));
  CHECK(st.overrun_usd == 0);
  CHECK(st.remaining_usd == Approx(35e9));
  REQUIRE(st.exhaustion_s);
  CHECK(*st.exhaustion_s / kYear == Approx(1 + 35.0 / 3));
  CHECK(st.projected_at_term_end_usd == Approx(21e9));
  CHECK(st.take_or_pay_due_usd == Approx(17e9));
  // Ahead of plan: $8 billion spent after a year, an overrun of 2.571429 billion; exhausted after
  // 1 + 30/8 = 4.75 years; nothing owed.
  const CommitmentStatus fast = commitment_status(c, 8e9, kYear, 8e9 / kYear);
  CHECK(fast.overrun_usd == Approx(8e9 - 38e9 / 7));
  CHECK(*fast.exhaustion_s / kYear == Approx(4.75));
  CHECK(fast.take_or_pay_due_usd == 0);
  // No burn: no exhaustion date; not take-or-pay: nothing due.
  CommitmentSpec soft = c;
  soft.take_or_pay = false;
  const CommitmentStatus idle = commitment_status(soft, 0, kYear, 0);
  CHECK_FALSE(idle.exhaustion_s);
  CHECK(idle.take_or_pay_due_usd == 0);
}

// Through the model: 2 nodes (16 GPUs) at $8/GPU-h = $128/h; a $10,000 commitment over 100 h that
// starts 10 h into the run. Spend before its start does not count; after 60 h of a 60-h run it has
// counted 50 h x $128 = $6,400 against a plan of $5,000; at $128/h the rest lasts 3600/128 = 28.125
// h more, so it is exhausted at hour 88.125 (2025-10-04T16:07:30Z for a run from 2025-10-01).
TEST_CASE("commitment: the cost model counts spend inside the term", "[cost][commitment]") {
  const FleetSpec fs = fleetsim::test::h100_region(2);
  Fleet fleet = Fleet::build(fs);
  Engine engine;
  Recorder rec;
  CostSpec spec = fleetsim::test::round_cost_spec();
  spec.energy.billed_separately = false;
  spec.commitment.enabled = true;
  spec.commitment.amount_usd = 10000;
  spec.commitment.start_s = 10 * 3600.0;
  spec.commitment.term_s = 100 * 3600.0;
  const int64_t start = parse_utc_ns("2025-10-01T00:00:00Z");
  CostModel cost(spec, fleet, engine, rec, Duration::hours(4), start);
  cost.start();
  engine.run(SimTime::zero() + Duration::hours(60));
  cost.write_summary({});
  const auto& c = rec.summary()["cost"]["commitment"];
  CHECK(c["spent_usd"].get<double>() == Approx(6400));
  CHECK(c["plan_to_date_usd"].get<double>() == Approx(5000));
  CHECK(c["overrun_usd"].get<double>() == Approx(1400));
  CHECK(c["shortfall_usd"].get<double>() == 0);
  CHECK(c["projected_exhaustion"] == "2025-10-04T16:07:30Z");
  CHECK(c["start"] == "2025-10-01T10:00:00Z");
  // The plan column follows the straight line: at hour 60, 50/100 of $10,000.
  const TableId t = *rec.find_table("cost");
  CHECK(std::get<double>(rec.rows(t).back()[rec.column_index(t, "commitment_plan_usd")]) == Approx(5000));
}
