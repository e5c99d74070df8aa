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
