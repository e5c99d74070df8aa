// adapters/json_message: one pushed JSON payload -> a reading, and the
// timestamp syntax it accepts (epoch milliseconds or ISO-8601 with a zone).
// decode() never throws: whatever arrives becomes a reading or an error text.
#include "adapters/mqtt.hpp"

#include <cctype>
#include <cmath>

namespace edgemes::adapters {

namespace {

// Latest accepted time: 9999-12-31T23:59:59.999Z.
constexpr int64_t kMaxEpochMs = 253402300799999;

// Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar (H. Hinnant's algorithm).
int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

bool leap(int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

// Reads exactly `n` digits at text[pos]; false if they are not all digits.
bool digits(std::string_view text, size_t& pos, size_t n, int& out) {
  if (pos + n > text.size())
    return false;
  out = 0;
  for (size_t i = 0; i < n; ++i) {
    const char c = text[pos + i];
    if (!std::isdigit(static_cast<unsigned char>(c)))
      return false;
    out = out * 10 + (c - '0');
  }
  pos += n;
  return true;
}

bool expect(std::string_view text, size_t& pos, char c) {
  if (pos >= text.size() || text[pos] != c)
    return false;
  ++pos;
  return true;
}

std::string one_line(std::string_view text, size_t max) {
  std::string out;
  for (char c : text) {
    if (out.size() >= max) {
      out += "...";
      break;
    }
    out += (c == '\n' || c == '\r' || c == '\t') ? ' ' : c;
  }
  return out;
}

} // namespace

std::optional<int64_t> parse_timestamp(std::string_view text) {
  size_t pos = 0;
  int year, month, day, hour, minute, second;
  if (!digits(text, pos, 4, year) || !expect(text, pos, '-') || !digits(text, pos, 2, month) ||
      !expect(text, pos, '-') || !digits(text, pos, 2, day))
    return std::nullopt;
  if (pos >= text.size() || (text[pos] != 'T' && text[pos] != 't' && text[pos] != ' '))
    return std::nullopt;
  ++pos;
  if (!digits(text, pos, 2, hour) || !expect(text, pos, ':') || !digits(text, pos, 2, minute) ||
      !expect(text, pos, ':') || !digits(text, pos, 2, second))
    return std::nullopt;
  static const int month_days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (month < 1 || month > 12 || day < 1 ||
      day > month_days[month - 1] + (month == 2 && leap(year) ? 1 : 0) || hour > 23 ||
      minute > 59 || second > 59)
    return std::nullopt;
  int64_t ms = 0;
  if (pos < text.size() && (text[pos] == '.' || text[pos] == ',')) {
    ++pos;
    size_t start = pos;
    int scale = 100;
    while (pos < text.size() && std::isdigit(static_cast<unsigned char>(text[pos]))) {
      ms += (text[pos] - '0') * scale;
      scale /= 10;
      ++pos;
    }
    if (pos == start)
      return std::nullopt;
  }
  int64_t offset_min = 0;
  if (pos < text.size() && (text[pos] == 'Z' || text[pos] == 'z')) {
    ++pos;
  } else if (pos < text.size() && (text[pos] == '+' || text[pos] == '-')) {
    const int sign = text[pos] == '-' ? -1 : 1;
    ++pos;
    int oh, om;
    if (!digits(text, pos, 2, oh))
      return std::nullopt;
    if (pos < text.size() && text[pos] == ':')
      ++pos;
    if (!digits(text, pos, 2, om) || oh > 23 || om > 59)
      return std::nullopt;
    offset_min = sign * (oh * 60 + om);
  } else {
    return std::nullopt;  // a local time without a zone means nothing on another box
  }
  if (pos != text.size())
    return std::nullopt;
  const int64_t days = days_from_civil(year, static_cast<unsigned>(month), static_cast<unsigned>(day));
  const int64_t epoch_ms =
      ((days * 24 + hour) * 60 + minute - offset_min) * 60000 + int64_t{second} * 1000 + ms;
  if (epoch_ms <= 0 || epoch_ms > kMaxEpochMs)
    return std::nullopt;
  return epoch_ms;
}

json_message::json_message(extractor metrics, std::string timestamp_pointer)
    : metrics_(std::move(metrics)), timestamp_text_(std::move(timestamp_pointer)) {
  if (!timestamp_text_.empty())
    timestamp_ = extractor::path{timestamp_text_, {}};
  // Validates the pointer (throws nlohmann::json::parse_error when malformed).
  nlohmann::json::json_pointer check(timestamp_text_);
  (void)check;
}

reading json_message::decode(std::string_view payload) const {
  reading out;
  nlohmann::json doc;
  try {
    doc = nlohmann::json::parse(payload.begin(), payload.end());
  } catch (const nlohmann::json::exception& e) {
    std::string why = e.what();
    const auto at = why.find("] ");
    out.error = "payload is not JSON (" + (at == std::string::npos ? why : why.substr(at + 2)) +
                "): " + one_line(payload, 60);
    return out;
  }
  auto r = metrics_.apply(doc);
  out.ok = true;
  out.values = std::move(r.values);
  out.state = std::move(r.state);
  out.problems = std::move(r.problems);
  if (!timestamp_)
    return out;
  const nlohmann::json* v = nullptr;
  try {
    const nlohmann::json::json_pointer ptr(timestamp_text_);
    if (doc.contains(ptr))
      v = &doc.at(ptr);
  } catch (const nlohmann::json::exception&) {
    v = nullptr;  // e.g. an array index that is not a number
  }
  std::optional<int64_t> ms;
  if (v && v->is_number()) {
    const double d = v->get<double>();
    if (std::isfinite(d) && d > 0 && d <= static_cast<double>(kMaxEpochMs))
      ms = static_cast<int64_t>(d);
  } else if (v && v->is_string()) {
    ms = parse_timestamp(v->get_ref<const std::string&>());
  }
  if (ms) {
    out.taken_ms = *ms;
  } else if (!v) {
    out.problems.push_back("timestamp: nothing at " + timestamp_text_ + " (arrival time used)");
  } else {
    out.problems.push_back("timestamp: " + timestamp_text_ + " is " + one_line(v->dump(), 40) +
                           ", not epoch milliseconds or an ISO-8601 time with a zone (arrival "
                           "time used)");
  }
  return out;
}

} // namespace edgemes::adapters
