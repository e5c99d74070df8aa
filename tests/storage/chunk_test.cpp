// tests/storage/chunk_test: storage/chunk.cpp and storage/log_batch.cpp — the
// compressed formats (chunks, poll records, log batches) round-trip bit for
// bit, refuse malformed bytes without crashing, and are as small as the history
// target needs them to be (<= 3 bytes per sample at rest).
#include "storage/chunk.hpp"
#include "storage/log_batch.hpp"
#include "storage/writer.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <functional>
#include <limits>
#include <map>
#include <random>
#include <string>
#include <vector>

using namespace edgemes::storage;

namespace {

constexpr double nan_v = std::numeric_limits<double>::quiet_NaN();
constexpr double inf_v = std::numeric_limits<double>::infinity();
constexpr int64_t t0 = 1'767'225'600'000;  // 2026-01-01T00:00:00Z

// n polls, values[i * nslots + s].
struct polls {
  std::vector<int64_t> ts;
  std::vector<double> values;
  size_t nslots = 0;
  size_t n() const { return ts.size(); }
};

std::string encode(const polls& p, int64_t base = 0) {
  std::string out;
  chunk::encode(p.ts.data(), p.values.data(), p.n(), p.nslots, out, base);
  return out;
}

// Present values must come back with the same bits (sign of zero included),
// missing ones (NaN, ±inf) as NaN.
bool same_value(double expected, double got) {
  if (!std::isfinite(expected))
    return std::isnan(got);
  return std::memcmp(&expected, &got, sizeof got) == 0;
}

void check_round_trip(const polls& p, const chunk::view& v) {
  REQUIRE(v.polls() == p.n());
  REQUIRE(v.slots() == p.nslots);
  std::vector<int64_t> ts;
  REQUIRE(v.timestamps(ts));
  CHECK(ts == p.ts);
  std::vector<double> col;
  for (size_t s = 0; s < p.nslots; ++s) {
    REQUIRE(v.column(s, col));
    REQUIRE(col.size() == p.n());
    for (size_t i = 0; i < p.n(); ++i) {
      INFO("slot " << s << " poll " << i << " of " << p.n() << ": expected " << p.values[i * p.nslots + s]
                   << " got " << col[i]);
      REQUIRE(same_value(p.values[i * p.nslots + s], col[i]));
    }
  }
}

void check_round_trip(const polls& p, int64_t base = 0) {
  const std::string bytes = encode(p, base);
  chunk::view v;
  REQUIRE(v.parse(bytes.data(), bytes.size(), base));
  check_round_trip(p, v);
}

// Timestamps every `step` ms from t0.
std::vector<int64_t> regular_ts(size_t n, int64_t step = 1000) {
  std::vector<int64_t> ts(n);
  for (size_t i = 0; i < n; ++i)
    ts[i] = t0 + static_cast<int64_t>(i) * step;
  return ts;
}

polls one_column(const std::vector<double>& column) {
  polls p;
  p.ts = regular_ts(column.size());
  p.values = column;
  p.nslots = 1;
  return p;
}

// What one column costs inside a chunk: its length varint and body.
size_t column_bytes(const std::vector<int64_t>& ts, const std::vector<double>& column) {
  std::string with, without;
  chunk::encode(ts.data(), column.data(), ts.size(), 1, with);
  chunk::encode(ts.data(), nullptr, ts.size(), 0, without);
  return with.size() - without.size();
}

double round_to(double v, double scale) { return std::round(v * scale) / scale; }

// A named column shape: value of poll i.
struct shape {
  const char* name;
  std::function<double(size_t i, std::mt19937_64& rng)> value;
};

std::vector<shape> shapes() {
  auto uniform = [](std::mt19937_64& rng) { return std::uniform_real_distribution<double>(0, 1)(rng); };
  return {
      {"counter rising by 0..3", [](size_t i, std::mt19937_64& rng) { return 100000.0 + double(i * 2 + rng() % 2); }},
      {"1-decimal temperature with noise",
       [=](size_t, std::mt19937_64& rng) { return round_to(245.3 + (uniform(rng) - 0.5) * 0.4, 10); }},
      {"2-decimal pressure", [=](size_t, std::mt19937_64& rng) { return round_to(5.2 + uniform(rng), 100); }},
      {"3-decimal ratio", [=](size_t, std::mt19937_64& rng) { return round_to(0.7 + uniform(rng) * 0.05, 1000); }},
      {"setpoint holding still", [](size_t, std::mt19937_64&) { return 250.0; }},
      {"setpoint that changes once", [](size_t i, std::mt19937_64&) { return i < 70 ? 250.0 : 245.0; }},
      {"negative decimals", [=](size_t, std::mt19937_64& rng) { return round_to(-40 + uniform(rng), 10); }},
      {"zeros", [](size_t, std::mt19937_64&) { return 0.0; }},
      {"negative zero", [](size_t, std::mt19937_64&) { return -0.0; }},
      {"zero and negative zero", [](size_t i, std::mt19937_64&) { return i % 3 ? 0.0 : -0.0; }},
      {"huge and tiny doubles",
       [](size_t i, std::mt19937_64&) {
         const double v[] = {1e300, -1e-300, std::numeric_limits<double>::denorm_min(),
                             std::numeric_limits<double>::max(), std::numeric_limits<double>::lowest(),
                             std::numeric_limits<double>::min() / 3, 123456789012345678.0, 0x1p53, -0x1p53,
                             0x1p53 + 2};
         return v[i % 10];
       }},
      {"random doubles", [](size_t, std::mt19937_64& rng) {
         double d;
         uint64_t b;
         do {
           b = rng();
           std::memcpy(&d, &b, sizeof d);
         } while (!std::isfinite(d));
         return d;
       }},
      {"random reals in [0, 1)", [=](size_t, std::mt19937_64& rng) { return uniform(rng); }},
      {"pi and friends", [](size_t i, std::mt19937_64&) { return 3.141592653589793 * double(i + 1); }},
      {"decimals with 15 digits", [](size_t i, std::mt19937_64&) { return double(i + 1) / 1e15; }},
      {"gaps of NaN and infinity",
       [](size_t i, std::mt19937_64&) { return i % 5 == 1 ? nan_v : i % 7 == 3 ? inf_v : i % 11 == 4 ? -inf_v : double(i) / 10; }},
      {"mostly missing", [](size_t i, std::mt19937_64&) { return i % 37 == 5 ? 1.5 : nan_v; }},
      {"all missing", [](size_t, std::mt19937_64&) { return nan_v; }},
  };
}

// ts[i] = t0 + i * 1000 + jitter in [-3, 3] (polls on a 1 s grid).
std::vector<int64_t> grid_jitter_ts(size_t n, std::mt19937_64& rng) {
  std::vector<int64_t> ts(n);
  for (size_t i = 0; i < n; ++i)
    ts[i] = t0 + static_cast<int64_t>(i) * 1000 + static_cast<int64_t>(rng() % 7) - 3;
  return ts;
}

} // namespace

