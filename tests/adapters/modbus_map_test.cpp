// Tests for adapters/modbus_map.cpp: the decoder against byte patterns worked
// out by hand for every width and all four word/byte orders, the encoder as
// its inverse, the register-map rules (placement, overlaps) and the read
// planner (grouping, gaps, limits, values wider than a request).
#include "adapters/modbus_map.hpp"

#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>
#include <vector>

using namespace edgemes::adapters::modbus;

namespace {

struct pattern {
  const char* what;
  value_type type;
  order word, byte;
  std::vector<uint16_t> registers;  // in address order, as on the wire
  double value;
};

double bits_to_double(uint64_t bits) {
  double d;
  std::memcpy(&d, &bits, sizeof d);
  return d;
}
double bits_to_float(uint32_t bits) {
  float f;
  std::memcpy(&f, &bits, sizeof f);
  return f;
}

point at(table t, uint16_t address, value_type type) {
  point p;
  p.tbl = t;
  p.address = address;
  p.type = type;
  return p;
}

} // namespace

TEST_CASE("decode reads every width in all four word and byte orders", "[modbus]") {
  const auto B = order::big, L = order::little;
  const std::vector<pattern> cases{
      {"int16 -2", value_type::int16, B, B, {0xFFFE}, -2},
      {"int16 -2 bytes swapped", value_type::int16, B, L, {0xFEFF}, -2},
      {"int16 word order is ignored", value_type::int16, L, B, {0xFFFE}, -2},
      {"uint16 0x1234", value_type::uint16, B, B, {0x1234}, 0x1234},
      {"uint16 0x1234 bytes swapped", value_type::uint16, B, L, {0x3412}, 0x1234},
      {"int32 ABCD", value_type::int32, B, B, {0x1234, 0x5678}, 0x12345678},
      {"int32 CDAB", value_type::int32, L, B, {0x5678, 0x1234}, 0x12345678},
      {"int32 BADC", value_type::int32, B, L, {0x3412, 0x7856}, 0x12345678},
      {"int32 DCBA", value_type::int32, L, L, {0x7856, 0x3412}, 0x12345678},
      {"int32 -1", value_type::int32, B, B, {0xFFFF, 0xFFFF}, -1},
      {"int32 minimum", value_type::int32, B, B, {0x8000, 0x0000}, -2147483648.0},
      {"int32 minimum CDAB", value_type::int32, L, B, {0x0000, 0x8000}, -2147483648.0},
      {"uint32 maximum", value_type::uint32, B, B, {0xFFFF, 0xFFFF}, 4294967295.0},
      {"uint32 0x80000001 DCBA", value_type::uint32, L, L, {0x0100, 0x0080}, 2147483649.0},
      {"int64 ABCD...", value_type::int64, B, B, {0x0001, 0x0203, 0x0405, 0x0607}, 283686952306183.0},
      {"int64 word little", value_type::int64, L, B, {0x0607, 0x0405, 0x0203, 0x0001}, 283686952306183.0},
      {"int64 byte little", value_type::int64, B, L, {0x0100, 0x0302, 0x0504, 0x0706}, 283686952306183.0},
      {"int64 both little", value_type::int64, L, L, {0x0706, 0x0504, 0x0302, 0x0100}, 283686952306183.0},
      {"int64 -2", value_type::int64, B, B, {0xFFFF, 0xFFFF, 0xFFFF, 0xFFFE}, -2},
      {"int64 -2 word little", value_type::int64, L, B, {0xFFFE, 0xFFFF, 0xFFFF, 0xFFFF}, -2},
      {"float32 123.456 ABCD", value_type::float32, B, B, {0x42F6, 0xE979}, bits_to_float(0x42F6E979)},
      {"float32 123.456 CDAB", value_type::float32, L, B, {0xE979, 0x42F6}, bits_to_float(0x42F6E979)},
      {"float32 123.456 BADC", value_type::float32, B, L, {0xF642, 0x79E9}, bits_to_float(0x42F6E979)},
      {"float32 123.456 DCBA", value_type::float32, L, L, {0x79E9, 0xF642}, bits_to_float(0x42F6E979)},
      {"float32 -1.5", value_type::float32, B, B, {0xBFC0, 0x0000}, -1.5},
      {"float64 pi ABCD", value_type::float64, B, B, {0x4009, 0x21FB, 0x5444, 0x2D18},
       bits_to_double(0x400921FB54442D18)},
      {"float64 pi word little", value_type::float64, L, B, {0x2D18, 0x5444, 0x21FB, 0x4009},
       bits_to_double(0x400921FB54442D18)},
      {"float64 pi byte little", value_type::float64, B, L, {0x0940, 0xFB21, 0x4454, 0x182D},
       bits_to_double(0x400921FB54442D18)},
      {"float64 pi both little", value_type::float64, L, L, {0x182D, 0x4454, 0xFB21, 0x0940},
       bits_to_double(0x400921FB54442D18)},
      {"float64 1.0", value_type::float64, B, B, {0x3FF0, 0, 0, 0}, 1.0},
      {"bool set", value_type::boolean, B, B, {1}, 1.0},
      {"bool clear", value_type::boolean, B, B, {0}, 0.0},
  };
  for (const auto& c : cases) {
    INFO(c.what);
    REQUIRE(c.registers.size() == static_cast<size_t>(width(c.type)));
    CHECK(decode(c.registers.data(), c.type, c.word, c.byte) == c.value);
    std::vector<uint16_t> encoded(c.registers.size(), 0xAAAA);
    encode(c.value, c.type, c.word, c.byte, encoded.data());
    CHECK(encoded == c.registers);
  }
}

