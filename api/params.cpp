#include "api/params.hpp"

#include <cctype>
#include <charconv>
#include <ctime>

namespace edgemes::api {

namespace {

bool digits(const std::string& s, size_t pos, size_t n, int& out) {
  if (pos + n > s.size())
    return false;
  int v = 0;
  for (size_t i = pos; i < pos + n; ++i) {
    if (!std::isdigit(static_cast<unsigned char>(s[i])))
      return false;
    v = v * 10 + (s[i] - '0');
  }
  out = v;
  return true;
}

int days_in_month(int year, int month) {
  static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  return month == 2 && leap ? 29 : days[month - 1];
}

std::optional<int64_t> parse_rfc3339(const std::string& s) {
  int year, month, day, hour, minute, second;
  if (!digits(s, 0, 4, year) || s.size() < 20 || s[4] != '-' || !digits(s, 5, 2, month) ||
      s[7] != '-' || !digits(s, 8, 2, day) || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') ||
      !digits(s, 11, 2, hour) || s[13] != ':' || !digits(s, 14, 2, minute) || s[16] != ':' ||
      !digits(s, 17, 2, second))
    return std::nullopt;
  if (month < 1 || month > 12 || day < 1 || day > days_in_month(year, month) || hour > 23 ||
      minute > 59 || second > 60)
    return std::nullopt;
  size_t pos = 19;
  int64_t millis = 0;
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    size_t start = pos;
    int64_t scale = 100;
    while (pos < s.size() && std::isdigit(static_cast<unsigned char>(s[pos]))) {
      millis += (s[pos] - '0') * scale;
      scale /= 10;
      ++pos;
    }
    if (pos == start || pos - start > 9)
      return std::nullopt;
  }
  int64_t offset_s = 0;
  if (pos < s.size() && (s[pos] == 'Z' || s[pos] == 'z')) {
    ++pos;
  } else if (pos < s.size() && (s[pos] == '+' || s[pos] == '-')) {
    int oh, om;
    if (!digits(s, pos + 1, 2, oh) || pos + 3 >= s.size() || s[pos + 3] != ':' ||
        !digits(s, pos + 4, 2, om) || oh > 23 || om > 59)
      return std::nullopt;
    offset_s = (oh * 3600 + om * 60) * (s[pos] == '+' ? 1 : -1);
    pos += 6;
  } else {
    return std::nullopt;
  }
  if (pos != s.size())
    return std::nullopt;
  std::tm tm{};
  tm.tm_year = year - 1900;
  tm.tm_mon = month - 1;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = minute;
  tm.tm_sec = second;
  int64_t secs = static_cast<int64_t>(timegm(&tm)) - offset_s;
  int64_t ms = secs * 1000 + millis;
  if (ms < 0 || ms > max_epoch_ms)
    return std::nullopt;
  return ms;
}

} // namespace

std::optional<int64_t> parse_int(const std::string& text, int64_t min, int64_t max) {
  if (text.empty() || text.size() > 20)
    return std::nullopt;
  int64_t v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc{} || end != text.data() + text.size() || v < min || v > max)
    return std::nullopt;
  return v;
}

std::optional<int64_t> parse_time(const std::string& text) {
  if (!text.empty() && std::isdigit(static_cast<unsigned char>(text[0])) &&
      text.find_first_not_of("0123456789") == std::string::npos)
    return parse_int(text, 0, max_epoch_ms);
  return parse_rfc3339(text);
}

std::optional<storage::aggregate> parse_aggregate(const std::string& text) {
  using storage::aggregate;
  for (auto a : {aggregate::avg, aggregate::min, aggregate::max, aggregate::sum,
                 aggregate::count, aggregate::last})
    if (text == aggregate_name(a))
      return a;
  return std::nullopt;
}

