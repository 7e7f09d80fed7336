// SPDX-License-Identifier: Apache-2.0
// A training job's failure inside one of its events says where it happened (sim/error.hpp): the
// simulated time, the event's number and kind, and the job; the CLI prints that message and exits with
// the cause's code.
#include "models/training/training_model.hpp"
#include "sim/error.hpp"
#include "tests/models/training/training_fixtures.hpp"

#include <catch2/catch.hpp>

using namespace fleetsim;
using namespace fleetsim::test;

TEST_CASE("training: an error inside a job's event names the time, the event and the job", "[training][error]") {
  // A region the fleet does not have: the loader refuses it (exit 65), so only a model built by hand
  // reaches the submission event with it, which then throws.
  TrainingSpec spec;
  spec.jobs.push_back(small_job(2, 1e12));
  spec.jobs.back().region = "nowhere";
  spec.jobs.back().submit = SimTime::zero() + Duration::hours(26);
  spec.sample_interval = Duration::zero();
  TrainingRun run(h100_fleet(4), quiet(), spec);
  try {
    run.run_for(Duration::days(2));
    FAIL("the run did not fail");
  } catch (const EventError& e) {
    CHECK(e.time() == SimTime::zero() + Duration::hours(26));
    CHECK(e.event_kind() == "training-submit");
    CHECK(e.entity() == "job small");
    CHECK(e.event() == run.engine.events_executed());  // the last event executed is the one that failed
    const ErrorExit x = error_exit(e);
    CHECK(x.code == 70);  // a bare std::invalid_argument: a bug, since the loader accepts only known regions
    CHECK(x.message == "error: simulation failed at t=" + format_duration(Duration::hours(26)) + ", event #" +
                           std::to_string(e.event()) + " (training-submit, job small): training job \"small\": "
                           "no region \"nowhere\"");
  }
}