TEST_CASE("decode passes a float's NaN and infinity through for the adapter to judge", "[modbus]") {
  const uint16_t nan32[2] = {0x7FC0, 0x0000};
  const uint16_t inf32[2] = {0x7F80, 0x0000};
  CHECK(std::isnan(decode(nan32, value_type::float32, order::big, order::big)));
  CHECK(std::isinf(decode(inf32, value_type::float32, order::big, order::big)));
}

TEST_CASE("encode saturates integers to their type's range and rounds to nearest", "[modbus]") {
  uint16_t w[4];
  encode(70000, value_type::int16, order::big, order::big, w);
  CHECK(w[0] == 0x7FFF);
  encode(-5, value_type::uint16, order::big, order::big, w);
  CHECK(w[0] == 0);
  encode(2.6, value_type::uint32, order::big, order::big, w);
  CHECK(decode(w, value_type::uint32, order::big, order::big) == 3);
  encode(1e30, value_type::int64, order::big, order::big, w);
  CHECK(decode(w, value_type::int64, order::big, order::big) == 9223372036854775807.0);
}

TEST_CASE("scale and offset: value = raw * scale + offset, tenths divide exactly", "[modbus]") {
  point p;
  p.scale = 0.1;
  CHECK(p.apply(3) == 0.3);       // 3 * 0.1 would be 0.30000000000000004
  CHECK(p.apply(1484) == 148.4);
  p.scale = 0.0001;
  CHECK(p.apply(9731) == 0.9731);
  p.scale = 2;
  p.offset = -40;
  CHECK(p.apply(100) == 160);
  p.scale = 0.3;  // not a whole reciprocal: multiplied
  p.offset = 0;
  CHECK(p.apply(10) == 10 * 0.3);
}

TEST_CASE("names parse as the config writes them, and nothing else", "[modbus]") {
  CHECK(parse_table("holding") == table::holding);
  CHECK(parse_table("discrete") == table::discrete);
  CHECK_FALSE(parse_table("Holding"));
  CHECK(parse_type("float64") == value_type::float64);
  CHECK(parse_type("bool") == value_type::boolean);
  CHECK_FALSE(parse_type("uint64"));
  CHECK(parse_order("little") == order::little);
  CHECK_FALSE(parse_order("middle"));
  for (const auto& n : type_names())
    CHECK(name_of(*parse_type(n)) == n);
}

TEST_CASE("placement: bool only on bit tables, words only on register tables, nothing past 65535",
          "[modbus]") {
  CHECK(placement_problem(table::holding, 0, value_type::float64).empty());
  CHECK(placement_problem(table::coil, 65535, value_type::boolean).empty());
  CHECK(placement_problem(table::holding, 65532, value_type::float64).empty());
  CHECK(placement_problem(table::holding, 65533, value_type::float64) ==
        "float64 at 65533 needs registers 65533..65536, past the last address 65535");
  CHECK(placement_problem(table::input, 65535, value_type::int32).find("past the last address") !=
        std::string::npos);
  CHECK(placement_problem(table::holding, 4, value_type::boolean).find("bool reads a bit") == 0);
  CHECK(placement_problem(table::discrete, 4, value_type::uint16) ==
        "a discrete holds one bit: its type must be bool, not uint16");
  CHECK(placement_problem(table::holding, 65536, value_type::uint16).find("between 0 and 65535") !=
        std::string::npos);
}

