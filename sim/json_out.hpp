// SPDX-License-Identifier: Apache-2.0
// Text-formatting primitives shared by the output writers (CSV, JSON Lines, later the trace writer):
// integers, shortest round-trip doubles and JSON strings, appended to a std::string without temporaries.
//
//   std::string line;
//   append_json_string(line, "say \"hi\"\n");   // "say \"hi\"\n" with the quotes and escapes
//   append_double(line, 0.1);                    // 0.1  (shortest text that reads back as the same double)
//
// Doubles use fmt's "{}" (Dragonbox): the shortest decimal that round-trips, locale-independent, the same
// on every machine, so reruns are byte-identical. Examples: 1.0 -> "1", 1e20 -> "1e+20", -0.0 -> "-0".
// Strings are expected to be UTF-8 and are passed through byte for byte apart from the escapes JSON
// requires (quote, backslash, control characters below U+0020).
#pragma once

#include <fmt/format.h>

#include <charconv>
#include <cmath>
#include <cstdint>
#include <string>
#include <string_view>

namespace fleetsim {

inline void append_int(std::string& out, int64_t v) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  (void)ec;  // 24 bytes always suffice for int64
  out.append(buf, end);
}

inline void append_uint(std::string& out, uint64_t v) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  (void)ec;
  out.append(buf, end);
}

/// Shortest round-trip text of v; non-finite values come out as fmt writes them ("nan", "inf", "-inf").
inline void append_double(std::string& out, double v) {
  char buf[40];  // the longest shortest-form double is 24 characters ("-2.2250738585072014e-308")
  auto r = fmt::format_to_n(buf, sizeof buf, "{}", v);
  out.append(buf, r.out);
}

/// A JSON number, or null for NaN and infinities (JSON has no spelling for them).
inline void append_json_double(std::string& out, double v) {
  if (std::isfinite(v)) {
    append_double(out, v);
  } else {
    out += "null";
  }
}

/// A JSON string literal with its quotes. Escapes ", \ and U+0000..U+001F (short forms where JSON has
/// them); every other byte, including UTF-8 sequences and DEL, is copied unchanged.
inline void append_json_string(std::string& out, std::string_view s) {
  out += '"';
  size_t run = 0;  // start of the pending run of bytes that need no escape
  for (size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    out.append(s.data() + run, i - run);
    run = i + 1;
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default: {
        static constexpr char hex[] = "0123456789abcdef";
        const char esc[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 0xf]};
        out.append(esc, sizeof esc);
      }
    }
  }
  out.append(s.data() + run, s.size() - run);
  out += '"';
}

}  // namespace fleetsim
