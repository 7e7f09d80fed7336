// SPDX-License-Identifier: Apache-2.0
// "Did you mean ...?" suggestions for every name a user types: keys, enum values, units, regions,
// zones, datacenters, instance types, accelerators, presets, services, jobs, summary metrics, commands
// and options. One helper for the loader and the command line, so every hint reads the same.
//
//   closest("horizn", {"seed", "horizon", "start"})  -> "horizon"
//   closest("qqq", {"seed", "horizon"})              -> std::nullopt
//   did_you_mean("us-esat-1", regions)               -> " (did you mean \"us-east-1\"?)" or ""
//
// Distance: optimal-string-alignment Damerau-Levenshtein (insert, delete, substitute, swap two
// neighbours; each costs 1), computed on ASCII-lowercased text so "hbm" finds "HBM" and "gbps" finds
// "Gbps". A candidate qualifies when distance <= max(2, word length / 3) and distance < word length
// (a two-letter word is not "close" to every other two-letter word). The smallest distance wins;
// ties go to the earlier candidate, so callers list the likelier spellings first.
#pragma once

#include <cstddef>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace fleetsim {

/// Edit distance as described above (case-insensitive).
size_t edit_distance(std::string_view a, std::string_view b);

/// The best candidate for a misspelled `word`, or nullopt when none is close enough.
std::optional<std::string> closest(std::string_view word, const std::vector<std::string>& candidates);
std::optional<std::string> closest(std::string_view word, std::initializer_list<std::string_view> candidates);

/// The suffix of an "unknown ..." message: " (did you mean \"NAME\"?)" with the closest candidate
/// quoted as quote() does, or "" when none is close enough.
std::string did_you_mean(std::string_view word, const std::vector<std::string>& candidates);
std::string did_you_mean(std::string_view word, std::initializer_list<std::string_view> candidates);

}  // namespace fleetsim
