// SPDX-License-Identifier: Apache-2.0
#include "sim/jsonl_writer.hpp"

#include "sim/json_out.hpp"

#include <stdexcept>

namespace fleetsim {

JsonObjectWriter::JsonObjectWriter(std::string& out) : out_(&out) { out_->push_back('{'); }

void JsonObjectWriter::key(std::string_view k) {
  if (!first_) out_->push_back(',');
  first_ = false;
  append_json_string(*out_, k);
  out_->push_back(':');
}

JsonObjectWriter& JsonObjectWriter::field(std::string_view k, std::string_view value) {
  key(k);
  append_json_string(*out_, value);
  return *this;
}

JsonObjectWriter& JsonObjectWriter::field(std::string_view k, bool value) {
  key(k);
  *out_ += value ? "true" : "false";
  return *this;
}

JsonObjectWriter& JsonObjectWriter::field(std::string_view k, double value) {
  key(k);
  append_json_double(*out_, value);
  return *this;
}

JsonObjectWriter& JsonObjectWriter::field_int(std::string_view k, int64_t value) {
  key(k);
  append_int(*out_, value);
  return *this;
}

JsonObjectWriter& JsonObjectWriter::field_uint(std::string_view k, uint64_t value) {
  key(k);
  append_uint(*out_, value);
  return *this;
}

JsonObjectWriter& JsonObjectWriter::field_null(std::string_view k) {
  key(k);
  *out_ += "null";
  return *this;
}

JsonObjectWriter& JsonObjectWriter::field_raw(std::string_view k, std::string_view json) {
  key(k);
  *out_ += json;
  return *this;
}

void JsonObjectWriter::close() { out_->push_back('}'); }

JsonlWriter::JsonlWriter(std::filesystem::path path, size_t flush_bytes)
    : file_(std::move(path)), flush_bytes_(flush_bytes) {
  buffer_.reserve(flush_bytes_ + 1024);
}

std::string& JsonlWriter::begin_line() {
  if (in_line_) throw std::logic_error("JsonlWriter::begin_line while a line is open: " + path().string());
  if (buffer_.size() >= flush_bytes_) {
    file_.write(buffer_);
    buffer_.clear();
  }
  line_start_ = buffer_.size();
  in_line_ = true;
  return buffer_;
}

void JsonlWriter::end_line() {
  if (!in_line_) return;
  buffer_.push_back('\n');
  in_line_ = false;
  ++lines_;
}

void JsonlWriter::discard_line() noexcept {
  if (!in_line_) return;
  buffer_.resize(line_start_);
  in_line_ = false;
}

void JsonlWriter::write_line(std::string_view json_object) {
  begin_line() += json_object;
  end_line();
}

void JsonlWriter::commit() {
  if (in_line_) throw std::logic_error("JsonlWriter::commit while a line is open: " + path().string());
  file_.write(buffer_);
  buffer_.clear();
  file_.commit();
}

}  // namespace fleetsim
