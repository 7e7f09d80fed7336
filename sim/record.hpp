// SPDX-License-Identifier: Apache-2.0
// Typed records: what models publish (a table's row, an event, a summary), each declared once.
//
// A record is a plain struct with ONE description of its outputs: its name (a table's default name,
// an event's kind or a summary's key) and its fields, each a name and a member, in output order. The
// kernel's writers make everything else from it: the CSV header and row (Recorder::table<R>, row),
// the events.jsonl line (Recorder::publish), the summary.json object (Recorder::summarize,
// record_json); listeners get the struct itself (Recorder::events_of<R>, rows_of<R>), so a trace or a
// count reads `e.job`, not `find("job")`. A model never formats text; a column is named in one place.
//
//   struct JobDone {                                   // a model's records header declares it once
//     static constexpr std::string_view kind = "job_done";
//     std::string_view job;
//     double tokens = 0;
//     uint64_t interruptions = 0;
//     static constexpr auto fields() {
//       return std::tuple{field("job", &JobDone::job), field("tokens", &JobDone::tokens),
//                         field("interruptions", &JobDone::interruptions)};
//     }
//   };
//   recorder.publish(now, JobDone{.job = name, .tokens = t, .interruptions = n});
//   // events.jsonl: {"time_ns":..,"time":"..","kind":"job_done","job":"gpt","tokens":..,"interruptions":3}
//   recorder.events_of<JobDone>().connect([](SimTime t, const JobDone& e) { ... e.job ... });
//
// Checked at compile time (check_record, asserted wherever a record is used): every data member is
// described exactly once (the count of the struct's members, found by aggregate initialisation,
// equals the count of fields), no two fields share a name or a member. A member added without a
// field, or a field listed twice, does not compile (tests/sim/test_record.cpp, tests/compile_fail).
//
// Member types and what they become (cells as in sim/csv_writer.hpp, JSON as nlohmann writes them):
//   integers, double, bool, std::string_view, std::string   the value;
//   SimTime, Duration                                          integer nanoseconds;
//   Nullable<T>                                                null when empty (an empty CSV field);
//   in summaries also: a nested record (an object), Keyed<T> (an object keyed by names, in the
//   order nlohmann sorts keys), std::vector<T> (an array), and omit_empty fields (absent when empty).
// Event and row records hold string_views into the publisher's state, valid during the call: a
// published record costs no allocation.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

namespace fleetsim {

/// A value that may be absent: written as null (JSON) or an empty field (CSV). Deliberately not
/// std::optional: its converting constructor would defeat the member count of check_record.
template <class T>
struct Nullable {
  bool has = false;
  T value{};
  static constexpr Nullable none() { return {}; }
  static constexpr Nullable of(T v) { return Nullable{true, v}; }
  constexpr explicit operator bool() const { return has; }
};

/// Named entries of a summary object, in publication order (the JSON object sorts them).
template <class T>
struct Keyed {
  std::vector<std::pair<std::string, T>> entries;
  T& operator[](std::string name) { return entries.emplace_back(std::move(name), T{}).second; }
  bool empty() const { return entries.empty(); }
};

/// One field of a record: its output name and its member. omit_empty (summaries only): a Nullable
/// that is empty leaves the key out instead of writing null.
template <class R, class M>
struct Field {
  using record_type = R;
  using member_type = M;
  std::string_view name;
  M R::*member;
  bool omit_empty = false;
  constexpr const M& get(const R& r) const { return r.*member; }
};

template <class R, class M>
constexpr Field<R, M> field(std::string_view name, M R::*member) {
  return Field<R, M>{name, member, false};
}
/// A summary key present only when the Nullable has a value.
template <class R, class M>
constexpr Field<R, M> field_if(std::string_view name, M R::*member) {
  return Field<R, M>{name, member, true};
}

namespace record_detail {

// Converts to any member type; T{Any{}, Any{}, ...} compiles for as many arguments as T has members.
struct Any {
  template <class T>
  constexpr operator T() const;  // never defined: unevaluated use only
};

template <class T, class... A>
concept brace_init = requires { T{std::declval<A>()...}; };

template <class T, class... A>
constexpr size_t member_count() {
  if constexpr (brace_init<T, A..., Any>) {
    return member_count<T, A..., Any>();
  } else {
    return sizeof...(A);
  }
}

template <class R>
using fields_t = decltype(R::fields());

}  // namespace record_detail

/// A record: an aggregate with a static constexpr fields() tuple of Field<R, ...>.
template <class R>
concept Record = std::is_aggregate_v<R> && requires { R::fields(); };

/// Number of fields of a record.
template <Record R>
constexpr size_t field_count() {
  return std::tuple_size_v<record_detail::fields_t<R>>;
}

/// Calls f(field) for every field of R, in order.
template <Record R, class F>
constexpr void for_each_field(F&& f) {
  std::apply([&](const auto&... fs) { (f(fs), ...); }, R::fields());
}

/// The field names of R in order: a table's CSV header, the keys of an event.
template <Record R>
constexpr std::array<std::string_view, field_count<R>()> field_names() {
  std::array<std::string_view, field_count<R>()> names{};
  size_t i = 0;
  for_each_field<R>([&](const auto& f) { names[i++] = f.name; });
  return names;
}

/// The output name of a member (`name_of(&CostSample::total_usd)` is "total_usd"): readers of the
/// files (the report) name a column through the record rather than by retyping it. Empty if the
/// member is not described (a constant expression using it then fails the caller's static_assert).
template <Record R, class M>
constexpr std::string_view name_of(M R::*member) {
  std::string_view out;
  for_each_field<R>([&](const auto& f) {
    if constexpr (std::is_same_v<typename std::remove_cvref_t<decltype(f)>::member_type, M>) {
      if (f.member == member) out = f.name;
    }
  });
  return out;
}

/// name_of for a member given as a template argument, checked at compile time:
/// `member_name<&CostSample::total_usd>()` is "total_usd"; a member without a field does not compile.
template <auto Member>
constexpr std::string_view member_name() {
  constexpr std::string_view n = name_of(Member);
  static_assert(!n.empty(), "the member has no field in its record's fields()");
  return n;
}

/// True when R describes each of its members exactly once under distinct names (see the header).
template <Record R>
constexpr bool check_record() {
  constexpr auto names = field_names<R>();
  for (size_t i = 0; i < names.size(); ++i) {
    if (names[i].empty()) return false;
    for (size_t j = i + 1; j < names.size(); ++j)
      if (names[i] == names[j]) return false;
  }
  // Distinct members: a member described twice with another forgotten keeps the count right.
  bool distinct = true;
  const auto fs = R::fields();
  std::apply(
      [&](const auto&... a) {
        auto one = [&](const auto& x) {
          size_t same = 0;
          auto cmp = [&](const auto& y) {
            if constexpr (std::is_same_v<decltype(x.member), decltype(y.member)>) same += x.member == y.member ? 1 : 0;
          };
          (cmp(a), ...);
          if (same != 1) distinct = false;
        };
        (one(a), ...);
      },
      fs);
  return distinct && record_detail::member_count<R>() == field_count<R>();
}

/// Asserts check_record<R>() with a message naming the rule; every writer uses it.
template <Record R>
constexpr void assert_record() {
  static_assert(check_record<R>(),
                "a record must describe each data member exactly once in fields(), under distinct names "
                "(sim/record.hpp)");
}

}  // namespace fleetsim
