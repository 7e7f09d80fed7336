// SPDX-License-Identifier: Apache-2.0
#include "models/scenario/diagnostics.hpp"

#include <algorithm>
#include <iterator>
#include <utility>

#include <fmt/format.h>

namespace fleetsim {

namespace {

bool all_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// Next reference token of a pointer starting at pos (which points at a '/'); advances pos.
std::string_view next_token(std::string_view p, size_t& pos) {
  const size_t start = pos + 1;
  size_t end = p.find('/', start);
  if (end == std::string_view::npos) end = p.size();
  pos = end;
  return p.substr(start, end - start);
}

// Rank of a pointer's top-level section in the order the loader reads them, which is the order names
// flow in: the fleet names regions and accelerators that failures, jobs, services and prices refer to.
// Sorting by it shows a cause (an unknown instance type in the fleet) before what it causes (no price
// for the datacenter's GPUs in /cost), which plain pointer order would put first. The whole file and
// the run's own keys (name, horizon, start, ..., and misspelt top-level keys) come first, among
// themselves in pointer order.
int section_rank(std::string_view pointer) {
  if (pointer.empty()) return 0;  // the whole file: a syntax error
  size_t pos = 0;
  const std::string_view first = next_token(pointer, pos);
  static constexpr std::string_view kSections[] = {"catalog",  "fleet",     "network", "failures",
                                                   "training", "inference", "cost",    "validation"};
  for (size_t k = 0; k < std::size(kSections); ++k)
    if (first == kSections[k]) return 2 + static_cast<int>(k);
  return 1;
}

bool diagnostic_less(const Diagnostic& a, const Diagnostic& b) {
  const int ra = section_rank(a.pointer), rb = section_rank(b.pointer);
  if (ra != rb) return ra < rb;
  if (a.pointer != b.pointer) return pointer_less(a.pointer, b.pointer);
  return a.message < b.message;
}

}  // namespace

bool pointer_less(std::string_view a, std::string_view b) {
  size_t i = 0;
  size_t j = 0;
  while (i < a.size() && j < b.size()) {
    const std::string_view ta = next_token(a, i);
    const std::string_view tb = next_token(b, j);
    if (ta == tb) continue;
    if (all_digits(ta) && all_digits(tb)) {
      // Compare as numbers without converting (indices may exceed any integer type in odd input).
      const auto strip = [](std::string_view s) {
        const size_t nz = s.find_first_not_of('0');
        return nz == std::string_view::npos ? std::string_view{} : s.substr(nz);
      };
      const std::string_view na = strip(ta);
      const std::string_view nb = strip(tb);
      if (na.size() != nb.size()) return na.size() < nb.size();
      if (na != nb) return na < nb;
      return ta < tb;  // "01" vs "1": equal numbers, order by text for a strict order
    }
    return ta < tb;
  }
  // One is a prefix of the other: the parent (shorter) first.
  return (a.size() - i) < (b.size() - j);
}

Diagnostics::Diagnostics(std::string file) : file_(std::move(file)) {}

void Diagnostics::error(std::string_view pointer, std::string_view message) {
  // A set, not a scan of items_: a file of 100,000 unknown keys took 19-26 s with the scan (issue 19).
  if (!items_.empty() && (items_.size() >= kMaxKept || kept_bytes_ + pointer.size() + message.size() > kMaxKeptBytes)) {
    ++dropped_;
    return;
  }
  if (!seen_.emplace(std::string(pointer), std::string(message)).second) return;
  kept_bytes_ += pointer.size() + message.size();
  items_.push_back(Diagnostic{std::string(pointer), std::string(message)});
}

void Diagnostics::warning(std::string_view pointer, std::string_view message) {
  Diagnostic d{std::string(pointer), std::string(message)};
  if (std::find(warnings_.begin(), warnings_.end(), d) != warnings_.end()) return;
  warnings_.push_back(std::move(d));
}

std::vector<Diagnostic> Diagnostics::sorted_warnings() const {
  std::vector<Diagnostic> out = warnings_;
  std::stable_sort(out.begin(), out.end(), diagnostic_less);
  return out;
}

std::string render_warnings(std::string_view file, const std::vector<Diagnostic>& warnings) {
  std::string out;
  for (const auto& w : warnings) {
    if (!out.empty()) out += '\n';
    out += w.pointer.empty() ? fmt::format("warning: {}: {}", file, w.message)
                             : fmt::format("warning: {}: {}: {}", file, w.pointer, w.message);
  }
  return out;
}

std::vector<Diagnostic> Diagnostics::sorted() const {
  std::vector<Diagnostic> out = items_;
  std::stable_sort(out.begin(), out.end(), diagnostic_less);
  return out;
}

std::string Diagnostics::render(size_t max_shown) const {
  const std::vector<Diagnostic> all = sorted();
  std::string out;
  const size_t shown = std::min(max_shown, all.size());
  for (size_t k = 0; k < shown; ++k) {
    if (!out.empty()) out += '\n';
    const Diagnostic& d = all[k];
    if (d.pointer.empty()) {
      out += fmt::format("error: {}: {}", file_, d.message);
    } else {
      out += fmt::format("error: {}: {}: {}", file_, d.pointer, d.message);
    }
  }
  if (size() > shown) {
    if (!out.empty()) out += '\n';
    const size_t more = size() - shown;
    out += fmt::format("error: {}: ... and {} more error{}", file_, more, more == 1 ? "" : "s");
  }
  return out;
}

void Diagnostics::throw_if_any() const {
  if (!empty()) throw ScenarioError(*this);
}

ScenarioError::ScenarioError(Diagnostics diagnostics)
    : std::runtime_error(diagnostics.render()), ErrorWithKind(ErrorKind::InvalidInput, /*headed=*/true),
      diagnostics_(std::move(diagnostics)) {}

InputError::InputError(std::string file, std::string_view reason)
    : std::runtime_error(fmt::format("error: {}: cannot read: {}", file, reason)),
      ErrorWithKind(ErrorKind::MissingInput, /*headed=*/true),
      file_(std::move(file)) {}

std::string quote(std::string_view text, size_t max_chars) {
  std::string body;
  bool cut = false;
  size_t i = 0;
  while (i < text.size()) {
    if (body.size() >= max_chars) {
      cut = true;
      break;
    }
    const auto c = static_cast<unsigned char>(text[i]);
    // Length of this UTF-8 sequence, so a cut never splits a character.
    size_t len = 1;
    if (c >= 0xF0) {
      len = 4;
    } else if (c >= 0xE0) {
      len = 3;
    } else if (c >= 0xC0) {
      len = 2;
    }
    len = std::min(len, text.size() - i);
    switch (c) {
      case '"': body += "\\\""; break;
      case '\\': body += "\\\\"; break;
      case '\n': body += "\\n"; break;
      case '\r': body += "\\r"; break;
      case '\t': body += "\\t"; break;
      default:
        if (c < 0x20) {
          body += fmt::format("\\u{:04x}", c);
        } else {
          body.append(text.substr(i, len));
        }
    }
    i += len;
  }
  return cut ? fmt::format("\"{}...\"", body) : fmt::format("\"{}\"", body);
}

}  // namespace fleetsim