TEST_CASE("overlaps: registers shared by two values of one table, unless read alike", "[modbus]") {
  std::vector<point> points{at(table::holding, 100, value_type::int32),   // 100..101
                            at(table::holding, 101, value_type::uint16),  // inside it
                            at(table::input, 100, value_type::int32),     // another table
                            at(table::holding, 102, value_type::int32),   // adjacent, fine
                            at(table::holding, 100, value_type::int32),   // read alike: fine
                            at(table::holding, 96, value_type::float64)}; // 96..99: fine
  auto found = overlaps(points);
  REQUIRE(found.size() == 1);
  CHECK(found[0].earlier == 0);
  CHECK(found[0].later == 1);

  points.push_back(at(table::holding, 99, value_type::uint16));  // inside the float64
  points[4].word_order = order::little;                          // no longer read alike
  found = overlaps(points);
  REQUIRE(found.size() == 3);
  CHECK((found[0].earlier == 0 && found[0].later == 1));
  CHECK((found[1].earlier == 0 && found[1].later == 4));
  CHECK((found[2].earlier == 5 && found[2].later == 6));
  CHECK(overlaps({at(table::coil, 3, value_type::boolean), at(table::coil, 3, value_type::boolean)})
            .empty());
}

TEST_CASE("a 40-register machine is read in one request, in slots that decode each value",
          "[modbus][planner]") {
  std::vector<point> points;
  for (uint16_t a = 0; a < 40; a += 2)
    points.push_back(at(table::holding, static_cast<uint16_t>(1000 + a), value_type::float32));
  auto plan = plan_reads(points, 125, 8);
  REQUIRE(plan.groups.size() == 1);
  CHECK(plan.groups[0].tbl == table::holding);
  CHECK(plan.groups[0].start == 1000);
  CHECK(plan.groups[0].count == 40);
  CHECK(plan.slots == 40);
  for (size_t i = 0; i < points.size(); ++i)
    CHECK(plan.slot_of[i] == 2 * i);
  CHECK(describe(plan.groups[0]) == "holding 1000..1039");
}

TEST_CASE("the planner joins values across at most max_gap unused registers", "[modbus][planner]") {
  // uint16 at 0 and at 10: registers 1..9 (nine) lie between them.
  const std::vector<point> points{at(table::holding, 10, value_type::uint16),
                                  at(table::holding, 0, value_type::uint16)};
  auto apart = plan_reads(points, 125, 8);
  REQUIRE(apart.groups.size() == 2);
  CHECK(apart.groups[0].start == 0);
  CHECK(apart.groups[1].start == 10);
  CHECK(apart.slot_of[0] == 1);  // config order kept in slot_of, address order in groups
  CHECK(apart.slot_of[1] == 0);

  auto joined = plan_reads(points, 125, 9);
  REQUIRE(joined.groups.size() == 1);
  CHECK(joined.groups[0].count == 11);
  CHECK(joined.slot_of[0] == 10);
  CHECK(joined.slot_of[1] == 0);
}

TEST_CASE("the planner keeps each request within max_registers_per_read and tables apart",
          "[modbus][planner]") {
  std::vector<point> points;
  for (uint16_t a = 0; a < 130; ++a)
    points.push_back(at(table::input, a, value_type::int16));
  points.push_back(at(table::holding, 0, value_type::int16));
  auto plan = plan_reads(points, 125, 8);
  REQUIRE(plan.groups.size() == 3);
  CHECK((plan.groups[0].tbl == table::input && plan.groups[0].start == 0 && plan.groups[0].count == 125));
  CHECK((plan.groups[1].tbl == table::input && plan.groups[1].start == 125 && plan.groups[1].count == 5));
  CHECK((plan.groups[2].tbl == table::holding && plan.groups[2].start == 0 && plan.groups[2].count == 1));

  auto tens = plan_reads(points, 10, 8);
  CHECK(tens.groups.size() == 14);  // 13 input requests (130 / 10) and one holding
  for (const auto& g : tens.groups)
    CHECK(g.count <= 10);
}

TEST_CASE("a value wider than one request is read by consecutive requests into consecutive slots",
          "[modbus][planner]") {
  const std::vector<point> points{at(table::holding, 20, value_type::float64),
                                  at(table::holding, 24, value_type::uint16)};
  auto plan = plan_reads(points, 1, 8);
  REQUIRE(plan.groups.size() == 5);
  for (uint16_t i = 0; i < 5; ++i) {
    CHECK(plan.groups[i].start == 20 + i);
    CHECK(plan.groups[i].count == 1);
    CHECK(plan.groups[i].slot == i);
  }
  CHECK(plan.slot_of[0] == 0);
  CHECK(plan.slot_of[1] == 4);
}

TEST_CASE("bits are grouped up to 16 per allowed register, at most the protocol's 2000",
          "[modbus][planner]") {
  std::vector<point> points;
  for (uint16_t a = 0; a <= 2000; ++a)
    points.push_back(at(table::coil, a, value_type::boolean));
  CHECK(max_bits_per_read(125) == 2000);
  CHECK(max_bits_per_read(1) == 16);
  auto plan = plan_reads(points, 125, 0);
  REQUIRE(plan.groups.size() == 2);
  CHECK(plan.groups[0].count == 2000);
  CHECK(plan.groups[1].start == 2000);
  CHECK(plan_reads(points, 1, 0).groups.size() == 126);  // 2001 bits, 16 a request
}
