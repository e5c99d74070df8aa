#include "storage/codec.hpp"

#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>
#include <limits>
#include <string>

using namespace edgemes::storage;

namespace {

std::string encode(const std::vector<double>& v) {
  std::string out;
  encode_values(v, out);
  return out;
}

bool slot_of(const std::string& text, int slot, double& v) {
  return decode_slot(text.data(), text.size(), slot, v);
}

} // namespace

TEST_CASE("codec writes integers without a fraction and missing values as null", "[storage][codec]") {
  CHECK(encode({1523, 0.82, NAN, 245}) == "[1523,0.82,null,245]");
  CHECK(encode({}) == "[]");
  CHECK(encode({-3, 0}) == "[-3,0]");
  CHECK(encode({INFINITY, -INFINITY}) == "[null,null]");
}

TEST_CASE("codec appends to the buffer instead of replacing it", "[storage][codec]") {
  std::string out = "x";
  encode_values({1}, out);
  CHECK(out == "x[1]");
}

TEST_CASE("codec round-trips doubles exactly", "[storage][codec]") {
  const std::vector<double> values = {0.0,
                                      -0.0,
                                      1.0,
                                      -1.0,
                                      0.1,
                                      -2.5,
                                      1523.0,
                                      1e300,
                                      -1e-300,
                                      std::numeric_limits<double>::denorm_min(),
                                      std::numeric_limits<double>::min() / 3,
                                      std::numeric_limits<double>::max(),
                                      std::numeric_limits<double>::lowest(),
                                      123456789012345678.0,
                                      3.141592653589793};
  const std::string text = encode(values);
  for (size_t i = 0; i < values.size(); ++i) {
    double v = 12345;
    REQUIRE(slot_of(text, static_cast<int>(i), v));
    CHECK(std::memcmp(&v, &values[i], sizeof v) == 0);  // bit-exact, keeps -0
  }
  std::vector<double> all;
  REQUIRE(decode_all(text.data(), text.size(), all));
  REQUIRE(all.size() == values.size());
  for (size_t i = 0; i < values.size(); ++i)
    CHECK(std::memcmp(&all[i], &values[i], sizeof(double)) == 0);
}

TEST_CASE("codec decodes null as missing: decode_slot false, decode_all NaN", "[storage][codec]") {
  const std::string text = encode({1, NAN, 3});
  double v = 0;
  CHECK_FALSE(slot_of(text, 1, v));
  REQUIRE(slot_of(text, 2, v));
  CHECK(v == 3);
  std::vector<double> all;
  REQUIRE(decode_all(text.data(), text.size(), all));
  REQUIRE(all.size() == 3);
  CHECK(std::isnan(all[1]));
}

TEST_CASE("codec reports slots past the end or negative as absent", "[storage][codec]") {
  double v = 0;
  CHECK_FALSE(slot_of("[1,2]", 2, v));
  CHECK_FALSE(slot_of("[1,2]", 100, v));
  CHECK_FALSE(slot_of("[1,2]", -1, v));
  CHECK_FALSE(slot_of("[]", 0, v));
  std::vector<double> all{1, 2};
  CHECK(decode_all("[]", 2, all));
  CHECK(all.empty());
}

TEST_CASE("codec accepts JSON whitespace as the sqlite3 shell may write it", "[storage][codec]") {
  double v = 0;
  REQUIRE(slot_of(" [ 1 , null ,\n 2.5e1 ] ", 2, v));
  CHECK(v == 25);
}

TEST_CASE("codec rejects malformed text without reading past its end", "[storage][codec]") {
  const char* cases[] = {"",       "[",      "[1",    "[1,",     "1,2]",  "[1,,2]",  "[,1]",
                         "[abc]",  "[\"1\"]", "[[1]]", "[1 2]",   "[nul]", "[inf]",   "[nan]",
                         "[1e999]", "{}",    "[1,2",  "[null",   "[-]",   "[+1]",    "[1}"};
  for (const char* c : cases) {
    INFO("text: " << c);
    // A copy exactly the text's length on the heap: overreads show up under ASan.
    std::string text(c);
    std::vector<char> exact(text.begin(), text.end());
    const char* p = exact.empty() ? "" : exact.data();
    std::vector<double> all;
    CHECK_FALSE(decode_all(p, exact.size(), all));
    double v = 0;
    bool slot1 = decode_slot(p, exact.size(), 1, v);
    bool slot0 = decode_slot(p, exact.size(), 0, v);
    CHECK_FALSE((slot0 && slot1));
  }
  double v = 0;
  CHECK_FALSE(decode_slot(nullptr, 0, 0, v));
  CHECK_FALSE(decode_slot("[abc,1]", 7, 1, v));
  // Truncated in the middle of the text: only `size` bytes count.
  CHECK_FALSE(decode_slot("[1,2,3]", 4, 2, v));
  REQUIRE(decode_slot("[1,2,3]", 7, 2, v));
  CHECK(v == 3);
}

