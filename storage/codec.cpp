// storage/codec: see codec.hpp for the format.
//
// The decoder is a hand-written scanner rather than a JSON library: series()
// and samples() decode one slot of every row they touch, so it must not
// allocate and must skip elements before `slot` without parsing them. It is
// also the guard against text edited by hand in the sqlite3 shell: every
// read is bounds-checked against `size`, and anything that is not an array of
// numbers and nulls is rejected (false), never trusted.
#include "storage/codec.hpp"

#include <array>
#include <charconv>
#include <cmath>
#include <cstring>
#include <string_view>

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
// The same double, sign of zero included (NaN never reaches a rollup).
bool same_double(double a, double b) { return a == b && std::signbit(a) == std::signbit(b); }
} // namespace

void encode_rollup(const bucket_stats& slots, std::string& out) {
  out.push_back('[');
  char buf[32];
  auto number = [&](double v) {
    auto res = std::to_chars(buf, buf + sizeof buf, v);
    out.append(buf, static_cast<size_t>(res.ptr - buf));
  };
  for (size_t i = 0; i < slots.size(); ++i) {
    if (i)
      out.push_back(',');
    const slot_stats& st = slots[i];
    if (st.count <= 0) {
      out.append("null", 4);
      continue;
    }
    out.push_back('[');
    auto res = std::to_chars(buf, buf + sizeof buf, st.count);
    out.append(buf, static_cast<size_t>(res.ptr - buf));
    // The shortest form that reads back to the same five numbers (codec.hpp).
    const bool still = same_double(st.min, st.max) && same_double(st.max, st.last);
    if (st.count == 1 && still && same_double(st.sum, st.last)) {
      out.push_back(',');
      number(st.last);
    } else if (still) {
      for (double v : {st.sum, st.last}) {
        out.push_back(',');
        number(v);
      }
    } else {
      for (double v : {st.sum, st.min, st.max}) {
        out.push_back(',');
        number(v);
      }
      if (!same_double(st.last, st.max)) {
        out.push_back(',');
        number(st.last);
      }
    }
    out.push_back(']');
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

// Character classes for skipping elements in one pass: one table lookup per
// character instead of a chain of comparisons (series() skips ~20 elements
// per row on its hottest path).
enum char_class : unsigned char { cc_bad = 0, cc_element, cc_space, cc_comma };

constexpr std::array<unsigned char, 256> make_classes() {
  std::array<unsigned char, 256> t{};
  for (char c : std::string_view{"0123456789-+.eEnul"})
    t[static_cast<unsigned char>(c)] = cc_element;
  for (char c : std::string_view{" \t\n\r"})
    t[static_cast<unsigned char>(c)] = cc_space;
  t[static_cast<unsigned char>(',')] = cc_comma;
  return t;
}
constexpr auto kClasses = make_classes();

// The characters of a JSON number (skipping a rollup field without parsing it).
constexpr std::array<bool, 256> make_number_chars() {
  std::array<bool, 256> t{};
  for (char c : std::string_view{"0123456789-+.eE"})
    t[static_cast<unsigned char>(c)] = true;
  return t;
}
constexpr auto kNumberChars = make_number_chars();

// Moves s.p past `n` elements and their commas; false on anything that is
// not "element, element, ..." (an empty element, ']' too early, other text).
bool skip_elements(scanner& s, int n) {
  const char* p = s.p;
  bool has_element = false;
  while (n > 0) {
    if (p >= s.end)
      return false;
    switch (kClasses[static_cast<unsigned char>(*p)]) {
      case cc_element: has_element = true; break;
      case cc_space: break;
      case cc_comma:
        if (!has_element)
          return false;
        has_element = false;
        --n;
        break;
      default: return false;
    }
    ++p;
  }
  s.p = p;
  return true;
}

// One rollup element: null (out.count = 0), or an integer count >= 1 and one
// to four finite numbers in one of the forms of codec.hpp. Numbers no field
// in `fields` needs are only checked to be number characters; the fields not
// asked for are left 0.
bool rollup_element(scanner& s, slot_stats& out, unsigned fields) {
  s.skip_space();
  if (s.end - s.p >= 4 && std::memcmp(s.p, "null", 4) == 0) {
    s.p += 4;
    out = slot_stats{};
    return true;
  }
  if (!s.eat('['))
    return false;
  s.skip_space();
  if (s.p >= s.end || *s.p < '1' || *s.p > '9')
    return false;
  slot_stats st;
  auto res = std::from_chars(s.p, s.end, st.count);
  if (res.ec != std::errc() || st.count < 1)
    return false;
  s.p = res.ptr;
  // The extents of the numbers after the count: one pass, nothing parsed.
  const char* begin[4];
  const char* stop[4];
  int n = 0;
  for (bool done = false; !done;) {
    if (!s.eat(','))
      return false;
    if (n == 4)
      return false;  // more than five numbers
    s.skip_space();
    begin[n] = s.p;
    // A JSON number starts with '-' or a digit (from_chars would take ".5").
    if (s.p >= s.end || !(*s.p == '-' || (*s.p >= '0' && *s.p <= '9')))
      return false;
    while (s.p < s.end && kNumberChars[static_cast<unsigned char>(*s.p)])
      ++s.p;
    stop[n++] = s.p;
    s.skip_space();
    done = s.p < s.end && *s.p == ']';
  }
  if (!s.eat(']') || (n == 1 && st.count != 1))
    return false;
  // Which number each field is, per form: sum, min, max, last.
  static constexpr int kIndex[4][4] = {
      {0, 0, 0, 0},  // [1,v]
      {0, 1, 1, 1},  // [count,sum,v]
      {0, 1, 2, 2},  // [count,sum,min,max]
      {0, 1, 2, 3},  // [count,sum,min,max,last]
  };
  double* const field[] = {&st.sum, &st.min, &st.max, &st.last};
  for (unsigned f = 0; f < 4; ++f) {
    if (!(fields & (1u << f)))
      continue;
    const int k = kIndex[n - 1][f];
    auto r = std::from_chars(begin[k], stop[k], *field[f]);
    if (r.ec != std::errc() || r.ptr != stop[k] || !std::isfinite(*field[f]))
      return false;
  }
  out = st;
  return true;
}

// Moves s.p past `n` rollup elements and their commas. Each is checked for
// its outline only ('[' to the next ']', or null): the skip is a memchr.
bool skip_rollup_elements(scanner& s, int n) {
  const char* p = s.p;
  const char* const end = s.end;
  for (; n > 0; --n) {
    while (p < end && is_space(*p))
      ++p;
    if (p >= end)
      return false;
    if (*p == '[') {
      const void* close = std::memchr(p, ']', static_cast<size_t>(end - p));
      if (!close)
        return false;
      p = static_cast<const char*>(close) + 1;
    } else if (end - p >= 4 && std::memcmp(p, "null", 4) == 0) {
      p += 4;
    } else {
      return false;
    }
    while (p < end && is_space(*p))
      ++p;
    if (p >= end || *p != ',')
      return false;
    ++p;
  }
  s.p = p;
  return true;
}

// Every element of a JSON array, each read by `element(scanner&, T&)`, into
// `out` (cleared first). False for a null text or a malformed array.
template <class T, class Element>
bool decode_array(const char* text, size_t size, std::vector<T>& out, Element&& element) {
  out.clear();
  if (!text)
    return false;
  scanner s{text, text + size};
  if (!s.eat('['))
    return false;
  if (s.eat(']'))
    return true;
  for (bool done = false; !done;) {
    T v;
    if (!element(s, v) || !s.separator(done))
      return false;
    out.push_back(v);
  }
  return true;
}

} // namespace

bool decode_slot(const char* text, size_t size, int slot, double& value) {
  if (!text || slot < 0)
    return false;
  scanner s{text, text + size};
  if (!s.eat('['))
    return false;
  if (s.eat(']'))
    return false;  // empty array: no element `slot`
  if (!skip_elements(s, slot))
    return false;
  double v;
  bool done = false;
  if (!s.element(v) || !s.separator(done) || std::isnan(v))
    return false;
  value = v;
  return true;
}

bool decode_all(const char* text, size_t size, std::vector<double>& values) {
  return decode_array(text, size, values, [](scanner& s, double& v) { return s.element(v); });
}

bool decode_rollup_slot(const char* text, size_t size, int slot, slot_stats& out,
                        unsigned fields) {
  if (!text || slot < 0)
    return false;
  scanner s{text, text + size};
  if (!s.eat('[') || s.eat(']') || !skip_rollup_elements(s, slot))
    return false;
  slot_stats st;
  bool done = false;
  if (!rollup_element(s, st, fields) || !s.separator(done) || st.count == 0)
    return false;
  out = st;
  return true;
}

bool decode_rollup_all(const char* text, size_t size, bucket_stats& slots) {
  return decode_array(text, size, slots, [](scanner& s, slot_stats& st) {
    return rollup_element(s, st, rollup_all);
  });
}

} // namespace edgemes::storage