const char* aggregate_name(storage::aggregate agg) {
  switch (agg) {
    case storage::aggregate::avg: return "avg";
    case storage::aggregate::min: return "min";
    case storage::aggregate::max: return "max";
    case storage::aggregate::sum: return "sum";
    case storage::aggregate::count: return "count";
    case storage::aggregate::last: return "last";
  }
  return "?";
}

bool valid_ident(const std::string& text) {
  if (text.empty() || text.size() > 64)
    return false;
  for (unsigned char c : text)
    if (!std::isalnum(c) && c != '_' && c != '.' && c != '-')
      return false;
  return true;
}

namespace {

std::string percent_decode(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out += ' ';
    } else if (s[i] == '%' && i + 2 < s.size() && std::isxdigit(static_cast<unsigned char>(s[i + 1])) &&
               std::isxdigit(static_cast<unsigned char>(s[i + 2]))) {
      out += static_cast<char>(std::stoi(s.substr(i + 1, 2), nullptr, 16));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

} // namespace

std::multimap<std::string, std::string> target_query(const std::string& target) {
  std::multimap<std::string, std::string> out;
  const auto q = target.find('?');
  if (q == std::string::npos)
    return out;
  size_t at = q + 1;
  while (at <= target.size()) {
    size_t end = target.find('&', at);
    if (end == std::string::npos)
      end = target.size();
    const std::string pair = target.substr(at, end - at);
    if (!pair.empty()) {
      const auto eq = pair.find('=');
      out.emplace(percent_decode(pair.substr(0, eq)),
                  eq == std::string::npos ? "" : percent_decode(pair.substr(eq + 1)));
    }
    at = end + 1;
  }
  return out;
}

query_params::query_params(const std::multimap<std::string, std::string>& raw,
                           const std::set<std::string>& allowed) {
  for (const auto& [name, value] : raw) {
    if (!allowed.count(name)) {
      std::string list;
      for (const auto& a : allowed)
        list += (list.empty() ? "" : ", ") + a;
      std::string shown = name.size() > 40 ? name.substr(0, 40) + "..." : name;
      error_ = param_error{shown, "unknown parameter '" + shown + "'" +
                                      (list.empty() ? " (this endpoint takes none)"
                                                    : " (expected one of: " + list + ")")};
      return;
    }
    if (!values_.emplace(name, value).second) {
      error_ = param_error{name, "parameter '" + name + "' given more than once"};
      return;
    }
  }
}

std::optional<param_error> int_param(const query_params& q, const char* name, int64_t min,
                                     int64_t max, int64_t& out) {
  auto text = q.get(name);
  if (!text)
    return std::nullopt;
  auto v = parse_int(*text, min, max);
  if (!v)
    return param_error{name, std::string("bad '") + name + "': expected an integer " +
                                 std::to_string(min) + ".." + std::to_string(max)};
  out = *v;
  return std::nullopt;
}

std::optional<std::string> query_params::get(const std::string& name) const {
  auto it = values_.find(name);
  if (it == values_.end())
    return std::nullopt;
  return it->second;
}

std::optional<param_error> parse_range(const query_params& q, int64_t now_ms, time_range& out) {
  const char* expect = "expected epoch milliseconds or an RFC 3339 time like 2026-11-25T16:30:00Z";
  auto to = q.get("to");
  auto from = q.get("from");
  out.to_ms = now_ms;
  if (to) {
    auto v = parse_time(*to);
    if (!v)
      return param_error{"to", std::string{"bad 'to': "} + expect};
    out.to_ms = *v;
  }
  out.from_ms = out.to_ms - 3600 * 1000;
  if (from) {
    auto v = parse_time(*from);
    if (!v)
      return param_error{"from", std::string{"bad 'from': "} + expect};
    out.from_ms = *v;
  }
  if (out.from_ms < 0)
    out.from_ms = 0;
  if (out.from_ms >= out.to_ms)
    return param_error{"from", "'from' must be before 'to'"};
  return std::nullopt;
}

} // namespace edgemes::api
