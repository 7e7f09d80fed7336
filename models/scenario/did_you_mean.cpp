// SPDX-License-Identifier: Apache-2.0
#include "models/scenario/did_you_mean.hpp"

#include "models/scenario/diagnostics.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace fleetsim {

namespace {

char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

template <class Range>
std::optional<std::string> closest_impl(std::string_view word, const Range& candidates) {
  const size_t limit = std::max<size_t>(2, word.size() / 3);
  std::optional<std::string> best;
  size_t best_distance = 0;
  for (const auto& c : candidates) {
    const size_t d = edit_distance(word, c);
    if (d > limit || d >= word.size()) continue;
    if (!best || d < best_distance) {
      best = std::string(c);
      best_distance = d;
    }
  }
  return best;
}

}  // namespace

size_t edit_distance(std::string_view a, std::string_view b) {
  // Three rolling rows of the OSA dynamic programme: previous-but-one, previous, current.
  const size_t n = b.size();
  std::vector<size_t> prev2(n + 1);
  std::vector<size_t> prev(n + 1);
  std::vector<size_t> cur(n + 1);
  for (size_t j = 0; j <= n; ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= n; ++j) {
      const size_t cost = lower(a[i - 1]) == lower(b[j - 1]) ? 0 : 1;
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost});
      if (i > 1 && j > 1 && lower(a[i - 1]) == lower(b[j - 2]) && lower(a[i - 2]) == lower(b[j - 1])) {
        cur[j] = std::min(cur[j], prev2[j - 2] + 1);
      }
    }
    std::swap(prev2, prev);
    std::swap(prev, cur);
  }
  return prev[n];
}

std::optional<std::string> closest(std::string_view word, const std::vector<std::string>& candidates) {
  return closest_impl(word, candidates);
}

std::optional<std::string> closest(std::string_view word, std::initializer_list<std::string_view> candidates) {
  return closest_impl(word, candidates);
}

std::string did_you_mean(std::string_view word, const std::vector<std::string>& candidates) {
  const auto best = closest(word, candidates);
  return best ? fmt::format(" (did you mean {}?)", quote(*best)) : std::string();
}

std::string did_you_mean(std::string_view word, std::initializer_list<std::string_view> candidates) {
  const auto best = closest(word, candidates);
  return best ? fmt::format(" (did you mean {}?)", quote(*best)) : std::string();
}

}  // namespace fleetsim