namespace {

slot_stats stats(int64_t count, double sum, double min, double max, double last) {
  slot_stats s;
  s.count = count;
  s.sum = sum;
  s.min = min;
  s.max = max;
  s.last = last;
  return s;
}

std::string encode_r(const bucket_stats& slots) {
  std::string out;
  encode_rollup(slots, out);
  return out;
}

} // namespace

TEST_CASE("codec writes a rollup element in its shortest form, null for none",
          "[storage][codec]") {
  CHECK(encode_r({stats(10, 15235.5, 1520.5, 1526, 1523.5), {}, stats(1, -0.0, -0.0, -0.0, -0.0)}) ==
        "[[10,15235.5,1520.5,1526,1523.5],null,[1,-0]]");
  // last = max: a counter; min = max = last: a value that held still.
  CHECK(encode_r({stats(10, 6510, 650, 652, 652), stats(10, 2500, 250, 250, 250)}) ==
        "[[10,6510,650,652],[10,2500,250]]");
  // Equal only as the same double: 0 and -0 keep the general form.
  CHECK(encode_r({stats(2, 0.0, -0.0, 0.0, -0.0), stats(2, 0.0, 0.0, 0.0, -0.0),
                  stats(1, 5, 5, 5, 5), stats(1, 5.5, 5, 5, 5)}) ==
        "[[2,0,-0,0,-0],[2,0,0,0,-0],[1,5],[1,5.5,5]]");
  CHECK(encode_r({}) == "[]");
}

TEST_CASE("codec reads every rollup form, and rows written before the short forms",
          "[storage][codec]") {
  const std::string text = "[[10,6510,650,652],[10,2500,250],[1,0.82],[3,6,1,3,2],null]";
  const slot_stats want[] = {stats(10, 6510, 650, 652, 652), stats(10, 2500, 250, 250, 250),
                             stats(1, 0.82, 0.82, 0.82, 0.82), stats(3, 6, 1, 3, 2)};
  for (int i = 0; i < 4; ++i) {
    INFO("slot " << i);
    slot_stats got;
    REQUIRE(decode_rollup_slot(text.data(), text.size(), i, got));
    CHECK(got.count == want[i].count);
    CHECK(got.sum == want[i].sum);
    CHECK(got.min == want[i].min);
    CHECK(got.max == want[i].max);
    CHECK(got.last == want[i].last);
    for (unsigned f : {rollup_sum, rollup_min, rollup_max, rollup_last}) {
      slot_stats one;
      REQUIRE(decode_rollup_slot(text.data(), text.size(), i, one, f));
      double g = f == rollup_sum ? one.sum : f == rollup_min ? one.min : f == rollup_max ? one.max : one.last;
      double w = f == rollup_sum ? want[i].sum : f == rollup_min ? want[i].min : f == rollup_max ? want[i].max : want[i].last;
      CHECK(g == w);
    }
  }
  bucket_stats all;
  REQUIRE(decode_rollup_all(text.data(), text.size(), all));
  REQUIRE(all.size() == 5);
  CHECK(all[4].count == 0);
  // The general form for everything (as rows of the first schema v2 builds) reads the same.
  const std::string old = "[[10,6510,650,652,652],[10,2500,250,250,250],[1,0.82,0.82,0.82,0.82]]";
  bucket_stats from_old;
  REQUIRE(decode_rollup_all(old.data(), old.size(), from_old));
  CHECK(encode_r(from_old) == "[[10,6510,650,652],[10,2500,250],[1,0.82]]");
  // [1,v] is for one value only.
  const char* two = "[[2,5]]";
  slot_stats st;
  CHECK_FALSE(decode_rollup_slot(two, std::strlen(two), 0, st));
}

