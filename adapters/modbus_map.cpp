// adapters/modbus_map: see the header. The decoder builds the value's
// big-endian 64-bit pattern from the registers (reordering words, swapping
// bytes) and reinterprets it; the planner is one greedy pass per table.
#include "adapters/modbus_map.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

namespace edgemes::adapters::modbus {

namespace {

template <class E>
std::optional<E> find_name(const std::vector<std::string>& names, const std::string& name) {
  for (size_t i = 0; i < names.size(); ++i)
    if (names[i] == name)
      return static_cast<E>(i);
  return std::nullopt;
}

uint16_t swap_bytes(uint16_t w) { return static_cast<uint16_t>((w >> 8) | (w << 8)); }

// The value's bits, most significant word first, from registers in address order.
uint64_t gather(const uint16_t* words, int n, order word_order, order byte_order) {
  uint64_t bits = 0;
  for (int i = 0; i < n; ++i) {
    uint16_t w = words[word_order == order::big ? i : n - 1 - i];
    if (byte_order == order::little)
      w = swap_bytes(w);
    bits = (bits << 16) | w;
  }
  return bits;
}

void scatter(uint64_t bits, int n, order word_order, order byte_order, uint16_t* words) {
  for (int i = n - 1; i >= 0; --i) {
    uint16_t w = static_cast<uint16_t>(bits & 0xFFFF);
    bits >>= 16;
    if (byte_order == order::little)
      w = swap_bytes(w);
    words[word_order == order::big ? i : n - 1 - i] = w;
  }
}

template <class T>
T saturate(double raw) {
  if (std::isnan(raw))
    return 0;
  const double r = std::round(raw);
  if (r <= static_cast<double>(std::numeric_limits<T>::min()))
    return std::numeric_limits<T>::min();
  if (r >= static_cast<double>(std::numeric_limits<T>::max()))
    return std::numeric_limits<T>::max();
  return static_cast<T>(r);
}

} // namespace

const std::vector<std::string>& table_names() {
  static const std::vector<std::string> names{"coil", "discrete", "input", "holding"};
  return names;
}

const std::vector<std::string>& type_names() {
  static const std::vector<std::string> names{"int16",  "uint16",  "int32",   "uint32",
                                              "int64",  "float32", "float64", "bool"};
  return names;
}

std::optional<table> parse_table(const std::string& name) { return find_name<table>(table_names(), name); }
std::optional<value_type> parse_type(const std::string& name) {
  return find_name<value_type>(type_names(), name);
}
std::optional<order> parse_order(const std::string& name) {
  if (name == "big")
    return order::big;
  if (name == "little")
    return order::little;
  return std::nullopt;
}
const char* name_of(table t) { return table_names()[static_cast<size_t>(t)].c_str(); }
const char* name_of(value_type t) { return type_names()[static_cast<size_t>(t)].c_str(); }

int max_bits_per_read(int max_registers_per_read) {
  return std::clamp(16 * max_registers_per_read, 1, kMaxBitsPerRead);
}

int width(value_type type) {
  switch (type) {
  case value_type::int32:
  case value_type::uint32:
  case value_type::float32: return 2;
  case value_type::int64:
  case value_type::float64: return 4;
  default: return 1;
  }
}

bool is_integer(value_type type) { return type != value_type::float32 && type != value_type::float64; }

double point::apply(double raw) const {
  if (scale != 0 && scale != 1) {
    const double reciprocal = 1.0 / scale;
    const double whole = std::round(reciprocal);
    if (whole >= 2 && std::abs(reciprocal - whole) <= 1e-9 * whole)
      return raw / whole + offset;
  }
  return raw * scale + offset;
}

std::string placement_problem(table tbl, int64_t address, value_type type) {
  if (is_bit_table(tbl) && type != value_type::boolean)
    return std::string("a ") + name_of(tbl) + " holds one bit: its type must be bool, not " +
           name_of(type);
  if (!is_bit_table(tbl) && type == value_type::boolean)
    return std::string("bool reads a bit: use table coil or discrete, or a register type "
                       "(uint16 ...) for a ") +
           name_of(tbl) + " register";
  if (address < 0 || address > 65535)
    return "address must be between 0 and 65535, got " + std::to_string(address);
  const int64_t last = address + width(type) - 1;
  if (last > 65535)
    return std::string(name_of(type)) + " at " + std::to_string(address) + " needs registers " +
           std::to_string(address) + ".." + std::to_string(last) + ", past the last address 65535";
  return "";
}

std::vector<overlap> overlaps(const std::vector<point>& points) {
  std::vector<size_t> order_by(points.size());
  for (size_t i = 0; i < points.size(); ++i)
    order_by[i] = i;
  std::stable_sort(order_by.begin(), order_by.end(), [&](size_t a, size_t b) {
    if (points[a].tbl != points[b].tbl)
      return points[a].tbl < points[b].tbl;
    return points[a].address < points[b].address;
  });
  std::vector<overlap> out;
  auto same_read = [&](const point& a, const point& b) {
    return a.address == b.address && a.type == b.type && a.word_order == b.word_order &&
           a.byte_order == b.byte_order;
  };
  // Sweep: `open` is the point reaching furthest so far in this table.
  for (size_t k = 1, open = 0; k < order_by.size(); ++k) {
    const point& prev = points[order_by[open]];
    const point& cur = points[order_by[k]];
    const int64_t prev_end = int64_t{prev.address} + width(prev.type);
    if (cur.tbl == prev.tbl && cur.address < prev_end && !same_read(prev, cur)) {
      size_t a = order_by[open], b = order_by[k];
      out.push_back({std::min(a, b), std::max(a, b)});
    }
    if (cur.tbl != prev.tbl || int64_t{cur.address} + width(cur.type) > prev_end)
      open = k;
  }
  std::sort(out.begin(), out.end(), [](const overlap& x, const overlap& y) {
    return x.later != y.later ? x.later < y.later : x.earlier < y.earlier;
  });
  return out;
}

read_plan plan_reads(const std::vector<point>& points, int max_registers_per_read, int max_gap) {
  const int64_t register_limit = std::clamp(max_registers_per_read, 1, kMaxRegistersPerRead);
  const int64_t bit_limit = max_bits_per_read(static_cast<int>(register_limit));
  const int64_t gap = std::max(max_gap, 0);

  read_plan plan;
  plan.slot_of.assign(points.size(), 0);
  std::vector<size_t> by_place(points.size());
  for (size_t i = 0; i < points.size(); ++i)
    by_place[i] = i;
  std::stable_sort(by_place.begin(), by_place.end(), [&](size_t a, size_t b) {
    if (points[a].tbl != points[b].tbl)
      return points[a].tbl < points[b].tbl;
    return points[a].address < points[b].address;
  });

  // The range being built: registers [start, end) of `tbl`, and its points
  // with their offsets from `start`.
  struct range {
    table tbl;
    int64_t start, end;
    std::vector<std::pair<size_t, int64_t>> members;
  };
  std::optional<range> cur;
  auto flush = [&] {
    if (!cur)
      return;
    const int64_t limit = is_bit_table(cur->tbl) ? bit_limit : register_limit;
    for (auto [index, offset] : cur->members)
      plan.slot_of[index] = plan.slots + static_cast<size_t>(offset);
    // Longer than the limit only when one value is wider than it: split.
    for (int64_t at = cur->start; at < cur->end; at += limit) {
      const int64_t count = std::min(limit, cur->end - at);
      plan.groups.push_back({cur->tbl, static_cast<uint16_t>(at), static_cast<uint16_t>(count),
                             plan.slots + static_cast<size_t>(at - cur->start)});
    }
    plan.slots += static_cast<size_t>(cur->end - cur->start);
    cur.reset();
  };
  for (size_t i : by_place) {
    const point& p = points[i];
    const int64_t start = p.address;
    const int64_t end = std::min<int64_t>(start + width(p.type), 65536);
    const int64_t limit = is_bit_table(p.tbl) ? bit_limit : register_limit;
    if (cur && cur->tbl == p.tbl && start <= cur->end + gap &&
        std::max(cur->end, end) - cur->start <= limit) {
      cur->end = std::max(cur->end, end);
    } else {
      flush();
      cur = range{p.tbl, start, end, {}};
    }
    cur->members.emplace_back(i, start - cur->start);
  }
  flush();
  return plan;
}

double decode(const uint16_t* words, value_type type, order word_order, order byte_order) {
  const int n = width(type);
  const uint64_t bits = gather(words, n, word_order, byte_order);
  switch (type) {
  case value_type::int16: return static_cast<int16_t>(static_cast<uint16_t>(bits));
  case value_type::uint16: return static_cast<uint16_t>(bits);
  case value_type::int32: return static_cast<int32_t>(static_cast<uint32_t>(bits));
  case value_type::uint32: return static_cast<uint32_t>(bits);
  case value_type::int64: return static_cast<double>(static_cast<int64_t>(bits));
  case value_type::float32: {
    const uint32_t b32 = static_cast<uint32_t>(bits);
    float f;
    std::memcpy(&f, &b32, sizeof f);
    return f;
  }
  case value_type::float64: {
    double d;
    std::memcpy(&d, &bits, sizeof d);
    return d;
  }
  case value_type::boolean: return words[0] != 0 ? 1.0 : 0.0;
  }
  return std::numeric_limits<double>::quiet_NaN();
}

void encode(double raw, value_type type, order word_order, order byte_order, uint16_t* words) {
  uint64_t bits = 0;
  switch (type) {
  case value_type::int16: bits = static_cast<uint16_t>(saturate<int16_t>(raw)); break;
  case value_type::uint16: bits = saturate<uint16_t>(raw); break;
  case value_type::int32: bits = static_cast<uint32_t>(saturate<int32_t>(raw)); break;
  case value_type::uint32: bits = saturate<uint32_t>(raw); break;
  case value_type::int64: bits = static_cast<uint64_t>(saturate<int64_t>(raw)); break;
  case value_type::float32: {
    const float f = static_cast<float>(raw);
    uint32_t b32;
    std::memcpy(&b32, &f, sizeof b32);
    bits = b32;
    break;
  }
  case value_type::float64: std::memcpy(&bits, &raw, sizeof bits); break;
  case value_type::boolean: words[0] = raw != 0 && !std::isnan(raw) ? 1 : 0; return;
  }
  scatter(bits, width(type), word_order, byte_order, words);
}

std::string describe(const read_group& g) {
  std::string text = name_of(g.tbl);
  text += " " + std::to_string(g.start);
  if (g.count > 1)
    text += ".." + std::to_string(g.start + g.count - 1);
  return text;
}

} // namespace edgemes::adapters::modbus