TEST_CASE("a chunk round-trips every kind of column bit for bit", "[chunk]") {
  for (size_t n : {size_t(1), size_t(2), size_t(7), size_t(127), size_t(128), size_t(129), size_t(1000), size_t(1500)}) {
    for (const auto& sh : shapes()) {
      DYNAMIC_SECTION(sh.name << ", n = " << n) {
        std::mt19937_64 rng(n);
        polls p;
        p.ts = grid_jitter_ts(n, rng);
        p.nslots = 1;
        for (size_t i = 0; i < n; ++i)
          p.values.push_back(sh.value(i, rng));
        check_round_trip(p);
      }
    }
  }
}

TEST_CASE("a chunk round-trips many slots side by side", "[chunk]") {
  std::mt19937_64 rng(42);
  const auto all = shapes();
  polls p;
  p.ts = grid_jitter_ts(300, rng);
  p.nslots = all.size();
  for (size_t i = 0; i < p.n(); ++i)
    for (const auto& sh : all)
      p.values.push_back(sh.value(i, rng));
  check_round_trip(p);
}

TEST_CASE("a chunk keeps irregular, widely spaced and negative timestamps", "[chunk]") {
  const std::vector<std::vector<int64_t>> cases = {
      {0},
      {-5},
      {-1'000'000, -999'000, -5, 0, 7, 1'000'000'000'000},
      {t0, t0 + 1, t0 + 2, t0 + 86'400'000, t0 + 86'400'001},
      {std::numeric_limits<int64_t>::min() / 2, -1, 1, std::numeric_limits<int64_t>::max() / 2},
      {-(int64_t(1) << 62), -(int64_t(1) << 62) + 1, int64_t(1) << 62},  // deltas 1 and ~2^63: width 63
  };
  for (const auto& ts : cases) {
    polls p;
    p.ts = ts;
    p.nslots = 2;
    for (size_t i = 0; i < ts.size(); ++i) {
      p.values.push_back(double(i));
      p.values.push_back(i % 2 ? nan_v : -2.5);
    }
    check_round_trip(p);
    check_round_trip(p, t0);     // a log batch's base
    check_round_trip(p, -t0);
  }
}

TEST_CASE("a chunk with no slots still has its timestamps", "[chunk]") {
  polls p;
  p.ts = regular_ts(10);
  check_round_trip(p);
}

TEST_CASE("a slot past slots() reads as all missing", "[chunk]") {
  const polls p = one_column({1, 2, 3});
  const std::string bytes = encode(p);
  chunk::view v;
  REQUIRE(v.parse(bytes.data(), bytes.size()));
  std::vector<double> col = {7};
  REQUIRE(v.column(1, col));
  REQUIRE(col.size() == 3);
  for (double x : col)
    CHECK(std::isnan(x));
  REQUIRE(v.column(1000, col));
  CHECK(col.size() == 3);
}

TEST_CASE("random chunks round-trip (property, fixed seed)", "[chunk]") {
  std::mt19937_64 rng(20260101);
  const auto all = shapes();
  for (int round = 0; round < 3000; ++round) {
    polls p;
    const size_t n = 1 + rng() % (rng() % 4 == 0 ? 700 : 40);
    p.nslots = rng() % 7;
    int64_t t = static_cast<int64_t>(rng() % 2000000000000) - 1000000000000;
    for (size_t i = 0; i < n; ++i) {
      p.ts.push_back(t);
      t += 1 + static_cast<int64_t>(rng() % (rng() % 10 == 0 ? 100000000 : 2000));
    }
    std::vector<size_t> kind(p.nslots);
    std::vector<unsigned> missing_pct(p.nslots);
    for (size_t s = 0; s < p.nslots; ++s) {
      kind[s] = rng() % all.size();
      missing_pct[s] = rng() % 3 == 0 ? static_cast<unsigned>(rng() % 100) : 0;
    }
    for (size_t i = 0; i < n; ++i)
      for (size_t s = 0; s < p.nslots; ++s)
        p.values.push_back(rng() % 100 < missing_pct[s] ? nan_v : all[kind[s]].value(i, rng));
    const int64_t base = rng() % 2 ? 0 : p.ts[0] - static_cast<int64_t>(rng() % 1000);
    INFO("round " << round << ", n " << n << ", slots " << p.nslots);
    check_round_trip(p, base);
  }
}

TEST_CASE("every truncation of a chunk is refused", "[chunk][malformed]") {
  std::mt19937_64 rng(1);
  polls p;
  p.ts = grid_jitter_ts(200, rng);
  const auto all = shapes();
  p.nslots = all.size();
  for (size_t i = 0; i < p.n(); ++i)
    for (const auto& sh : all)
      p.values.push_back(sh.value(i, rng));
  const std::string bytes = encode(p);
  chunk::view v;
  for (size_t len = 0; len < bytes.size(); ++len) {
    // A copy of exactly `len` bytes, so reading past it would be a real overrun.
    const std::vector<unsigned char> cut(bytes.begin(), bytes.begin() + static_cast<ptrdiff_t>(len));
    INFO("length " << len << " of " << bytes.size());
    CHECK_FALSE(v.parse(cut.data(), cut.size()));
    CHECK(v.polls() == 0);
    CHECK(v.slots() == 0);
  }
  CHECK(v.parse(bytes.data(), bytes.size()));
}

TEST_CASE("a chunk with flipped bytes is refused or decodes to something, never a crash", "[chunk][malformed]") {
  std::mt19937_64 rng(2);
  const auto all = shapes();
  for (int round = 0; round < 4000; ++round) {
    polls p;
    p.ts = grid_jitter_ts(1 + rng() % 300, rng);
    p.nslots = 1 + rng() % 4;
    for (size_t i = 0; i < p.n(); ++i)
      for (size_t s = 0; s < p.nslots; ++s)
        p.values.push_back(all[(s * 7 + static_cast<size_t>(round)) % all.size()].value(i, rng));
    std::string bytes = encode(p);
    const int flips = 1 + static_cast<int>(rng() % 4);
    for (int f = 0; f < flips; ++f)
      bytes[rng() % bytes.size()] ^= static_cast<char>(1 + rng() % 255);
    const std::vector<unsigned char> copy(bytes.begin(), bytes.end());
    chunk::view v;
    if (!v.parse(copy.data(), copy.size()))
      continue;
    std::vector<int64_t> ts;
    if (v.timestamps(ts))
      CHECK(ts.size() == v.polls());
    std::vector<double> col;
    for (size_t s = 0; s <= v.slots(); ++s)
      if (v.column(s, col))
        CHECK(col.size() == v.polls());
  }
}

TEST_CASE("random bytes are refused or decode to something, never a crash", "[chunk][malformed]") {
  std::mt19937_64 rng(3);
  for (int round = 0; round < 20000; ++round) {
    std::vector<unsigned char> bytes(rng() % 64);
    for (auto& b : bytes)
      b = static_cast<unsigned char>(rng());
    if (!bytes.empty() && rng() % 2)
      bytes[0] = 1;  // get past the version byte
    chunk::view v;
    if (v.parse(bytes.data(), bytes.size())) {
      std::vector<int64_t> ts;
      std::vector<double> col;
      (void)v.timestamps(ts);
      for (size_t s = 0; s < v.slots(); ++s)
        (void)v.column(s, col);
    }
    chunk::view poll;
    if (poll.parse_poll(bytes.data(), bytes.size(), t0)) {
      std::vector<double> col;
      for (size_t s = 0; s < poll.slots(); ++s)
        CHECK((poll.column(s, col) && col.size() == 1));
    }
    log_batch::view b;
    if (!bytes.empty())
      bytes[0] = 'L';
    if (bytes.size() > 1 && rng() % 2)
      bytes[1] = 2;  // the batch version
    if (b.parse(bytes.data(), bytes.size())) {
      chunk::view c;
      for (const auto& e : b.entries())
        (void)b.machine(e.machine_id, c);
    }
  }
}

TEST_CASE("a chunk refuses counts its bytes cannot hold", "[chunk][malformed]") {
  // version 1, n = 2^40, nslots 0, ts0 0: a reader must not size 2^40 timestamps.
  const unsigned char huge_n[] = {1, 0x80, 0x80, 0x80, 0x80, 0x80, 0x20, 0, 0, 0, 0};
  chunk::view v;
  CHECK_FALSE(v.parse(huge_n, sizeof huge_n));
  // n = 1, nslots = 1000 with two bytes left.
  const unsigned char many_slots[] = {1, 1, 0xe8, 0x07, 0, 1, 0};
  CHECK_FALSE(v.parse(many_slots, sizeof many_slots));
  const unsigned char wrong_version[] = {2, 1, 0, 0};
  CHECK_FALSE(v.parse(wrong_version, sizeof wrong_version));
  const unsigned char zero_polls[] = {1, 0, 0, 0};
  CHECK_FALSE(v.parse(zero_polls, sizeof zero_polls));
  const unsigned char one_poll[] = {1, 1, 0, 0};
  CHECK(v.parse(one_poll, sizeof one_poll));
}

TEST_CASE("a setpoint held still for 120 polls costs a handful of bytes", "[chunk][size]") {
  const auto ts = regular_ts(120);
  CHECK(column_bytes(ts, std::vector<double>(120, 250.0)) <= 8);
  CHECK(column_bytes(ts, std::vector<double>(120, 0.875)) <= 8);
  CHECK(column_bytes(ts, std::vector<double>(120, nan_v)) <= 2);
}

TEST_CASE("a 1-decimal temperature with 0.2 noise costs at most a byte a value", "[chunk][size]") {
  std::mt19937_64 rng(4);
  std::uniform_real_distribution<double> noise(-0.2, 0.2);
  std::vector<double> col;
  for (int i = 0; i < 120; ++i)
    col.push_back(round_to(245.3 + noise(rng), 10));
  const size_t bytes = column_bytes(regular_ts(120), col);
  INFO(bytes << " bytes for 120 values");
  CHECK(bytes <= 120);
}

TEST_CASE("an integer counter stepping by 0 or 1 costs at most 0.3 bytes a value", "[chunk][size]") {
  std::mt19937_64 rng(5);
  std::vector<double> col;
  double c = 1234567;
  for (int i = 0; i < 120; ++i)
    col.push_back(c += double(rng() % 2));
  const size_t bytes = column_bytes(regular_ts(120), col);
  INFO(bytes << " bytes for 120 values");
  CHECK(bytes <= 0.3 * 120);
}

TEST_CASE("polls 1000 +- 3 ms apart cost at most 0.5 bytes a timestamp", "[chunk][size]") {
  std::mt19937_64 rng(6);
  std::vector<int64_t> ts = {t0};
  for (int i = 1; i < 120; ++i)
    ts.push_back(ts.back() + 997 + static_cast<int64_t>(rng() % 7));
  std::string bytes;
  chunk::encode(ts.data(), nullptr, ts.size(), 0, bytes);
  INFO(bytes.size() << " bytes for 120 timestamps");
  CHECK(bytes.size() <= 0.5 * 120);
}

TEST_CASE("polls on a 1 s grid with +-3 ms jitter cost at most 0.6 bytes a timestamp", "[chunk][size]") {
  // Deltas spread over 994..1006: 13 values need 4 bits; with the chunk
  // header (9 bytes, ts0 absolute) and the block header (3) that is 72 bytes
  // for 120 polls.
  std::mt19937_64 rng(7);
  const auto ts = grid_jitter_ts(120, rng);
  std::string bytes;
  chunk::encode(ts.data(), nullptr, ts.size(), 0, bytes);
  INFO(bytes.size() << " bytes for 120 timestamps");
  CHECK(bytes.size() <= 0.6 * 120);
}

// ---------------------------------------------------------------- poll records

namespace {

std::string poll_record(const std::vector<double>& values) {
  std::string out;
  chunk::encode_poll(values.data(), values.size(), out);
  return out;
}

void check_poll_round_trip(const std::vector<double>& values) {
  const std::string bytes = poll_record(values);
  const std::vector<unsigned char> copy(bytes.begin(), bytes.end());  // exactly its bytes
  chunk::view v;
  REQUIRE(v.parse_poll(copy.data(), copy.size(), t0 + 7));
  REQUIRE(v.polls() == 1);
  REQUIRE(v.slots() == values.size());
  std::vector<int64_t> ts;
  REQUIRE(v.timestamps(ts));
  CHECK(ts == std::vector<int64_t>{t0 + 7});
  std::vector<double> col;
  for (size_t s = 0; s < values.size(); ++s) {
    REQUIRE(v.column(s, col));
    REQUIRE(col.size() == 1);
    INFO("slot " << s << ": expected " << values[s] << " got " << col[0]);
    CHECK(same_value(values[s], col[0]));
  }
  REQUIRE(v.column(values.size(), col));
  REQUIRE(col.size() == 1);
  CHECK(std::isnan(col[0]));
}

std::string hex(const std::string& bytes) {
  static const char digits[] = "0123456789abcdef";
  std::string out;
  for (unsigned char b : bytes) {
    if (!out.empty())
      out += ' ';
    out += digits[b >> 4];
    out += digits[b & 15];
  }
  return out;
}

} // namespace

TEST_CASE("a poll record round-trips every kind of value bit for bit", "[chunk][poll]") {
  std::mt19937_64 rng(10);
  for (const auto& sh : shapes()) {
    DYNAMIC_SECTION(sh.name) {
      std::vector<double> values;
      for (size_t i = 0; i < 300; ++i)
        values.push_back(sh.value(i, rng));
      check_poll_round_trip(values);
    }
  }
  check_poll_round_trip({});
  check_poll_round_trip({-0.0, 0.0, 1e-6, 1.5e-9, 0.123456789012345, 1e-15, 1e-16, 9007199254740992.0,
                         -9007199254740992.0, 9007199254740994.0, 1e22, 5e-324, nan_v, inf_v, -inf_v});
}

TEST_CASE("a poll record value takes the tag of its decimal exponent", "[chunk][poll][size]") {
  // The documented encodings (docs/STORAGE-FORMAT.md), byte for byte.
  CHECK(hex(poll_record({0})) == "00");
  CHECK(hex(poll_record({-1})) == "08");
  CHECK(hex(poll_record({2})) == "20");
  CHECK(hex(poll_record({250})) == "a0 1f");
  CHECK(hex(poll_record({245.3})) == "d1 b2 02");
  CHECK(hex(poll_record({0.712})) == "83 59");
  CHECK(hex(poll_record({100000})) == "80 d4 61");
  CHECK(hex(poll_record({nan_v})) == "06");
  CHECK(hex(poll_record({1.5e-6})) == "17 1e");
  CHECK(hex(poll_record({-0.0})) == "07 00 00 00 00 00 00 00 80");
  CHECK(poll_record({3.141592653589793}).size() == 9);
}

TEST_CASE("malformed poll records are refused", "[chunk][poll][malformed]") {
  const std::vector<std::vector<unsigned char>> bad = {
      {0x80},                          // a varint cut short
      {0x0e},                          // "no value" with bits above the tag
      {0x5f, 0x00},                    // escape x = 11: no such exponent
      {0x07, 0, 0, 0, 0, 0, 0, 0},     // a raw double cut short
      {0x0f},                          // e = 6 without its k
      {0x00, 0x0f, 0x80},              // e = 6 with a k cut short
      {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f},  // more than 64 bits
  };
  for (const auto& b : bad) {
    INFO(hex(std::string(b.begin(), b.end())));
    chunk::view v;
    CHECK_FALSE(v.parse_poll(b.data(), b.size(), t0));
    CHECK(v.polls() == 0);
    CHECK(v.slots() == 0);
  }
  const std::vector<unsigned char> good = {0x0f, 0x02, 0x07, 0, 0, 0, 0, 0, 0, 0xf0, 0x3f};
  chunk::view v;
  REQUIRE(v.parse_poll(good.data(), good.size(), t0));
  std::vector<double> col;
  REQUIRE(v.column(0, col));
  CHECK(col[0] == 1e-6);
  REQUIRE(v.column(1, col));
  CHECK(col[0] == 1.0);
}

TEST_CASE("a cut poll record is refused inside a value and shorter at a value's end", "[chunk][poll][malformed]") {
  const std::vector<double> values = {245.3, -0.0, 100000, nan_v, 1.5e-6, 0.712};
  const std::string bytes = poll_record(values);
  std::vector<size_t> ends;  // where each value's bytes end
  for (size_t s = 1; s <= values.size(); ++s)
    ends.push_back(poll_record(std::vector<double>(values.begin(), values.begin() + static_cast<ptrdiff_t>(s))).size());
  for (size_t len = 0; len < bytes.size(); ++len) {
    const std::vector<unsigned char> cut(bytes.begin(), bytes.begin() + static_cast<ptrdiff_t>(len));
    INFO("length " << len << " of " << bytes.size());
    chunk::view v;
    const auto at = std::find(ends.begin(), ends.end(), len);
    if (len != 0 && at == ends.end()) {
      CHECK_FALSE(v.parse_poll(cut.data(), cut.size(), t0));
      continue;
    }
    REQUIRE(v.parse_poll(cut.data(), cut.size(), t0));
    CHECK(v.slots() == (len == 0 ? 0 : static_cast<size_t>(at - ends.begin()) + 1));
  }
}

TEST_CASE("a poll record with flipped bytes is refused or decodes, never a crash", "[chunk][poll][malformed]") {
  std::mt19937_64 rng(11);
  const auto all = shapes();
  for (int round = 0; round < 5000; ++round) {
    std::vector<double> values;
    for (size_t s = 0, n = 1 + rng() % 20; s < n; ++s)
      values.push_back(all[rng() % all.size()].value(s, rng));
    std::string bytes = poll_record(values);
    bytes[rng() % bytes.size()] ^= static_cast<char>(1 + rng() % 255);
    const std::vector<unsigned char> copy(bytes.begin(), bytes.end());
    chunk::view v;
    if (!v.parse_poll(copy.data(), copy.size(), t0))
      continue;
    std::vector<double> col;
    for (size_t s = 0; s <= v.slots(); ++s) {
      REQUIRE(v.column(s, col));
      CHECK(col.size() == 1);
    }
  }
}

// ---------------------------------------------------------------- log batches

namespace {

struct machine_polls {
  int64_t id;
  std::vector<int64_t> ts;
  std::vector<std::vector<double>> values;
};

std::vector<machine_polls> sample_machines(std::mt19937_64& rng) {
  std::vector<machine_polls> out;
  for (int64_t id : {3, 1, 1000000, 42, 7}) {
    machine_polls m{id, {}, {}};
    const size_t n = 1 + rng() % 5;
    const size_t slots = static_cast<size_t>(id % 5);
    int64_t t = t0 + static_cast<int64_t>(rng() % 300);
    for (size_t i = 0; i < n; ++i) {
      m.ts.push_back(t);
      t += 100 + static_cast<int64_t>(rng() % 50);
      std::vector<double> v;
      // Some polls carry fewer values (a metric added mid-batch): padded NaN.
      const size_t k = i == 0 && slots > 0 ? slots - 1 : slots;
      for (size_t s = 0; s < k; ++s)
        v.push_back(s == 1 ? nan_v : round_to(double(id) + double(i) * 0.1 + double(s), 10));
      m.values.push_back(v);
    }
    out.push_back(m);
  }
  return out;
}

} // namespace

TEST_CASE("a log batch takes polls in any order and gives each machine its own", "[chunk][log_batch]") {
  std::mt19937_64 rng(8);
  const auto machines = sample_machines(rng);
  std::vector<log_batch::poll> polls;
  for (const auto& m : machines)
    for (size_t i = 0; i < m.ts.size(); ++i)
      polls.push_back({m.id, m.ts[i], &m.values[i]});
  std::shuffle(polls.begin(), polls.end(), rng);
  std::string bytes;
  log_batch::encode(polls, bytes);

  log_batch::view b;
  REQUIRE(b.parse(bytes.data(), bytes.size()));
  REQUIRE(b.entries().size() == machines.size());
  for (size_t i = 1; i < b.entries().size(); ++i)
    CHECK(b.entries()[i - 1].machine_id < b.entries()[i].machine_id);
  int64_t smallest = machines[0].ts[0];
  for (const auto& m : machines)
    smallest = std::min(smallest, m.ts[0]);
  CHECK(b.base() == smallest);

  for (const auto& m : machines) {
    INFO("machine " << m.id);
    chunk::view c;
    REQUIRE(b.machine(m.id, c));
    size_t slots = 0;
    for (const auto& v : m.values)
      slots = std::max(slots, v.size());
    REQUIRE(c.slots() == slots);
    std::vector<int64_t> ts;
    REQUIRE(c.timestamps(ts));
    CHECK(ts == m.ts);
    std::vector<double> col;
    for (size_t s = 0; s < slots; ++s) {
      REQUIRE(c.column(s, col));
      for (size_t i = 0; i < m.ts.size(); ++i)
        CHECK(same_value(s < m.values[i].size() ? m.values[i][s] : nan_v, col[i]));
    }
  }
  chunk::view c;
  CHECK_FALSE(b.machine(2, c));
  CHECK_FALSE(b.machine(0, c));
  CHECK_FALSE(b.machine(2000000, c));
}

TEST_CASE("a log batch of polls encoded beforehand is byte-identical to one encoded whole", "[chunk][log_batch]") {
  // Pollers encode their poll's record (encode_record) so the writer thread
  // only copies it; the batch must not differ by a byte. Machines with one
  // poll use the record; machines with several are a chunk, encoded from the
  // values whatever their records say (given garbage here to show it).
  std::mt19937_64 rng(10);
  auto machines = sample_machines(rng);
  std::vector<poll_row> rows;
  for (const auto& m : machines)
    for (size_t i = 0; i < m.ts.size(); ++i)
      rows.push_back({m.id, m.ts[i], m.values[i]});
  for (int64_t id = 3000; id < 3040; ++id) {  // single polls, some values missing
    std::vector<double> v;
    for (int s = 0; s < 1 + id % 7; ++s)
      v.push_back(s % 3 == 1 ? nan_v : round_to(double(id) * 0.37 + s * 1000.25, 100));
    rows.push_back({id, t0 + id, v});
  }
  std::vector<log_batch::poll> plain, encoded;
  std::map<int64_t, int> polls_of;
  for (const auto& r : rows)
    ++polls_of[r.machine_id];
  for (auto& r : rows) {
    plain.push_back({r.machine_id, r.ts_ms, &r.values});
    if (polls_of[r.machine_id] == 1)
      encode_record(r);
    else
      r.record = "not a record";
  }
  for (const auto& r : rows)
    encoded.push_back({r.machine_id, r.ts_ms, &r.values, &r.record});
  std::shuffle(encoded.begin(), encoded.end(), rng);
  std::string whole, copied;
  log_batch::encode(plain, whole);
  log_batch::encode(encoded, copied);
  CHECK(copied == whole);
  REQUIRE(polls_of.size() > machines.size());
}

TEST_CASE("an empty log batch has no entries", "[chunk][log_batch]") {
  std::string bytes;
  log_batch::encode({}, bytes);
  log_batch::view b;
  REQUIRE(b.parse(bytes.data(), bytes.size()));
  CHECK(b.entries().empty());
  chunk::view c;
  CHECK_FALSE(b.machine(1, c));
}

TEST_CASE("a log batch keeps polls without values", "[chunk][log_batch]") {
  const std::vector<double> v = {1.5};
  std::string bytes;
  log_batch::encode({{5, t0 + 10, nullptr}, {5, t0, &v}}, bytes);
  log_batch::view b;
  REQUIRE(b.parse(bytes.data(), bytes.size()));
  chunk::view c;
  REQUIRE(b.machine(5, c));
  std::vector<int64_t> ts;
  REQUIRE(c.timestamps(ts));
  CHECK(ts == std::vector<int64_t>{t0, t0 + 10});
  std::vector<double> col;
  REQUIRE(c.column(0, col));
  CHECK(col[0] == 1.5);
  CHECK(std::isnan(col[1]));
}

TEST_CASE("every truncation of a log batch is refused and flipped bytes never crash", "[chunk][log_batch][malformed]") {
  std::mt19937_64 rng(9);
  const auto machines = sample_machines(rng);
  std::vector<log_batch::poll> polls;
  for (const auto& m : machines)
    for (size_t i = 0; i < m.ts.size(); ++i)
      polls.push_back({m.id, m.ts[i], &m.values[i]});
  std::string bytes;
  log_batch::encode(polls, bytes);
  log_batch::view b;
  for (size_t len = 0; len < bytes.size(); ++len) {
    const std::vector<unsigned char> cut(bytes.begin(), bytes.begin() + static_cast<ptrdiff_t>(len));
    INFO("length " << len << " of " << bytes.size());
    CHECK_FALSE(b.parse(cut.data(), cut.size()));
    CHECK(b.entries().empty());
  }
  for (int round = 0; round < 5000; ++round) {
    std::vector<unsigned char> copy(bytes.begin(), bytes.end());
    copy[rng() % copy.size()] ^= static_cast<unsigned char>(1 + rng() % 255);
    if (!b.parse(copy.data(), copy.size()))
      continue;
    for (const auto& e : b.entries()) {
      chunk::view c;
      if (!b.machine(e.machine_id, c))
        continue;
      std::vector<int64_t> ts;
      std::vector<double> col;
      if (c.timestamps(ts))
        CHECK(ts.size() == c.polls());
      for (size_t s = 0; s < c.slots(); ++s)
        if (c.column(s, col))
          CHECK(col.size() == c.polls());
    }
  }
}

namespace {

// Decodes every entry of `bytes` back into (machine, ts, values by slot) rows.
struct decoded_poll {
  int64_t machine;
  int64_t ts;
  std::vector<double> values;
};

std::vector<decoded_poll> decode_batch(const std::string& bytes) {
  std::vector<decoded_poll> out;
  log_batch::view b;
  REQUIRE(b.parse(bytes.data(), bytes.size()));
  for (size_t k = 0; k < b.entries().size(); ++k) {
    chunk::view c, by_id;
    REQUIRE(b.entry_polls(k, c));
    REQUIRE(b.machine(b.entries()[k].machine_id, by_id));
    REQUIRE(by_id.polls() == c.polls());
    std::vector<int64_t> ts;
    REQUIRE(c.timestamps(ts));
    std::vector<std::vector<double>> cols(c.slots());
    for (size_t s = 0; s < c.slots(); ++s)
      REQUIRE(c.column(s, cols[s]));
    for (size_t i = 0; i < ts.size(); ++i) {
      decoded_poll p{b.entries()[k].machine_id, ts[i], {}};
      for (size_t s = 0; s < c.slots(); ++s)
        p.values.push_back(cols[s][i]);
      out.push_back(p);
    }
  }
  return out;
}

} // namespace

TEST_CASE("random log batches round-trip (property, fixed seed)", "[chunk][log_batch]") {
  std::mt19937_64 rng(12);
  const auto all = shapes();
  for (int round = 0; round < 1500; ++round) {
    // Machines with 1 poll (most of them, as in a commit) or a few.
    std::vector<int64_t> ids;
    const size_t machines = rng() % 40;
    for (size_t i = 0; i < machines; ++i) {
      const auto r = rng();
      ids.push_back(r % 5 == 0 ? static_cast<int64_t>(r >> 1) : r % 5 == 1 ? -static_cast<int64_t>(r % 1000)
                                                                           : static_cast<int64_t>(r % 2000));
    }
    std::sort(ids.begin(), ids.end());
    ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
    std::vector<std::vector<double>> values;
    values.reserve(ids.size() * 4);
    std::vector<decoded_poll> want;
    std::vector<log_batch::poll> polls;
    const int64_t start = static_cast<int64_t>(rng() % 4000000000000) - 2000000000000;
    for (int64_t id : ids) {
      const size_t n = rng() % 4 == 0 ? 2 + rng() % 3 : 1;
      const size_t nslots = rng() % 25;
      int64_t t = start + static_cast<int64_t>(rng() % 1000);
      for (size_t i = 0; i < n; ++i, t += 1 + static_cast<int64_t>(rng() % 300)) {
        std::vector<double> v;
        const size_t k = rng() % 8 == 0 ? rng() % (nslots + 1) : nslots;  // some polls carry fewer
        for (size_t s = 0; s < k; ++s)
          v.push_back(all[(s + static_cast<size_t>(id)) % all.size()].value(i, rng));
        values.push_back(v);
        const bool none = rng() % 20 == 0;
        polls.push_back({id, t, none ? nullptr : &values.back()});
        want.push_back({id, t, none ? std::vector<double>{} : v});
      }
    }
    std::vector<log_batch::poll> shuffled = polls;
    std::shuffle(shuffled.begin(), shuffled.end(), rng);
    std::string bytes;
    log_batch::encode(shuffled, bytes);
    INFO("round " << round << ", " << ids.size() << " machines");
    const auto got = decode_batch(bytes);
    REQUIRE(got.size() == want.size());
    for (size_t i = 0; i < want.size(); ++i) {
      CHECK(got[i].machine == want[i].machine);
      CHECK(got[i].ts == want[i].ts);
      REQUIRE(got[i].values.size() >= want[i].values.size());
      for (size_t s = 0; s < got[i].values.size(); ++s)
        CHECK(same_value(s < want[i].values.size() ? want[i].values[s] : nan_v, got[i].values[s]));
    }
  }
}

TEST_CASE("the documented log batch is encoded byte for byte", "[chunk][log_batch]") {
  // docs/STORAGE-FORMAT.md, "Log batch": machine 3 polled once, machine 7
  // once with a value missing, machine 9 twice.
  const std::vector<double> m3 = {2, 245.3}, m7 = {1.5, nan_v}, m9a = {1}, m9b = {2};
  std::string bytes;
  log_batch::encode({{7, t0 + 250, &m7}, {9, t0 + 680, &m9b}, {3, t0 + 100, &m3}, {9, t0 + 180, &m9a}},
                    bytes);
  CHECK(hex(bytes) == "4c 02 c8 a1 d5 ed ee 66 03"
                      " 03 00 08 20 d1 b2 02"
                      " 03 ac 02 06 f1 01 06"
                      " 01 8b 01 1d 01 02 01 00 e8 07 00 06 01 00 00 02 01 02");
  const auto got = decode_batch(bytes);
  REQUIRE(got.size() == 4);
  CHECK(got[0].machine == 3);
  CHECK(got[0].ts == t0 + 100);
  CHECK(got[0].values == m3);
  CHECK(got[1].machine == 7);
  CHECK(got[1].ts == t0 + 250);
  CHECK(got[2].ts == t0 + 180);
  CHECK(got[2].values == m9a);
  CHECK(got[3].ts == t0 + 680);
  CHECK(got[3].values == m9b);
}

TEST_CASE("a log batch refuses other versions and machine ids that wrap", "[chunk][log_batch][malformed]") {
  const std::vector<double> v = {1};
  std::string good;
  log_batch::encode({{5, t0, &v}}, good);
  log_batch::view b;
  REQUIRE(b.parse(good.data(), good.size()));
  for (unsigned char version : {0, 1, 3, 255}) {
    std::string other = good;
    other[1] = static_cast<char>(version);
    CHECK_FALSE(b.parse(other.data(), other.size()));
  }
  // 'L' 2, base 0, 2 entries: machine 2^63 - 1, then a gap of 0 (would be 2^63).
  const unsigned char wrap[] = {'L', 2, 0, 2,
                                0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f, 0, 0,
                                0, 0, 0};
  CHECK_FALSE(b.parse(wrap, sizeof wrap));
  const unsigned char last_ok[] = {'L', 2, 0, 1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f, 0, 0};
  REQUIRE(b.parse(last_ok, sizeof last_ok));
  CHECK(b.entries()[0].machine_id == std::numeric_limits<int64_t>::max());
  chunk::view c;
  CHECK_FALSE(b.entry_polls(1, c));
}

namespace {

// One commit of `machines` machines polled once each, 1 ms apart by id, with
// the values of a line: counters, 1- and 2-decimal readings, a setpoint, a
// 3-decimal ratio and a state flag.
std::string one_poll_batch(size_t machines, std::mt19937_64& rng, size_t& samples) {
  std::uniform_real_distribution<double> u(0, 1);
  std::vector<std::vector<double>> values(machines);
  std::vector<log_batch::poll> polls;
  samples = 0;
  for (size_t i = 0; i < machines; ++i) {
    values[i] = {double(12000 + rng() % 50000), double(rng() % 1000), round_to(245.3 + u(rng) - 0.5, 10),
                 round_to(35 + u(rng), 10), round_to(5.2 + u(rng), 100), 250, round_to(0.9 + u(rng) * 0.05, 1000),
                 double(rng() % 2)};
    samples += values[i].size();
    polls.push_back({static_cast<int64_t>(i), t0 + static_cast<int64_t>(i) + static_cast<int64_t>(rng() % 7),
                     &values[i]});
  }
  std::string bytes;
  log_batch::encode(polls, bytes);
  return bytes;
}

} // namespace

TEST_CASE("a commit of 500 machines with one poll each costs 2.5 bytes a sample", "[chunk][log_batch][size]") {
  // Values 3+2+3+2+2+2+2+1 = 17 bytes, 3 bytes of entry: 20 bytes for 8
  // samples (fewer where a reading happens to be small), and the batch header
  // (10 bytes) spread over all.
  std::mt19937_64 rng(13);
  size_t samples = 0;
  const std::string bytes = one_poll_batch(500, rng, samples);
  const double per_sample = static_cast<double>(bytes.size()) / static_cast<double>(samples);
  INFO(bytes.size() << " bytes for " << samples << " samples: " << per_sample << " bytes a sample");
  CHECK(per_sample <= 2.5);
}

TEST_CASE("a machine's entry costs 3 bytes besides its values when ids and times are close", "[chunk][log_batch][size]") {
  std::vector<log_batch::poll> polls;
  for (int64_t id = 0; id < 500; ++id)
    polls.push_back({id * 2, t0 + id + (id % 7), nullptr});  // every other machine, 1 ms apart ±
  std::string bytes;
  log_batch::encode(polls, bytes);
  const size_t header = 2 + 6 + 2;  // 'L' version | base | m = 500
  CHECK(bytes.size() == header + 3 * 500);
}