TEST_CASE("codec round-trips rollups exactly and reads one slot without the others",
          "[storage][codec]") {
  const bucket_stats slots = {stats(3, 0.30000000000000004, 0.1, 0.1, 0.1), {},
                              stats(7, 1e300, -1e-300, 1e300, 3.141592653589793),
                              stats(int64_t{1} << 40, -2.5, -1.25, 0, -0.0)};
  const std::string text = encode_r(slots);
  for (size_t i = 0; i < slots.size(); ++i) {
    INFO("slot " << i);
    slot_stats got = stats(99, 9, 9, 9, 9);
    bool found = decode_rollup_slot(text.data(), text.size(), static_cast<int>(i), got);
    REQUIRE(found == (slots[i].count > 0));
    if (!found)
      continue;
    CHECK(got.count == slots[i].count);
    CHECK(std::memcmp(&got.sum, &slots[i].sum, sizeof(double)) == 0);
    CHECK(std::memcmp(&got.min, &slots[i].min, sizeof(double)) == 0);
    CHECK(std::memcmp(&got.max, &slots[i].max, sizeof(double)) == 0);
    CHECK(std::memcmp(&got.last, &slots[i].last, sizeof(double)) == 0);
  }
  slot_stats none;
  CHECK_FALSE(decode_rollup_slot(text.data(), text.size(), 4, none));
  CHECK_FALSE(decode_rollup_slot(text.data(), text.size(), -1, none));
  bucket_stats all;
  REQUIRE(decode_rollup_all(text.data(), text.size(), all));
  REQUIRE(all.size() == 4);
  CHECK(all[1].count == 0);
  CHECK(all[2].last == 3.141592653589793);
  CHECK(encode_r(all) == text);
}

TEST_CASE("codec rejects malformed rollups without reading past their end", "[storage][codec]") {
  const char* cases[] = {"",          "[",           "[[1,1,1,1,1]",  "[[1]]", "[[2,1]]", "[[1,.5]]", "[[1,+1]]",
                         "[[1,1,1,1,1,1]]", "[[0,1,1,1,1]]", "[[-1,1,1,1,1]]", "[[1.5,1,1,1,1]]",
                         "[[1,null,1,1,1]]", "[[1,1,1,1,inf]]", "[1]",   "[[1,1,1,1,1],]",
                         "[[1,1,1,1,1] [1,1,1,1,1]]", "[[1,1,1,1,1],nul]", "[[1,1,1,1,1],[1,1"};
  for (const char* c : cases) {
    INFO("text: " << c);
    std::string text(c);
    std::vector<char> exact(text.begin(), text.end());
    const char* p = exact.empty() ? "" : exact.data();
    bucket_stats all;
    CHECK_FALSE(decode_rollup_all(p, exact.size(), all));
    slot_stats st;
    bool slot1 = decode_rollup_slot(p, exact.size(), 1, st);
    bool slot0 = decode_rollup_slot(p, exact.size(), 0, st);
    CHECK_FALSE((slot0 && slot1));
  }
  slot_stats st;
  CHECK_FALSE(decode_rollup_slot(nullptr, 0, 0, st));
  const char* spaced = " [ null , [ 2 , 3 , 1 , 2 , 2 ] ] ";
  REQUIRE(decode_rollup_slot(spaced, std::strlen(spaced), 1, st));
  CHECK(st.count == 2);
  CHECK(st.sum == 3);
}

TEST_CASE("codec decodes only the rollup fields asked for, still checking the others' characters",
          "[storage][codec]") {
  const std::string text = "[null,[4,10.5,-1,7,2.25]]";
  slot_stats st;
  REQUIRE(decode_rollup_slot(text.data(), text.size(), 1, st, rollup_sum));
  CHECK(st.count == 4);
  CHECK(st.sum == 10.5);
  CHECK(st.min == 0);
  CHECK(st.last == 0);
  REQUIRE(decode_rollup_slot(text.data(), text.size(), 1, st, rollup_last));
  CHECK(st.last == 2.25);
  CHECK(st.sum == 0);
  REQUIRE(decode_rollup_slot(text.data(), text.size(), 1, st, 0));
  CHECK(st.count == 4);
  for (const char* bad : {"[[4,1,x,1,1]]", "[[4,1,,1,1]]", "[[4,1,null,1,1]]", "[[4,1,1,1,1"}) {
    INFO(bad);
    CHECK_FALSE(decode_rollup_slot(bad, std::strlen(bad), 0, st, rollup_sum));
  }
}
