// api/json_out: the API's one JSON writer: every reply body is written with it.
//
// /floor and /floor/sparklines are asked every 1-2 s by each wall screen and
// hold a few thousand values for 200 machines. Built as an nlohmann tree, 70 %
// of their cost was allocating, serialising and freeing the tree's nodes;
// appended straight to one string they cost a fraction of that (docs/API.md,
// "Cost"). The output is the same JSON the tree would give: doubles keep a
// ".0" when whole (1644.0), strings are escaped by nlohmann itself whenever
// they hold anything but plain printable ASCII (so invalid UTF-8 from a
// machine is replaced, never thrown on).
//
// The other replies use it too, so the API has one writer and one set of
// formatting rules; nlohmann stays for parsing and for escaping inside it.
//
// Use: key() before each member of an object; commas are placed by the writer.
// Not thread-safe; one per reply.
#pragma once

#include <nlohmann/json.hpp>

#include <charconv>
#include <cmath>
#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace edgemes::api {

class json_out {
public:
  json_out() { out_.reserve(4096); }

  json_out& begin_object() { return open('{'); }
  json_out& end_object() { return close('}'); }
  json_out& begin_array() { return open('['); }
  json_out& end_array() { return close(']'); }

  // A member name; the next value (or begin_*) is its value.
  json_out& key(const char* name) {
    separate();
    out_ += '"';
    out_ += name;  // REQUIRES: a plain ASCII literal
    out_ += "\":";
    after_key_ = true;
    return *this;
  }

  // A member name from data (a metric name): escaped like any string.
  json_out& key(const std::string& name) {
    separate();
    string(name);
    out_ += ':';
    after_key_ = true;
    return *this;
  }

  json_out& value(const std::string& s) {
    separate();
    string(s);
    return *this;
  }
  json_out& value(const char* s) { return value(std::string(s)); }
  // Any integer (int64_t, int, size_t ...); bool has its own overload.
  template <typename T,
            std::enable_if_t<std::is_integral_v<T> && !std::is_same_v<T, bool>, int> = 0>
  json_out& value(T v) {
    separate();
    out_ += std::to_string(v);
    return *this;
  }
  json_out& value(double v) {
    if (!std::isfinite(v))
      return null();  // as nlohmann writes NaN and infinities: JSON has no such numbers
    separate();
    char buf[32];
    auto r = std::to_chars(buf, buf + sizeof buf, v);  // shortest round-trip form
    std::string_view text(buf, static_cast<size_t>(r.ptr - buf));
    out_ += text;
    if (text.find_first_of(".eEn") == std::string_view::npos)
      out_ += ".0";  // a double stays a double, as nlohmann writes it
    return *this;
  }
  json_out& value(bool v) {
    separate();
    out_ += v ? "true" : "false";
    return *this;
  }
  json_out& null() {
    separate();
    out_ += "null";
    return *this;
  }
  // Epoch ms, null when 0 (never).
  json_out& ms_or_null(int64_t ms) { return ms > 0 ? value(ms) : null(); }
  // A string, null when empty.
  json_out& text_or_null(const std::string& s) { return s.empty() ? null() : value(s); }

  std::string take() { return std::move(out_); }

private:
  json_out& open(char c) {
    separate();
    out_ += c;
    first_.push_back(true);
    return *this;
  }
  json_out& close(char c) {
    out_ += c;
    first_.pop_back();
    return *this;
  }
  // A comma before every element but the first of its container.
  void separate() {
    if (after_key_) {
      after_key_ = false;
      return;
    }
    if (first_.empty())
      return;
    if (!first_.back())
      out_ += ',';
    first_.back() = false;
  }
  void string(const std::string& s) {
    bool plain = true;
    for (unsigned char c : s)
      plain = plain && c >= 0x20 && c < 0x7f && c != '"' && c != '\\';
    if (!plain) {
      out_ += nlohmann::json(s).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
      return;
    }
    out_ += '"';
    out_ += s;
    out_ += '"';
  }

  std::string out_;
  std::vector<bool> first_;  // per open container: nothing written in it yet
  bool after_key_ = false;
};

} // namespace edgemes::api
