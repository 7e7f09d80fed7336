// SPDX-License-Identifier: Apache-2.0
// The error taxonomy's functions (error.hpp).
#include "sim/error.hpp"

#include <fmt/format.h>

#include <new>
#include <utility>

namespace fleetsim {

std::string_view error_kind_name(ErrorKind k) {
  switch (k) {
    case ErrorKind::Usage: return "usage";
    case ErrorKind::InvalidInput: return "invalid input";
    case ErrorKind::MissingInput: return "missing input";
    case ErrorKind::Internal: return "internal";
    case ErrorKind::CannotCreate: return "cannot create";
    case ErrorKind::Io: return "i/o";
    case ErrorKind::Interrupted: return "interrupted";
  }
  return "internal";
}

EventError::EventError(std::string message, ErrorKind kind, bool headed, std::string entity, std::exception_ptr cause)
    : std::runtime_error(std::move(message)), ErrorWithKind(kind, headed), entity_(std::move(entity)), cause_(std::move(cause)) {}

EventError EventError::from_current(std::string entity) {
  const std::exception_ptr cause = std::current_exception();
  try {
    std::rethrow_exception(cause);
  } catch (const std::exception& e) {
    const auto* k = dynamic_cast<const ErrorWithKind*>(&e);
    return EventError(e.what(), k != nullptr ? k->error_kind() : ErrorKind::Internal, k != nullptr && k->headed(),
                      std::move(entity), cause);
  } catch (...) {
    return EventError("an exception that is not a std::exception", ErrorKind::Internal, false, std::move(entity), cause);
  }
}

void EventError::set_event(SimTime time, uint64_t event, std::string_view kind) {
  time_ = time;
  event_ = event;
  kind_ = std::string(kind);
}

std::string EventError::context() const {
  std::string out = fmt::format("at t={}, event #{} ({}", format_duration(time_.since_epoch()), event_, kind_);
  if (!entity_.empty()) out += ", " + entity_;
  out += ")";
  return out;
}

void rethrow_with_entity(std::string entity) {
  try {
    throw;
  } catch (const EventError& e) {
    if (!e.entity().empty()) throw;
  } catch (...) {
  }
  throw EventError::from_current(std::move(entity));
}

ErrorExit error_exit(const std::exception& e) {
  ErrorExit x;
  if (dynamic_cast<const std::bad_alloc*>(&e) != nullptr) {
    x.message = fmt::format("error: out of memory ({})", e.what());
    return x;
  }
  const auto* k = dynamic_cast<const ErrorWithKind*>(&e);
  x.kind = k != nullptr ? k->error_kind() : ErrorKind::Internal;
  x.code = exit_code_of(x.kind);
  if (const auto* ev = dynamic_cast<const EventError*>(&e)) {
    x.message = fmt::format("error: simulation failed {}: {}", ev->context(), e.what());
  } else if (k == nullptr) {
    x.message = fmt::format("error: internal error: {}", e.what());
  } else if (k->headed()) {
    x.message = e.what();
  } else {
    x.message = fmt::format("error: {}", e.what());
  }
  return x;
}

}  // namespace fleetsim
