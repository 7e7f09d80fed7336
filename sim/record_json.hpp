// SPDX-License-Identifier: Apache-2.0
// A record (sim/record.hpp) as a JSON object: the summary writer's half of the record description.
//
//   nlohmann::json j = record_json(TrainingSummary{...});   // {"ettr":0.93,"jobs":{...},...}
//
// Each field becomes a key with the field's name; values as listed in sim/record.hpp (SimTime and
// Duration as integer nanoseconds, an empty Nullable as null or, for field_if, no key at all, a
// nested record as an object, Keyed<T> as an object of its entries, std::vector<T> as an array).
// nlohmann::json sorts keys, so summary.json does not depend on the order of fields().
#pragma once

#include "sim/record.hpp"
#include "sim/time.hpp"

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace fleetsim {

template <Record R>
nlohmann::json record_json(const R& r);

namespace record_detail {

template <class T>
struct is_nullable : std::false_type {};
template <class T>
struct is_nullable<Nullable<T>> : std::true_type {};
template <class T>
struct is_keyed : std::false_type {};
template <class T>
struct is_keyed<Keyed<T>> : std::true_type {};
template <class T>
struct is_vector : std::false_type {};
template <class T, class A>
struct is_vector<std::vector<T, A>> : std::true_type {};

template <class T>
nlohmann::json json_value(const T& v) {
  if constexpr (Record<T>) {
    return record_json(v);
  } else if constexpr (is_nullable<T>::value) {
    return v.has ? json_value(v.value) : nlohmann::json(nullptr);
  } else if constexpr (is_keyed<T>::value) {
    nlohmann::json o = nlohmann::json::object();
    for (const auto& [name, x] : v.entries) o[name] = json_value(x);
    return o;
  } else if constexpr (is_vector<T>::value) {
    nlohmann::json a = nlohmann::json::array();
    for (const auto& x : v) a.push_back(json_value(x));
    return a;
  } else if constexpr (std::is_same_v<T, SimTime> || std::is_same_v<T, Duration>) {
    return v.ticks();
  } else if constexpr (std::is_same_v<T, std::string_view>) {
    return std::string(v);
  } else {
    return nlohmann::json(v);
  }
}

}  // namespace record_detail

template <Record R>
nlohmann::json record_json(const R& r) {
  assert_record<R>();
  nlohmann::json o = nlohmann::json::object();
  for_each_field<R>([&](const auto& f) {
    const auto& v = f.get(r);
    if constexpr (record_detail::is_nullable<std::remove_cvref_t<decltype(v)>>::value) {
      if (f.omit_empty && !v.has) return;
    }
    o[std::string(f.name)] = record_detail::json_value(v);
  });
  return o;
}

}  // namespace fleetsim
