// SPDX-License-Identifier: Apache-2.0
// The error taxonomy (sim/error.hpp): the one mapping from an exception to an exit code and message,
// and the context the engine gives an exception that escapes an event handler.
#include "sim/atomic_file.hpp"
#include "sim/engine.hpp"
#include "sim/error.hpp"

#include <catch2/catch.hpp>

#include <new>
#include <stdexcept>
#include <string>

using namespace fleetsim;

namespace {

SimTime at(Duration d) { return SimTime::zero() + d; }

/// An exception class of the taxonomy, as models declare theirs.
class BadFigure : public std::invalid_argument, public ErrorWithKind {
 public:
  explicit BadFigure(const std::string& what) : std::invalid_argument(what), ErrorWithKind(ErrorKind::InvalidInput) {}
};

/// Runs the engine and returns the EventError it throws.
EventError run_to_error(Engine& eng) {
  try {
    eng.run(SimTime::max());
  } catch (const EventError& e) {
    return e;
  }
  FAIL("the run did not throw an EventError");
  throw std::logic_error("unreachable");
}

}  // namespace

TEST_CASE("error_exit: each kind has its documented exit code", "[kernel][error]") {
  CHECK(exit_code_of(ErrorKind::Usage) == 2);
  CHECK(exit_code_of(ErrorKind::InvalidInput) == 65);
  CHECK(exit_code_of(ErrorKind::MissingInput) == 66);
  CHECK(exit_code_of(ErrorKind::Internal) == 70);
  CHECK(exit_code_of(ErrorKind::CannotCreate) == 73);
  CHECK(exit_code_of(ErrorKind::Io) == 74);
  CHECK(exit_code_of(ErrorKind::Interrupted) == 130);
}

TEST_CASE("error_exit: output errors, kinded errors, and everything else as an internal error", "[kernel][error]") {
  const ErrorExit create = error_exit(OutputError(OutputError::Kind::Create, "out/a.csv", "Permission denied"));
  CHECK(create.code == 73);
  CHECK(create.message == "error: cannot create out/a.csv: Permission denied");
  const ErrorExit write = error_exit(OutputError(OutputError::Kind::Write, "out/a.csv", "No space left on device"));
  CHECK(write.code == 74);
  CHECK(write.kind == ErrorKind::Io);

  const ErrorExit bad = error_exit(BadFigure("the step is negative"));
  CHECK(bad.code == 65);
  CHECK(bad.message == "error: the step is negative");

  // Outside the taxonomy: a bug (what loads must run), exit 70.
  const ErrorExit bare = error_exit(std::invalid_argument("vector::at"));
  CHECK(bare.code == 70);
  CHECK(bare.message == "error: internal error: vector::at");
  CHECK(error_exit(std::bad_alloc()).code == 70);
}

TEST_CASE("an exception escaping an event carries the time, the event's number and kind", "[kernel][error]") {
  Engine eng;
  const EventKind arrival = eng.register_kind("arrival");
  for (int i = 0; i < 3; ++i) eng.schedule_at(at(Duration::hours(1)), Phase::Arrival, [] {}, arrival);
  eng.schedule_at(at(Duration::days(3) + Duration::hours(4)), Phase::Arrival, [] { throw std::runtime_error("boom"); },
                  arrival);
  const EventError e = run_to_error(eng);
  CHECK(std::string(e.what()) == "boom");  // the handler's message, unchanged
  CHECK(e.time() == at(Duration::days(3) + Duration::hours(4)));
  CHECK(e.event() == 4);
  CHECK(e.event_kind() == "arrival");
  CHECK(e.entity().empty());
  CHECK(e.context() == "at t=76h, event #4 (arrival)");
  const ErrorExit x = error_exit(e);
  CHECK(x.code == 70);
  CHECK(x.message == "error: simulation failed at t=76h, event #4 (arrival): boom");
  // The original is kept.
  CHECK_THROWS_AS(std::rethrow_exception(e.cause()), std::runtime_error);
}

TEST_CASE("with_entity names what the failing event concerns, and the cause keeps its kind", "[kernel][error]") {
  Engine eng;
  const EventKind departure = eng.register_kind("departure");
  const std::string name = "c-17";
  eng.schedule_at(at(Duration::minutes(90)), Phase::Completion, [&] {
    with_entity([] { throw BadFigure("service time -3 s"); }, [&] { return "customer " + name; });
  }, departure);
  const EventError e = run_to_error(eng);
  CHECK(e.entity() == "customer c-17");
  CHECK(e.context() == "at t=1h30m, event #1 (departure, customer c-17)");
  const ErrorExit x = error_exit(e);
  CHECK(x.code == 65);  // the cause's kind: invalid input
  CHECK(x.message == "error: simulation failed at t=1h30m, event #1 (departure, customer c-17): service time -3 s");
}

TEST_CASE("with_entity: the innermost entity wins, and nothing changes when nothing throws", "[kernel][error]") {
  int ran = 0;
  with_entity([&] { ++ran; }, [] { return std::string("never asked"); });
  CHECK(ran == 1);
  try {
    with_entity([] { with_entity([] { throw std::logic_error("x"); }, [] { return std::string("inner"); }); },
                [] { return std::string("outer"); });
    FAIL("no exception");
  } catch (const EventError& e) {
    CHECK(e.entity() == "inner");
    CHECK_FALSE(e.has_event());  // outside an engine's run: no event to name
  }
}
