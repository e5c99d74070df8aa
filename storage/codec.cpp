// storage/codec: see codec.hpp for the format.
//
// The decoder is a hand-written scanner rather than a JSON library: series()
// and samples() decode one slot of every row they touch, so it must not
// allocate and must skip elements before `slot` without parsing them. It is
// also the guard against text edited by hand in the sqlite3 shell: every
// read is bounds-checked against `size`, and anything that is not an array of
// numbers and nulls is rejected (false), never trusted.
#include "storage/codec.hpp"

#include <charconv>
#include <cmath>

namespace edgemes::storage {

void encode_values(const std::vector<double>& values, std::string& out) {
  out.push_back('[');
  char buf[32];  // shortest round-trip double is at most 24 chars
  for (size_t i = 0; i < values.size(); ++i) {
    if (i)
      out.push_back(',');
    const double v = values[i];
    if (!std::isfinite(v)) {
      out.append("null", 4);
      continue;
    }
    auto res = std::to_chars(buf, buf + sizeof buf, v);
    out.append(buf, static_cast<size_t>(res.ptr - buf));
  }
  out.push_back(']');
}

namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

// Cursor over [p, end). All reads go through it, so none can pass `end`.
struct scanner {
  const char* p;
  const char* end;

  void skip_space() {
    while (p < end && is_space(*p))
      ++p;
  }
  bool eat(char c) {
    skip_space();
    if (p < end && *p == c) {
      ++p;
      return true;
    }
    return false;
  }
  // One element: a number (value set) or null (value = NaN).
  bool element(double& value) {
    skip_space();
    if (end - p >= 4 && p[0] == 'n' && p[1] == 'u' && p[2] == 'l' && p[3] == 'l') {
      p += 4;
      value = NAN;
      return true;
    }
    // from_chars also takes "inf"/"nan"/hex-less forms JSON forbids: require
    // a JSON number's first character.
    if (p >= end || !(*p == '-' || (*p >= '0' && *p <= '9')))
      return false;
    auto res = std::from_chars(p, end, value);
    if (res.ec != std::errc())
      return false;
    p = res.ptr;
    return true;
  }
  // Skips one element without converting it; only number/null characters pass.
  bool skip_element() {
    skip_space();
    const char* start = p;
    while (p < end) {
      char c = *p;
      if ((c >= '0' && c <= '9') || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E' ||
          c == 'n' || c == 'u' || c == 'l')
        ++p;
      else
        break;
    }
    return p > start;
  }
  // After an element: ',' (more follow, returns true) or ']' (sets done).
  bool separator(bool& done) {
    skip_space();
    if (p >= end)
      return false;
    if (*p == ',') {
      ++p;
      return true;
    }
    if (*p == ']') {
      ++p;
      done = true;
      return true;
    }
    return false;
  }
};

} // namespace

bool decode_slot(const char* text, size_t size, int slot, double& value) {
  if (!text || slot < 0)
    return false;
  scanner s{text, text + size};
  if (!s.eat('['))
    return false;
  if (s.eat(']'))
    return false;  // empty array: no element `slot`
  for (int i = 0;; ++i) {
    bool done = false;
    if (i == slot) {
      double v;
      if (!s.element(v) || !s.separator(done) || std::isnan(v))
        return false;
      value = v;
      return true;
    }
    if (!s.skip_element() || !s.separator(done) || done)
      return false;
  }
}

bool decode_all(const char* text, size_t size, std::vector<double>& values) {
  values.clear();
  if (!text)
    return false;
  scanner s{text, text + size};
  if (!s.eat('['))
    return false;
  if (s.eat(']'))
    return true;
  for (bool done = false; !done;) {
    double v;
    if (!s.element(v) || !s.separator(done))
      return false;
    values.push_back(v);
  }
  return true;
}

} // namespace edgemes::storage
