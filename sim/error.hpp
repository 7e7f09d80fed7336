// SPDX-License-Identifier: Apache-2.0
// fleetsim's errors: one taxonomy (ErrorKind) that every exception class fleetsim throws on purpose
// carries beside its std:: base (ErrorWithKind), and one function, error_exit(), that maps any
// exception to the command line's exit code and message (as DuckDB's ExceptionType does). An
// exception that escapes an event handler becomes an EventError that says where in the simulation it
// happened, as OMNeT++'s runtime errors do: the simulated time, the event's number and kind, and the
// entity a model names.
//
//   class BadInput : public std::invalid_argument, public ErrorWithKind { ... };   // InvalidInput: 65
//   try { ... } catch (const std::exception& e) {
//     const ErrorExit x = error_exit(e);   // {65, "error: ..."}
//     fmt::print(stderr, "{}\n", x.message);
//     return x.code;
//   }
//   // inside a model's event handler: a failure names the entity it concerns
//   with_entity([&] { depart(c); }, [&] { return "customer " + c.name; });
//   // -> "error: simulation failed at t=76h, event #123456 (departure, customer c-17): ..."
//
// The kernel names no entity itself: a model wraps its handlers with with_entity, which costs nothing
// unless something throws.
#pragma once

#include "sim/time.hpp"

#include <cstdint>
#include <exception>
#include <stdexcept>
#include <string>
#include <string_view>

namespace fleetsim {

/// What kind of failure an error is; each has one exit code (sysexits.h where it fits, documented in
/// README.md "Exit codes" and docs/robustness.md).
enum class ErrorKind : uint8_t {
  Usage,         ///< 2: a bad command line
  InvalidInput,  ///< 65 EX_DATAERR: the scenario (or another input's content) is invalid
  MissingInput,  ///< 66 EX_NOINPUT: an input is missing or unreadable
  Internal,      ///< 70 EX_SOFTWARE: a simulation or internal error (a bug: what loads must run)
  CannotCreate,  ///< 73 EX_CANTCREAT: an output cannot be created
  Io,            ///< 74 EX_IOERR: writing an output failed part-way
  Interrupted,   ///< 130: stopped by a signal
};

constexpr int exit_code_of(ErrorKind k) {
  switch (k) {
    case ErrorKind::Usage: return 2;
    case ErrorKind::InvalidInput: return 65;
    case ErrorKind::MissingInput: return 66;
    case ErrorKind::Internal: return 70;
    case ErrorKind::CannotCreate: return 73;
    case ErrorKind::Io: return 74;
    case ErrorKind::Interrupted: return 130;
  }
  return 70;
}

/// "usage", "invalid input", "missing input", "internal", "cannot create", "i/o", "interrupted".
std::string_view error_kind_name(ErrorKind k);

/// The taxonomy's part of an exception class, mixed in beside its std:: base (which keeps existing
/// `catch (const std::invalid_argument&)` sites working).
class ErrorWithKind {
 public:
  /// `headed`: what() is already a whole message with its own "error: ..." line(s) (rendered
  /// diagnostics), printed as it is.
  explicit ErrorWithKind(ErrorKind kind, bool headed = false) : kind_(kind), headed_(headed) {}
  virtual ~ErrorWithKind() = default;
  ErrorKind error_kind() const { return kind_; }
  bool headed() const { return headed_; }

 private:
  ErrorKind kind_;
  bool headed_;
};

/// An exception escaped an event handler. what() is the handler's message unchanged (so code that
/// matched it still does); context() says where it happened; cause() is the original exception. The
/// kind is the original's (Internal for an exception outside the taxonomy).
class EventError : public std::runtime_error, public ErrorWithKind {
 public:
  /// Made from the exception in flight (std::current_exception()), with the entity it concerns (may be
  /// empty); the engine adds the event with set_event().
  static EventError from_current(std::string entity);

  bool has_event() const { return event_ != 0; }
  void set_event(SimTime time, uint64_t event, std::string_view kind);
  SimTime time() const { return time_; }
  uint64_t event() const { return event_; }  ///< 1 for the first event the engine executed
  const std::string& event_kind() const { return kind_; }
  const std::string& entity() const { return entity_; }
  const std::exception_ptr& cause() const { return cause_; }
  /// "at t=76h, event #123456 (departure, customer c-17)"; the time as the outputs write times
  /// (format_duration: exact, parseable with the scenario syntax).
  std::string context() const;

 private:
  EventError(std::string message, ErrorKind kind, bool headed, std::string entity, std::exception_ptr cause);
  SimTime time_;
  uint64_t event_ = 0;
  std::string kind_;
  std::string entity_;
  std::exception_ptr cause_;
};

/// Rethrows the exception in flight as an EventError concerning `entity`; one that already names an
/// entity (from a handler nested deeper) is rethrown as it is.
[[noreturn]] void rethrow_with_entity(std::string entity);

/// Runs `body`; an exception escaping it is marked as concerning `entity()` (called only then).
template <class Body, class Entity>
void with_entity(Body&& body, Entity&& entity) {
  try {
    body();
  } catch (...) {
    rethrow_with_entity(entity());
  }
}

/// What the command line does with an error.
struct ErrorExit {
  int code = 70;
  std::string message;  ///< to print on stderr: "error: ..." (possibly several lines)
  ErrorKind kind = ErrorKind::Internal;
};

/// The one mapping from an exception to an exit code and message, used by every command: the kind
/// of an ErrorWithKind, Internal for anything else ("error: internal error: ..."); an EventError's
/// message says where in the simulation it failed.
ErrorExit error_exit(const std::exception& e);

}  // namespace fleetsim
